import type { EntityManager } from 'typeorm';
import type { TenantEntity } from '../tenants/tenant.entity';
import type { TenantCredentials } from '../microsoft';
import type { GapReason, LedgerStatus, ListingState, SubscriptionStatus } from './collection.entity';

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

/** What storing a batch of stateful objects did, object by object. */
export interface ObjectStoreOutcome {
  /** Objects seen for the first time. */
  inserted: number;
  /** Objects whose stored version was replaced by a newer one. */
  updated: number;
  /** Objects already stored in this (or a newer) version. */
  unchanged: number;
}

/**
 * A page of stateful objects (Defender alerts, incidents): things the provider changes in place under
 * one id, which the integration keeps in tables of its own, upserted by id (not in the append-only
 * events store). The engine owns the transaction; the integration writes only its own tables in it.
 */
export interface ObjectBatch {
  /** Upserts the batch with the given (transactional) manager; whatever else it writes commits with it. */
  write(manager: EntityManager): Promise<ObjectStoreOutcome>;
  /** The newest provider timestamp in the batch (for lag), or null. */
  newest: Date | null;
}

/** What the engine offers a collector during one run of one (tenant, stream). */
/** A content unit's records: all of them, or its last batch with `earlier` counting the batches stored before it. */
export interface UnitRecords {
  unitId: string;
  createdAt: Date | null;
  records: NormalizedEvent[];
  earlier?: StoreOutcome;
}

export interface CollectSink {
  /** Content units (blobs) of this source already handled: stored or reported as a gap. */
  handled(unitIds: string[]): Promise<Set<string>>;
  /**
   * Stores a unit's records (deduplicated on the record id) and marks the unit handled, in one
   * transaction: a crash before it commits leaves the unit to be fetched again.
   */
  storeUnit(unit: UnitRecords): Promise<StoreOutcome>;
  /** Units the provider listed: in the ledger as listed (not handled) until stored or reported. */
  listed(units: Array<{ unitId: string; createdAt: Date | null }>): Promise<void>;
  /** The ledger's status of each unit, read back from the database (`missing`: no entry at all). */
  accountFor(unitIds: string[]): Promise<Record<LedgerStatus | 'missing', string[]>>;
  /** Units of this stream listed since `since` with a creation time in [start, end): a resumed listing's earlier pages. */
  listedSince(since: Date, start: Date, end: Date): Promise<string[]>;
  /** Saves how far a listing got (null: the last listing finished), for the status and the next run. */
  listing(state: ListingState | null): Promise<void>;
  /**
   * Stores records that do not come in content units (a Graph page), deduplicated on the record id,
   * in one transaction. Nothing is marked handled: the collector's cursor says what is done.
   */
  storeRecords(records: NormalizedEvent[]): Promise<StoreOutcome>;
  /**
   * Stores a batch of stateful objects in one transaction (see ObjectBatch). Committed batches stay
   * committed when the run later fails; the cursor moves only through `advance`.
   */
  storeObjects(batch: ObjectBatch): Promise<ObjectStoreOutcome>;
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
  /** A listing the last run could not finish, if any. */
  listing: ListingState | null;
  /** Units in hand at once for this tenant, all its streams together. */
  concurrency: number;
  signal?: AbortSignal;
}

/** An integration that collects one `source` of the events store. */
export interface Collector {
  /** The `source` column of its events (`management-activity`). */
  readonly source: string;
  /** True when it collects content units (blobs) kept in the ledger: the status accounts for them. */
  readonly units?: boolean;
  /**
   * True when a throttled run may be run again at once from the state it saved (cursor, listing): the
   * runner then waits out the throttling and resumes, or reschedules the stream for the resume time
   * (CollectionRunnerService). Otherwise a throttled run ends and the stream waits for its schedule.
   */
  readonly resumesThrottled?: boolean;
  /**
   * The streams each tenant can have (content types), with the tenant capability that gates each.
   * A stream with `enabledByDefault: false` is created disabled for each tenant (an admin enables it).
   */
  readonly streams: ReadonlyArray<{ name: string; capability: string; enabledByDefault?: boolean }>;
  run(ctx: CollectContext, sink: CollectSink): Promise<void>;
}
