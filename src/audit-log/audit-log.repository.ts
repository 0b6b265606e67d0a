import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { crashPoint } from '../common/crash-points';
import { AuditEntry, AuditEntryInput, chainHashHex, normalizeData } from './audit-entry';

interface Row {
  seq: string | number;
  at: string;
  event: string;
  actor_type: AuditEntry['actor']['type'];
  actor_id: string;
  actor_name: string;
  tenant_id: string | null;
  action_id: string | null;
  subject: string | null;
  request_id: string;
  data: Record<string, unknown>;
  /** Hex (encoded by the database). */
  prev_hash: string;
  hash: string;
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  actor?: string;
  tenantId?: string;
  event?: string;
  actionId?: string;
}

const COLUMNS = 'seq, at, event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data, prev_hash, hash';
/**
 * `at` is read as the exact text `Date.toISOString()` gives (it is stored to the millisecond): it is what
 * the hash covers, and formatting it in SQL is much faster than parsing a Date per row when verify or
 * export reads millions of rows.
 */
const utcText = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const AT_TEXT = utcText('at');
const SELECT_COLUMNS = COLUMNS.replace('at,', `${AT_TEXT} AS at,`).replace(
  'prev_hash, hash',
  `encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash`,
);
/** What verify needs of an entry (see AuditLogRepository.chainLinks). */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  before: string;
  data: Record<string, unknown>;
  after: string;
}

const json = (column: string) => `coalesce(to_json(${column})::text, 'null')`;
const CHAIN_LINK_COLUMNS = `seq, encode(prev_hash, 'hex') AS "prevHash", encode(hash, 'hex') AS hash,
  '{"actionId":' || ${json('action_id')} || ',"actor":{"id":' || ${json('actor_id')} || ',"name":' || ${json('actor_name')}
    || ',"type":' || ${json('actor_type')} || '},"at":"' || ${AT_TEXT} || '","data":' AS before,
  data,
  ',"event":' || ${json('event')} || ',"requestId":' || ${json('request_id')} || ',"seq":' || seq
    || ',"subject":' || ${json('subject')} || ',"tenantId":' || ${json('tenant_id')} || '}' AS after`;

/**
 * One export line per entry, formatted by the database (on its own CPU, while Node only concatenates):
 * the entry as the API shows it, as compact JSON; `data` keeps jsonb's own spacing.
 */
const NDJSON_LINE = `row_to_json(e)::text FROM (SELECT seq, ${AT_TEXT} AS at,
  json_build_object('type', actor_type, 'id', actor_id, 'name', actor_name) AS actor, event, tenant_id AS "tenantId",
  action_id AS "actionId", subject, request_id AS "requestId", data, encode(hash, 'hex') AS hash, encode(prev_hash, 'hex') AS "prevHash"`;

type PendingRow = Omit<Row, 'seq' | 'prev_hash' | 'hash'> & { id: string | number };

/** The fields of a row of either table, as an entry has them (without seq and hashes). */
function entryFields(row: Omit<Row, 'seq' | 'prev_hash' | 'hash'>): Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'> {
  return {
    at: row.at,
    event: row.event,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    tenantId: row.tenant_id,
    actionId: row.action_id,
    subject: row.subject,
    requestId: row.request_id,
    data: row.data,
  };
}

function fromInput(input: AuditEntryInput): Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'at'> {
  return {
    event: input.event,
    actor: { type: input.actor.type, id: input.actor.id, name: input.actor.name },
    tenantId: input.tenantId ?? null,
    actionId: input.actionId ?? null,
    subject: input.subject ?? null,
    requestId: input.requestId,
    data: normalizeData(input.data),
  };
}

function toEntry(row: Row): AuditEntry {
  return { seq: Number(row.seq), ...entryFields(row), prevHash: row.prev_hash, hash: row.hash };
}

function where(filter: AuditFilter, params: unknown[]): string[] {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.since) add('at >= ?', filter.since);
  if (filter.until) add('at < ?', filter.until);
  if (filter.actor) add('actor_id = ?', filter.actor);
  if (filter.tenantId) add('tenant_id = ?', filter.tenantId);
  if (filter.event) add('event = ?', filter.event);
  if (filter.actionId) add('action_id = ?', filter.actionId);
  return clauses;
}

/** An entry to append from inside a caller's statement, only if `onlyIf` (SQL over that statement) holds. */
export interface StatementEntry {
  entry: AuditEntryInput;
  onlyIf?: string;
}

/**
 * The INSERT that appends `entries` to audit_pending, in order, with one `at` (the statement's time, to
 * the millisecond) — usable alone or as a part of a caller's data-modifying CTE, so that a change and
 * its entries commit together in one statement. Parameters are pushed onto `params`. Ids follow the
 * entries' order: the sealer (ordering by at, id) keeps the caller's order.
 */
export function pendingInsert(entries: StatementEntry[], params: unknown[]): string {
  const rows = entries.map(({ entry, onlyIf }, ord) => {
    params.push(
      entry.event,
      entry.actor.type,
      entry.actor.id,
      entry.actor.name,
      entry.tenantId ?? null,
      entry.actionId ?? null,
      entry.subject ?? null,
      entry.requestId,
      JSON.stringify(normalizeData(entry.data)),
    );
    const base = params.length - 9;
    const values = Array.from({ length: 9 }, (_, n) => `$${base + n + 1}${n === 8 ? '::jsonb' : n >= 4 && n <= 5 ? '::uuid' : '::text'}`);
    return `(${values.join(', ')}, ${ord}, ${onlyIf ?? 'true'})`;
  });
  return `INSERT INTO audit_pending (event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data, at)
    SELECT event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data, date_trunc('milliseconds', statement_timestamp())
      FROM (VALUES ${rows.join(', ')}) AS e(event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data, ord, wanted)
     WHERE wanted ORDER BY ord`;
}

@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends inside the caller's transaction without waiting for other writers: the entry goes to
   * audit_pending and commits (or rolls back) with the caller's change. The sealer chains it later.
   * `at` is the database clock now. Answers the pending id.
   */
  async appendPending(manager: EntityManager, input: AuditEntryInput): Promise<string> {
    return (await this.appendPendingMany(manager, [input]))[0];
  }

  /** Several entries in order, in one statement; answers their pending ids. */
  async appendPendingMany(manager: EntityManager, inputs: AuditEntryInput[]): Promise<string[]> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('audit entries are appended inside a transaction');
    if (inputs.length === 0) return [];
    const params: unknown[] = [];
    const inserted: Array<{ id: string | number }> = await manager.query(
      `${pendingInsert(
        inputs.map((entry) => ({ entry })),
        params,
      )} RETURNING id`,
      params,
    );
    return inserted.map((r) => String(r.id));
  }

  /**
   * Seals up to `limit` committed pending entries into the chain, oldest first, in one transaction:
   * locks the chain head (sealers of every process take turns), assigns seq, chains the hashes,
   * inserts the entries and deletes their pending rows. Answers how many were sealed.
   */
  async seal(limit: number): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const head = await this.lockHead(manager);
      // read after the lock: every entry committed before it is visible, none can be sealed twice
      const rows: PendingRow[] = await manager.query(
        `SELECT id, ${AT_TEXT} AS at, event, actor_type, actor_id, actor_name, tenant_id, action_id, subject, request_id, data
           FROM audit_pending ORDER BY at, id LIMIT $1`,
        [limit],
      );
      if (rows.length === 0) return 0;
      const entries = this.chain(head, rows.map(entryFields));
      const pendingIds = rows.map((r) => String(r.id));
      // the chained entries in and the head moved on in one statement; then the pending rows out (their
      // delete trigger checks that each is in the chain, which a part of the same statement cannot see)
      const params: unknown[] = [];
      const values = this.chainedValues(entries, pendingIds, params);
      params.push(head.seq + entries.length, Buffer.from(entries[entries.length - 1].hash, 'hex'));
      await manager.query(
        `WITH sealed AS (INSERT INTO audit_log (${COLUMNS}, pending_id) VALUES ${values})
         UPDATE audit_chain_head SET seq = $${params.length - 1}, hash = $${params.length} WHERE id`,
        params,
      );
      await manager.query('DELETE FROM audit_pending WHERE id = ANY($1::bigint[])', [pendingIds]);
      crashPoint(
        'audit.sealing',
        rows.map((r) => r.tenant_id),
      );
      return rows.length;
    });
  }

  /** How many entries wait to be sealed. */
  async pendingCount(): Promise<number> {
    const [row] = await this.dataSource.query('SELECT count(*)::int AS n FROM audit_pending');
    return Number(row.n);
  }

  /** The chained entry a pending entry became, once sealed. */
  async sealedFrom(pendingId: string): Promise<AuditEntry | undefined> {
    const rows: Row[] = await this.dataSource.query(`SELECT ${SELECT_COLUMNS} FROM audit_log WHERE pending_id = $1`, [pendingId]);
    return rows.length ? toEntry(rows[0]) : undefined;
  }

  /**
   * Bulk load straight into the chain inside the caller's transaction, holding the head lock until it
   * ends (benchmarks and tests that need a large log fast). Services use appendPending.
   */
  async appendMany(manager: EntityManager, inputs: AuditEntryInput[]): Promise<AuditEntry[]> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('audit entries are appended inside a transaction');
    const head = await this.lockHead(manager);
    const at = head.now;
    const entries = this.chain(
      head,
      inputs.map((input) => ({ ...fromInput(input), at })),
    );
    await this.insertChained(manager, entries);
    await this.moveHead(manager, entries);
    return entries;
  }

  private async lockHead(manager: EntityManager): Promise<{ seq: number; hash: string; now: string }> {
    const [head] = await manager.query(
      `SELECT seq, encode(hash, 'hex') AS hash, ${utcText("date_trunc('milliseconds', clock_timestamp())")} AS now FROM audit_chain_head WHERE id FOR UPDATE`,
    );
    return { seq: Number(head.seq), hash: head.hash, now: head.now };
  }

  private chain(head: { seq: number; hash: string }, fields: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>[]): AuditEntry[] {
    let seq = head.seq;
    let prevHash = head.hash;
    return fields.map((f) => {
      const hashed = { ...f, seq: ++seq };
      const entry = { ...hashed, prevHash, hash: chainHashHex(prevHash, hashed) };
      prevHash = entry.hash;
      return entry;
    });
  }

  /** Multi-row inserts of 1,000 entries. */
  private async insertChained(manager: EntityManager, entries: AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 1000) {
      const params: unknown[] = [];
      const values = this.chainedValues(entries.slice(i, i + 1000), [], params);
      await manager.query(`INSERT INTO audit_log (${COLUMNS}, pending_id) VALUES ${values}`, params);
    }
  }

  /** The VALUES rows of chained entries, parameters pushed onto `params`; `pendingIds[i]` links entry i to its pending row, if any. */
  private chainedValues(entries: AuditEntry[], pendingIds: string[], params: unknown[]): string {
    return entries
      .map((e, k) => {
        params.push(
          e.seq,
          e.at,
          e.event,
          e.actor.type,
          e.actor.id,
          e.actor.name,
          e.tenantId,
          e.actionId,
          e.subject,
          e.requestId,
          JSON.stringify(e.data),
          Buffer.from(e.prevHash, 'hex'),
          Buffer.from(e.hash, 'hex'),
          pendingIds[k] ?? null,
        );
        const base = params.length - 14;
        return `(${Array.from({ length: 14 }, (_, n) => `$${base + n + 1}`).join(', ')})`;
      })
      .join(', ');
  }

  private async moveHead(manager: EntityManager, entries: AuditEntry[]): Promise<void> {
    const last = entries[entries.length - 1];
    if (last) await manager.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id', [last.seq, Buffer.from(last.hash, 'hex')]);
  }

  /** Chronological page: entries after `afterSeq` matching the filter. */
  async page(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const params: unknown[] = [afterSeq];
    const clauses = ['seq > $1', ...where(filter, params)];
    params.push(limit);
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${SELECT_COLUMNS} FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }

  /**
   * Entries with from ≤ seq ≤ to, in seq order, in keyset batches (memory stays flat). The next batch
   * is fetched while the caller works on the current one.
   */
  range(from: number, to: number, batchSize = 5000, filter: AuditFilter = {}): AsyncGenerator<AuditEntry[]> {
    return this.walk(
      from,
      to,
      batchSize,
      filter,
      SELECT_COLUMNS,
      (rows: Row[]) => rows.map(toEntry),
      (e) => e.seq,
    );
  }

  /**
   * The same walk for verify: per entry, its hashes and its canonical JSON as three parts — the text
   * before `data` and after it, written by the database with the same escaping as JSON.stringify (only
   * `"`, `\\` and control characters), and `data` itself, which Node puts in canonical form.
   */
  chainLinks(from: number, to: number, batchSize = 5000): AsyncGenerator<ChainLink[]> {
    return this.walk(
      from,
      to,
      batchSize,
      {},
      CHAIN_LINK_COLUMNS,
      (rows: ChainLink[]) => rows.map((r) => ({ ...r, seq: Number(r.seq) })),
      (l) => l.seq,
    );
  }

  /** The same walk, each entry as one NDJSON line (with its newline) formatted by the database. */
  ndjsonRange(from: number, to: number, batchSize = 5000, filter: AuditFilter = {}): AsyncGenerator<Array<{ seq: number; line: string }>> {
    return this.walk(
      from,
      to,
      batchSize,
      filter,
      `seq, ${NDJSON_LINE}`,
      (rows: Array<{ seq: string; row_to_json: string }>) => rows.map((r) => ({ seq: Number(r.seq), line: r.row_to_json + '\n' })),
      (e) => e.seq,
      true,
    );
  }

  private async *walk<R, T>(
    from: number,
    to: number,
    batchSize: number,
    filter: AuditFilter,
    select: string,
    convert: (rows: R[]) => T[],
    seqOf: (item: T) => number,
    subselect = false,
  ): AsyncGenerator<T[]> {
    const fetchAfter = async (after: number): Promise<T[]> => {
      const params: unknown[] = [after, to];
      const clauses = ['seq > $1', 'seq <= $2', ...where(filter, params)];
      params.push(batchSize);
      const tail = `FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT $${params.length}`;
      // the NDJSON select wraps the filtered rows in a subselect that row_to_json turns into one object each
      const sql = subselect ? `SELECT ${select} ${tail}) e ORDER BY seq` : `SELECT ${select} ${tail}`;
      return convert(await this.dataSource.query(sql, params));
    };
    let pending: Promise<T[]> | undefined = fetchAfter(from - 1);
    while (pending) {
      const batch: T[] = await pending;
      if (batch.length === 0) return;
      pending = batch.length === batchSize ? fetchAfter(seqOf(batch[batch.length - 1])) : undefined;
      // a consumer that stops early leaves at most one batch in flight; swallow its failure
      pending?.catch(() => undefined);
      yield batch;
    }
  }

  /** The chain head; the hash in hex. */
  async head(): Promise<{ seq: number; hash: string }> {
    const [row] = await this.dataSource.query(`SELECT seq, encode(hash, 'hex') AS hash FROM audit_chain_head WHERE id`);
    return { seq: Number(row.seq), hash: row.hash };
  }

  async hashAt(seq: number): Promise<string | undefined> {
    const [row] = await this.dataSource.query(`SELECT encode(hash, 'hex') AS hash FROM audit_log WHERE seq = $1`, [seq]);
    return row?.hash;
  }

  /** Whether any entry waits to be sealed (cheap, no lock). */
  async anyPending(): Promise<boolean> {
    return (await this.dataSource.query('SELECT 1 FROM audit_pending LIMIT 1')).length > 0;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
