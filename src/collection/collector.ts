import type { TenantEntity } from '../tenants/tenant.entity';
import type { TenantCredentials } from '../microsoft';
import type { GapReason, SubscriptionStatus } from './collection.entity';

/**
 * The contract between the collection engine (database, schedule, cursors, runs) and an integration
 * (one provider API). An integration never writes engine tables: it reads from its provider and hands
 * every result to the sink, which stores it transactionally.
 */

/** A record ready for the events store: normalized columns plus the raw record. */
export interface NormalizedEvent {
  recordId: string;
  occurredAt: Date;
  workload: string | null;
  recordType: number | null;
  operation: string | null;
  resultStatus: string | null;
  userId: string | null;
  userType: number | null;
  clientIp: string | null;
  objectId: string | null;
  /** The record as delivered, as JSON text: compact in memory while a batch waits for the database. */
  raw: string;
}

export interface StoreOutcome {
  inserted: number;
  duplicates: number;
}

/** What the engine offers a collector during one run of one (tenant, stream). */
export interface CollectSink {
  /** Content units (blobs) of this source already handled: stored or reported as a gap. */
  handled(unitIds: string[]): Promise<Set<string>>;
  /**
   * Stores a unit's records (deduplicated on the record id) and marks the unit handled, in one
   * transaction: a crash before it commits leaves the unit to be fetched again.
   */
  storeUnit(unit: { unitId: string; createdAt: Date | null; records: NormalizedEvent[] }): Promise<StoreOutcome>;
  /** A unit failed; answers true once it has failed `maxAttempts` times and has been reported as a gap. */
  unitFailed(unit: { unitId: string; createdAt: Date | null; error: string }): Promise<boolean>;
  /** Reports data that could not be collected (audited). */
  gap(gap: { reason: GapReason; unitId?: string; windowStart?: Date; windowEnd?: Date; detail: string }): Promise<void>;
  /** Moves the cursor forward; only call it once everything before `to` is stored or reported. */
  advance(to: Date): Promise<void>;
  /** The provider-side subscription state, as last seen (audited when it changes). */
  subscription(status: SubscriptionStatus, detail?: string): Promise<void>;
  /** Counts a window listed (for the run's report). */
  window(start: Date, end: Date): void;
}

export interface CollectContext {
  tenant: TenantEntity;
  credentials: TenantCredentials;
  stream: string;
  /** Where the last run left off; null on the first run. */
  cursor: Date | null;
  /** Units in hand at once for this tenant, all its streams together. */
  concurrency: number;
  signal?: AbortSignal;
}

/** An integration that collects one `source` of the events store. */
export interface Collector {
  /** The `source` column of its events (`management-activity`). */
  readonly source: string;
  /** The streams each tenant can have (content types), with the tenant capability that gates each. */
  readonly streams: ReadonlyArray<{ name: string; capability: string }>;
  run(ctx: CollectContext, sink: CollectSink): Promise<void>;
}
