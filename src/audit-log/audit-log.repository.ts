import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditEntryInput, chainHash, normalizeData } from './audit-entry';

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
  prev_hash: Buffer | Uint8Array;
  hash: Buffer | Uint8Array;
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
const SELECT_COLUMNS = COLUMNS.replace('at,', `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,`);

function toEntry(row: Row): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    event: row.event,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    tenantId: row.tenant_id,
    actionId: row.action_id,
    subject: row.subject,
    requestId: row.request_id,
    data: row.data,
    prevHash: Buffer.from(row.prev_hash),
    hash: Buffer.from(row.hash),
  };
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

@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends inside the caller's transaction. Locking the chain head serializes writers until that
   * transaction ends, so seq stays gap-free and every entry chains to the one committed before it.
   * `at` is the database clock, read after the lock so it never goes backwards along seq.
   */
  async append(manager: EntityManager, input: AuditEntryInput): Promise<AuditEntry> {
    const [entry] = await this.appendMany(manager, [input]);
    return entry;
  }

  /** Appends several entries in order with one lock, one multi-row insert per 1,000 entries. */
  async appendMany(manager: EntityManager, inputs: AuditEntryInput[]): Promise<AuditEntry[]> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('audit entries are appended inside a transaction');
    const [head] = await manager.query(
      `SELECT seq, hash, date_trunc('milliseconds', clock_timestamp()) AS at FROM audit_chain_head WHERE id FOR UPDATE`,
    );
    const at = (head.at as Date).toISOString();
    let seq = Number(head.seq);
    let prevHash = Buffer.from(head.hash);
    const entries = inputs.map((input) => {
      const fields = {
        seq: ++seq,
        at,
        event: input.event,
        actor: { type: input.actor.type, id: input.actor.id, name: input.actor.name },
        tenantId: input.tenantId ?? null,
        actionId: input.actionId ?? null,
        subject: input.subject ?? null,
        requestId: input.requestId,
        data: normalizeData(input.data),
      };
      const entry = { ...fields, prevHash, hash: chainHash(prevHash, fields) };
      prevHash = entry.hash;
      return entry;
    });
    for (let i = 0; i < entries.length; i += 1000) {
      const chunk = entries.slice(i, i + 1000);
      const params: unknown[] = [];
      const rows = chunk.map((e) => {
        params.push(e.seq, e.at, e.event, e.actor.type, e.actor.id, e.actor.name, e.tenantId, e.actionId, e.subject, e.requestId, JSON.stringify(e.data), e.prevHash, e.hash);
        const base = params.length - 13;
        return `(${Array.from({ length: 13 }, (_, k) => `$${base + k + 1}`).join(', ')})`;
      });
      await manager.query(`INSERT INTO audit_log (${COLUMNS}) VALUES ${rows.join(', ')}`, params);
    }
    if (entries.length > 0) await manager.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id', [seq, prevHash]);
    return entries;
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
  async *range(from: number, to: number, batchSize = 5000, filter: AuditFilter = {}): AsyncGenerator<AuditEntry[]> {
    const fetchAfter = async (after: number): Promise<AuditEntry[]> => {
      const params: unknown[] = [after, to];
      const clauses = ['seq > $1', 'seq <= $2', ...where(filter, params)];
      params.push(batchSize);
      const rows: Row[] = await this.dataSource.query(
        `SELECT ${SELECT_COLUMNS} FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEntry);
    };
    let pending: Promise<AuditEntry[]> | undefined = fetchAfter(from - 1);
    while (pending) {
      const batch: AuditEntry[] = await pending;
      if (batch.length === 0) return;
      pending = batch.length === batchSize ? fetchAfter(batch[batch.length - 1].seq) : undefined;
      // a consumer that stops early leaves at most one batch in flight; swallow its failure
      pending?.catch(() => undefined);
      yield batch;
    }
  }

  async head(): Promise<{ seq: number; hash: Buffer }> {
    const [row] = await this.dataSource.query('SELECT seq, hash FROM audit_chain_head WHERE id');
    return { seq: Number(row.seq), hash: Buffer.from(row.hash) };
  }

  async hashAt(seq: number): Promise<Buffer | undefined> {
    const [row] = await this.dataSource.query('SELECT hash FROM audit_log WHERE seq = $1', [seq]);
    return row ? Buffer.from(row.hash) : undefined;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
