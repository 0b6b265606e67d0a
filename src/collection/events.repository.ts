import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, type EntityManager } from 'typeorm';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { countRows } from '../database/written-rows';
import { EventEntity } from './collection.entity';
import type { StreamKey } from './collection.repository';
import type { NormalizedEvent, StoreOutcome } from './collector';

export interface EventFilter {
  tenantIds: string[] | null;
  source?: string;
  workload?: string;
  operation?: string;
  user?: string;
  ip?: string;
  since?: string;
  until?: string;
}

/** Rows per COPY chunk handed to the socket (the COPY itself carries the whole batch). */
const COPY_ROWS_PER_CHUNK = 200;
/** Rows per multi-row INSERT: large enough to amortize round trips, small enough to bound a statement's memory. */
const INSERT_BATCH = 1000;

/** What an insert stored, and the newest record time of the batch (null for an empty one). */
export type InsertOutcome = StoreOutcome & { newest: Date | null };

/**
 * The SQL of the events table: keyset reads, newest first on (occurred_at, id) so a page is an index
 * range; the insert of collected batches, deduplicated on (tenant, source, record id); retention.
 * Only EventStore writes through it.
 */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  page(filter: EventFilter, limit: number, before?: { occurredAt: string; id: string }): Promise<EventEntity[]> {
    const q = this.dataSource.getRepository(EventEntity).createQueryBuilder('e').orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').limit(limit);
    if (filter.tenantIds)
      q.andWhere('e.tenant_id IN (:...tenantIds)', { tenantIds: filter.tenantIds.length ? filter.tenantIds : ['00000000-0000-0000-0000-000000000000'] });
    if (filter.source) q.andWhere('e.source = :source', { source: filter.source });
    if (filter.workload) q.andWhere('e.workload = :workload', { workload: filter.workload });
    if (filter.operation) q.andWhere('e.operation = :operation', { operation: filter.operation });
    if (filter.user) q.andWhere('e.user_id = :user', { user: filter.user.toLowerCase() });
    if (filter.ip) q.andWhere('e.client_ip = CAST(:ip AS inet)', { ip: filter.ip });
    if (filter.since) q.andWhere('e.occurred_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('e.occurred_at < :until', { until: filter.until });
    // A row comparison, so the (…, occurred_at, id) indexes serve it as one range.
    if (before) q.andWhere('(e.occurred_at, e.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', { at: before.occurredAt, id: before.id });
    return q.getMany();
  }

  /**
   * Inserts a batch in the manager's transaction, skipping records already stored (Microsoft delivers
   * duplicates; the key is tenant, source, record id). On PostgreSQL (a node-postgres connection) the
   * rows go through COPY, which is faster there (bench/RESULTS.md, ingest); on embedded PGlite, which
   * offers no node-postgres connection to stream COPY through, in multi-row INSERTs.
   */
  async insert(manager: EntityManager, key: StreamKey, events: NormalizedEvent[]): Promise<InsertOutcome> {
    let newest: Date | null = null;
    for (const e of events) if (!newest || e.occurredAt > newest) newest = e.occurredAt;
    if (events.length === 0) return { inserted: 0, duplicates: 0, newest };
    const client = await postgresClientOf(manager);
    const inserted = client ? await this.copyRows(client, key, events) : await this.insertRows(manager, key, events);
    return { inserted, duplicates: events.length - inserted, newest };
  }

  /** Deletes up to `limit` events older than `before`; answers how many. */
  async deleteBefore(before: Date, limit: number): Promise<number> {
    const rows: unknown = await this.dataSource.query(
      `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2) RETURNING 1`,
      [before, limit],
    );
    return countRows(rows);
  }

  /**
   * COPY cannot skip conflicts, so the rows go to a session-local staging table first (emptied at
   * every commit), then into `events` with ON CONFLICT DO NOTHING.
   */
  private async copyRows(client: Client, key: StreamKey, events: NormalizedEvent[]): Promise<number> {
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS events_staging (
         record_id text, occurred_at timestamptz, workload text, record_type integer, operation text, result_status text,
         user_id text, user_type integer, client_ip inet, object_id text, raw jsonb
       ) ON COMMIT DELETE ROWS`,
    );
    await pipeline(
      Readable.from(copyChunks(events)),
      client.query(
        copyFrom(
          'COPY events_staging (record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw) FROM STDIN',
        ),
      ),
    );
    // Taken out of the staging table as they go in, so a second batch in the same transaction starts empty.
    const result = await client.query(
      `WITH staged AS (DELETE FROM events_staging RETURNING *)
       INSERT INTO events (tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw)
       SELECT $1, $2, $3, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw FROM staged
       ON CONFLICT (tenant_id, source, record_id) DO NOTHING`,
      [key.tenantId, key.source, key.stream],
    );
    return result.rowCount ?? 0;
  }

  /** Multi-row statements (unnest of column arrays), INSERT_BATCH rows each. */
  private async insertRows(manager: EntityManager, key: StreamKey, events: NormalizedEvent[]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < events.length; i += INSERT_BATCH) {
      const batch = events.slice(i, i + INSERT_BATCH);
      const cols = {
        recordId: [] as string[],
        occurredAt: [] as string[],
        workload: [] as Array<string | null>,
        recordType: [] as Array<number | null>,
        operation: [] as Array<string | null>,
        resultStatus: [] as Array<string | null>,
        userId: [] as Array<string | null>,
        userType: [] as Array<number | null>,
        clientIp: [] as Array<string | null>,
        objectId: [] as Array<string | null>,
        raw: [] as string[],
      };
      for (const e of batch) {
        cols.recordId.push(e.recordId);
        cols.occurredAt.push(e.occurredAt.toISOString());
        cols.workload.push(e.workload);
        cols.recordType.push(e.recordType);
        cols.operation.push(e.operation);
        cols.resultStatus.push(e.resultStatus);
        cols.userId.push(e.userId);
        cols.userType.push(e.userType);
        cols.clientIp.push(e.clientIp);
        cols.objectId.push(e.objectId);
        cols.raw.push(e.raw);
      }
      const result: unknown = await manager.query(
        `INSERT INTO events (tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw)
         SELECT $1, $2, $3, r.record_id, r.occurred_at, r.workload, r.record_type, r.operation, r.result_status, r.user_id, r.user_type, r.client_ip::inet, r.object_id, r.raw::jsonb
           FROM unnest($4::text[], $5::timestamptz[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[], $14::text[])
             AS r (record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw)
         ON CONFLICT (tenant_id, source, record_id) DO NOTHING
         RETURNING 1`,
        [
          key.tenantId,
          key.source,
          key.stream,
          cols.recordId,
          cols.occurredAt,
          cols.workload,
          cols.recordType,
          cols.operation,
          cols.resultStatus,
          cols.userId,
          cols.userType,
          cols.clientIp,
          cols.objectId,
          cols.raw,
        ],
      );
      inserted += countRows(result);
    }
    return inserted;
  }
}

/** The node-postgres connection under a transaction's manager, or null (PGlite, or no transaction). */
async function postgresClientOf(manager: EntityManager): Promise<Client | null> {
  const runner = manager.queryRunner as PostgresQueryRunner | undefined;
  if (!runner?.isTransactionActive) return null;
  const connection: unknown = await runner.connect();
  return connection instanceof Client ? connection : null;
}

/** The batch in COPY's text format, a few hundred rows per chunk. */
function* copyChunks(events: NormalizedEvent[]): Generator<string> {
  let chunk = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    chunk += `${copyText(e.recordId)}\t${e.occurredAt.toISOString()}\t${copyText(e.workload)}\t${copyInt(e.recordType)}\t${copyText(e.operation)}\t${copyText(e.resultStatus)}\t${copyText(e.userId)}\t${copyInt(e.userType)}\t${copyText(e.clientIp)}\t${copyText(e.objectId)}\t${copyText(e.raw)}\n`;
    if ((i + 1) % COPY_ROWS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** COPY text format: `\N` is NULL; backslash, newline, carriage return and tab are escaped. */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : value;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function copyInt(value: number | null): string {
  return value === null ? '\\N' : String(value);
}
