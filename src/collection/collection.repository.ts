import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, MoreThanOrEqual } from 'typeorm';
import { countRows } from '../database/written-rows';
import type { StoreOutcome } from './collector';
import { CollectionGapEntity, CollectionRunEntity, CollectionStreamEntity, LedgerStatus, SubscriptionStatus } from './collection.entity';

export interface StreamKey {
  tenantId: string;
  source: string;
  stream: string;
}

/** SQL of the collection engine: streams, runs, gaps and the content ledger (the events table is EventsRepository's). */
@Injectable()
export class CollectionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Creates the rows of streams a tenant lacks (defaults: enabled, the configured interval). */
  /** Creates the streams a tenant does not have yet, enabled or not; existing ones keep their settings. */
  async ensureStreams(tenantId: string, source: string, streams: string[], intervalMinutes: number, enabled = true): Promise<void> {
    if (streams.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO collection_streams (tenant_id, source, stream, interval_minutes, enabled)
       SELECT $1, $2, s, $4, $5 FROM unnest($3::text[]) AS s
       ON CONFLICT (tenant_id, source, stream) DO NOTHING`,
      [tenantId, source, streams, intervalMinutes, enabled],
    );
  }

  streamsOf(tenantId: string): Promise<CollectionStreamEntity[]> {
    return this.dataSource.getRepository(CollectionStreamEntity).find({ where: { tenantId }, order: { source: 'ASC', stream: 'ASC' } });
  }

  findStream(key: StreamKey, manager?: EntityManager): Promise<CollectionStreamEntity | null> {
    return (manager ?? this.dataSource.manager)
      .getRepository(CollectionStreamEntity)
      .findOne({ where: { ...key }, ...(manager ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  async updateStream(key: StreamKey, changes: Partial<CollectionStreamEntity>, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource.manager).getRepository(CollectionStreamEntity).update({ ...key }, { ...changes, updatedAt: () => 'now()' });
  }

  /**
   * Enabled streams of enabled live tenants whose next run is due, claimed by moving their next run
   * one interval ahead (so replicas ticking together do not both enqueue them).
   */
  async claimDueStreams(now: Date): Promise<StreamKey[]> {
    const rows: Array<{ tenant_id: string; source: string; stream: string }> = await this.dataSource.query(
      `UPDATE collection_streams s
          SET next_run_at = $1::timestamptz + make_interval(mins => s.interval_minutes)
         FROM tenants t
        WHERE t.id = s.tenant_id AND t.enabled AND t.deleted_at IS NULL AND s.enabled AND s.next_run_at <= $1
        RETURNING s.tenant_id, s.source, s.stream`,
      [now],
    );
    return (Array.isArray(rows[0]) ? (rows[0] as typeof rows) : rows).map((r) => ({ tenantId: r.tenant_id, source: r.source, stream: r.stream }));
  }

  /**
   * Claims one stream's due run as the tick would (its next run moves one interval ahead), for a run
   * rescheduled after throttling; answers false when it was not due (the tick or a later schedule has it).
   */
  async claimDueStream(key: StreamKey, now: Date): Promise<boolean> {
    const rows: unknown = await this.dataSource.query(
      `UPDATE collection_streams s
          SET next_run_at = $4::timestamptz + make_interval(mins => s.interval_minutes)
        WHERE s.tenant_id = $1 AND s.source = $2 AND s.stream = $3 AND s.next_run_at <= $4
        RETURNING s.stream`,
      [key.tenantId, key.source, key.stream, now],
    );
    const list = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as unknown[]) : (rows as unknown[]);
    return Array.isArray(list) && list.length > 0;
  }

  async setSubscription(key: StreamKey, status: SubscriptionStatus, manager: EntityManager): Promise<SubscriptionStatus> {
    const before = await this.findStream(key, manager);
    await this.updateStream(key, { subscriptionStatus: status }, manager);
    return before?.subscriptionStatus ?? 'unknown';
  }

  /** Moves the cursor forward, never back. */
  async advanceCursor(key: StreamKey, to: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE collection_streams SET cursor = $4, updated_at = now()
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND (cursor IS NULL OR cursor < $4)`,
      [key.tenantId, key.source, key.stream, to],
    );
  }

  /** Raises the stream's newest record time (for lag), never lowers it. */
  async raiseNewest(manager: EntityManager, key: StreamKey, newest: Date): Promise<void> {
    await manager.query(
      `UPDATE collection_streams SET newest_record_at = $4 WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND (newest_record_at IS NULL OR newest_record_at < $4)`,
      [key.tenantId, key.source, key.stream, newest],
    );
  }

  async recordError(key: StreamKey, error: string | null): Promise<void> {
    await this.updateStream(key, error === null ? { lastError: null } : { lastError: error.slice(0, 2000), lastErrorAt: new Date() });
  }

  // --- the run lease

  /** Takes the stream's lease unless a live runner holds it; answers whether it did. */
  async claimLease(key: StreamKey, owner: string, seconds: number): Promise<boolean> {
    const result: unknown = await this.dataSource.query(
      `UPDATE collection_streams SET lease_owner = $4, lease_until = now() + make_interval(secs => $5)
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND (lease_until IS NULL OR lease_until < now())
        RETURNING 1`,
      [key.tenantId, key.source, key.stream, owner, seconds],
    );
    return countRows(result) === 1;
  }

  async renewLease(key: StreamKey, owner: string, seconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE collection_streams SET lease_until = now() + make_interval(secs => $5) WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND lease_owner = $4`,
      [key.tenantId, key.source, key.stream, owner, seconds],
    );
  }

  async releaseLease(key: StreamKey, owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE collection_streams SET lease_owner = NULL, lease_until = NULL WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND lease_owner = $4`,
      [key.tenantId, key.source, key.stream, owner],
    );
  }

  /** Runs still marked running when a new one holds the lease died with their process. */
  async failInterruptedRuns(key: StreamKey): Promise<void> {
    await this.dataSource.query(
      `UPDATE collection_runs SET status = 'failed', error = 'interrupted: the process running it stopped', finished_at = now()
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND status = 'running'`,
      [key.tenantId, key.source, key.stream],
    );
  }

  // --- runs

  startRun(key: StreamKey, trigger: CollectionRunEntity['trigger']): Promise<CollectionRunEntity> {
    const repository = this.dataSource.getRepository(CollectionRunEntity);
    return repository.save(repository.create({ ...key, trigger, status: 'running' }));
  }

  async finishRun(id: string, changes: Partial<CollectionRunEntity>): Promise<void> {
    await this.dataSource.getRepository(CollectionRunEntity).update({ id }, { ...changes, finishedAt: () => 'now()' });
  }

  lastRun(key: StreamKey): Promise<CollectionRunEntity | null> {
    return this.dataSource.getRepository(CollectionRunEntity).findOne({ where: { ...key }, order: { startedAt: 'DESC' } });
  }

  lastSucceededRun(key: StreamKey): Promise<CollectionRunEntity | null> {
    return this.dataSource.getRepository(CollectionRunEntity).findOne({ where: { ...key, status: 'succeeded' }, order: { startedAt: 'DESC' } });
  }

  // --- gaps and the ledger

  async insertGap(manager: EntityManager, gap: Omit<CollectionGapEntity, 'id' | 'detectedAt' | 'tenant'>): Promise<void> {
    await manager.getRepository(CollectionGapEntity).insert(gap);
  }

  recentGaps(key: StreamKey, limit: number): Promise<CollectionGapEntity[]> {
    return this.dataSource.getRepository(CollectionGapEntity).find({ where: { ...key }, order: { detectedAt: 'DESC' }, take: limit });
  }

  countGaps(key: StreamKey): Promise<number> {
    return this.dataSource.getRepository(CollectionGapEntity).count({ where: { ...key } });
  }

  countGapsSince(key: StreamKey, since: Date): Promise<number> {
    return this.dataSource.getRepository(CollectionGapEntity).count({ where: { ...key, detectedAt: MoreThanOrEqual(since) } });
  }

  /** Content ids already stored or reported as gaps (listed and failed ones are still to be fetched). */
  async handled(tenantId: string, source: string, contentIds: string[]): Promise<Set<string>> {
    if (contentIds.length === 0) return new Set();
    const rows: Array<{ content_id: string }> = await this.dataSource.query(
      `SELECT content_id FROM collection_ledger WHERE tenant_id = $1 AND source = $2 AND content_id = ANY($3::text[]) AND status IN ('done', 'gap')`,
      [tenantId, source, contentIds],
    );
    return new Set(rows.map((r) => r.content_id));
  }

  /** Records blobs as listed (an entry that exists keeps its status; one from before gets its stream). */
  async markListed(key: StreamKey, units: Array<{ unitId: string; createdAt: Date | null }>): Promise<void> {
    if (units.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO collection_ledger (tenant_id, source, stream, content_id, status, content_created, listed_at)
       SELECT $1, $2, $3, u.id, 'listed', u.created, now() FROM unnest($4::text[], $5::timestamptz[]) AS u (id, created)
       ON CONFLICT (tenant_id, source, content_id) DO UPDATE
         SET stream = COALESCE(collection_ledger.stream, EXCLUDED.stream), listed_at = COALESCE(collection_ledger.listed_at, EXCLUDED.listed_at),
             content_created = COALESCE(collection_ledger.content_created, EXCLUDED.content_created)`,
      [key.tenantId, key.source, key.stream, units.map((u) => u.unitId), units.map((u) => u.createdAt?.toISOString() ?? null)],
    );
  }

  async markLedger(
    manager: EntityManager,
    key: StreamKey,
    contentId: string,
    status: Exclude<LedgerStatus, 'listed'>,
    contentCreated: Date | null,
    stored?: StoreOutcome,
  ): Promise<number> {
    const rows: Array<{ attempts: number }> = await manager.query(
      `INSERT INTO collection_ledger (tenant_id, source, stream, content_id, status, attempts, content_created, listed_at, records, duplicates)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'failed' THEN 1 ELSE 0 END, $6, now(), $7, $8)
       ON CONFLICT (tenant_id, source, content_id) DO UPDATE
         SET status = EXCLUDED.status, updated_at = now(),
             stream = COALESCE(collection_ledger.stream, EXCLUDED.stream), listed_at = COALESCE(collection_ledger.listed_at, EXCLUDED.listed_at),
             records = COALESCE(EXCLUDED.records, collection_ledger.records), duplicates = COALESCE(EXCLUDED.duplicates, collection_ledger.duplicates),
             attempts = collection_ledger.attempts + CASE WHEN EXCLUDED.status = 'failed' THEN 1 ELSE 0 END
       RETURNING attempts`,
      [key.tenantId, key.source, key.stream, contentId, status, contentCreated, stored?.inserted ?? null, stored?.duplicates ?? null],
    );
    return rows[0]?.attempts ?? 0;
  }

  /**
   * What the ledger says of these blobs, read back from the database: the proof a window is complete
   * is that every blob Microsoft listed for it is stored or reported as a gap.
   */
  async accountFor(tenantId: string, source: string, contentIds: string[]): Promise<Record<LedgerStatus | 'missing', string[]>> {
    const out: Record<LedgerStatus | 'missing', string[]> = { listed: [], done: [], failed: [], gap: [], missing: [] };
    if (contentIds.length === 0) return out;
    const rows: Array<{ content_id: string; status: LedgerStatus }> = await this.dataSource.query(
      `SELECT content_id, status FROM collection_ledger WHERE tenant_id = $1 AND source = $2 AND content_id = ANY($3::text[])`,
      [tenantId, source, contentIds],
    );
    const found = new Map(rows.map((r) => [r.content_id, r.status]));
    for (const id of new Set(contentIds)) out[found.get(id) ?? 'missing'].push(id);
    return out;
  }

  /** Blobs of a stream listed since `since` (the earlier pages of a listing being resumed). */
  async listedSince(key: StreamKey, since: Date, windowStart: Date, windowEnd: Date): Promise<string[]> {
    const rows: Array<{ content_id: string }> = await this.dataSource.query(
      `SELECT content_id FROM collection_ledger
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND listed_at >= $4 AND content_created >= $5 AND content_created < $6`,
      [key.tenantId, key.source, key.stream, since, windowStart, windowEnd],
    );
    return rows.map((r) => r.content_id);
  }

  /** The ledger's count of a stream since `since`: blobs per status, and the records the stored ones held. */
  async ledgerSummary(key: StreamKey, since: Date): Promise<{ byStatus: Record<LedgerStatus, number>; records: number; duplicates: number }> {
    const rows: Array<{ status: LedgerStatus; blobs: string | number; records: string | number | null; duplicates: string | number | null }> =
      await this.dataSource.query(
        `SELECT status, count(*) AS blobs, sum(records) AS records, sum(duplicates) AS duplicates FROM collection_ledger
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND listed_at >= $4 GROUP BY status`,
        [key.tenantId, key.source, key.stream, since],
      );
    const byStatus: Record<LedgerStatus, number> = { listed: 0, done: 0, failed: 0, gap: 0 };
    let records = 0;
    let duplicates = 0;
    for (const r of rows) {
      byStatus[r.status] = Number(r.blobs);
      records += Number(r.records ?? 0);
      duplicates += Number(r.duplicates ?? 0);
    }
    return { byStatus, records, duplicates };
  }

  /** Records and duplicates of a stream's runs since `since` (sources without content units). */
  async runTotalsSince(key: StreamKey, since: Date): Promise<{ records: number; duplicates: number }> {
    const rows: Array<{ records: string | number | null; duplicates: string | number | null }> = await this.dataSource.query(
      `SELECT sum(inserted) AS records, sum(duplicates) AS duplicates FROM collection_runs
        WHERE tenant_id = $1 AND source = $2 AND stream = $3 AND started_at >= $4`,
      [key.tenantId, key.source, key.stream, since],
    );
    return { records: Number(rows[0]?.records ?? 0), duplicates: Number(rows[0]?.duplicates ?? 0) };
  }

  // --- retention

  async pruneLedgerAndRuns(ledgerBefore: Date, runsBefore: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM collection_ledger WHERE updated_at < $1 AND status <> 'failed'`, [ledgerBefore]);
    await this.dataSource.query(`DELETE FROM collection_runs WHERE started_at < $1 AND status <> 'running'`, [runsBefore]);
  }
}
