import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { TenantEntity } from '../tenants/tenant.entity';

/** Mirrors migrations/0005_collection.sql and 0012_collection_completeness.sql (the boot test fails on drift). */

export type SubscriptionStatus = 'unknown' | 'enabled' | 'disabled' | 'missing' | 'unavailable';
export type RunTrigger = 'schedule' | 'manual';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'throttled';
export type GapReason = 'expired' | 'failed' | 'beyond-retention';
export type LedgerStatus = 'listed' | 'done' | 'failed' | 'gap';

/** A listing cut short (`collection_streams.listing`): where it stopped, and where the next run resumes. */
export interface ListingState {
  windowStart: string;
  windowEnd: string;
  /** The cursor when the listing began: a resume point is only used while the cursor has not moved. */
  cursor: string | null;
  /** When the first page of this window's listing was read. */
  startedAt: string;
  /** Pages read and blobs listed so far. */
  pages: number;
  blobs: number;
  /** The next page to read (Microsoft's NextPageUri), or null: the window is listed again from its start. */
  nextPage: string | null;
  /** Why it stopped, once it has; null while a run is still listing. */
  error: string | null;
  at: string;
}

@Entity({ name: 'collection_streams' })
@Check('collection_streams_interval_range', 'interval_minutes BETWEEN 1 AND 1440')
@Check('collection_streams_subscription_known', "subscription_status IN ('unknown', 'enabled', 'disabled', 'missing', 'unavailable')")
export class CollectionStreamEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'collection_streams_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text') source: string;
  @PrimaryColumn('text') stream: string;
  @Column('boolean', { default: true }) enabled: boolean;
  @Column('integer', { name: 'interval_minutes' }) intervalMinutes: number;
  @Column('text', { name: 'subscription_status', default: 'unknown' }) subscriptionStatus: SubscriptionStatus;
  @Column('timestamptz', { nullable: true }) cursor: Date | null;
  @Column('timestamptz', { name: 'next_run_at', default: () => 'now()' }) nextRunAt: Date;
  @Column('timestamptz', { name: 'newest_record_at', nullable: true }) newestRecordAt: Date | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('timestamptz', { name: 'last_error_at', nullable: true }) lastErrorAt: Date | null;
  @Column('text', { name: 'lease_owner', nullable: true }) leaseOwner: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('jsonb', { nullable: true }) listing: ListingState | null;
}

@Entity({ name: 'collection_runs' })
@Check('collection_runs_trigger_known', "trigger IN ('schedule', 'manual')")
@Check('collection_runs_status_known', "status IN ('running', 'succeeded', 'failed', 'throttled')")
@Index('collection_runs_stream_started_idx', { synchronize: false })
export class CollectionRunEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'collection_runs_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') source: string;
  @Column('text') stream: string;
  @Column('text') trigger: RunTrigger;
  @Column('text', { default: 'running' }) status: RunStatus;
  @Column('timestamptz', { name: 'started_at', default: () => 'now()' }) startedAt: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @Column('timestamptz', { name: 'window_start', nullable: true }) windowStart: Date | null;
  @Column('timestamptz', { name: 'window_end', nullable: true }) windowEnd: Date | null;
  @Column('integer', { default: 0 }) fetched: number;
  @Column('integer', { default: 0 }) inserted: number;
  @Column('integer', { default: 0 }) duplicates: number;
  /** Added by migrations/0009: objects changed in place (alerts, incidents). */
  @Column('integer', { default: 0 }) updated: number;
  @Column('integer', { default: 0 }) blobs: number;
  @Column('integer', { default: 0 }) gaps: number;
  @Column('text', { nullable: true }) error: string | null;
}

@Entity({ name: 'collection_gaps' })
@Check('collection_gaps_reason_known', "reason IN ('expired', 'failed', 'beyond-retention')")
@Index('collection_gaps_stream_detected_idx', { synchronize: false })
export class CollectionGapEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'collection_gaps_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') source: string;
  @Column('text') stream: string;
  @Column('text') reason: GapReason;
  @Column('text', { name: 'content_id', nullable: true }) contentId: string | null;
  @Column('timestamptz', { name: 'window_start', nullable: true }) windowStart: Date | null;
  @Column('timestamptz', { name: 'window_end', nullable: true }) windowEnd: Date | null;
  @Column('text', { nullable: true }) detail: string | null;
  @Column('timestamptz', { name: 'detected_at', default: () => 'now()' }) detectedAt: Date;
}

@Entity({ name: 'collection_ledger' })
@Check('collection_ledger_status_known', "status IN ('listed', 'done', 'failed', 'gap')")
@Index('collection_ledger_updated_idx', { synchronize: false })
@Index('collection_ledger_stream_listed_idx', { synchronize: false })
export class CollectionLedgerEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'collection_ledger_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text') source: string;
  @PrimaryColumn('text', { name: 'content_id' }) contentId: string;
  @Column('text') status: LedgerStatus;
  @Column('integer', { default: 0 }) attempts: number;
  @Column('timestamptz', { name: 'content_created', nullable: true }) contentCreated: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('text', { nullable: true }) stream: string | null;
  @Column('timestamptz', { name: 'listed_at', nullable: true }) listedAt: Date | null;
  /** Records the blob stored for the first time, and those already stored, once it is done. */
  @Column('integer', { nullable: true }) records: number | null;
  @Column('integer', { nullable: true }) duplicates: number | null;
}

@Entity({ name: 'events' })
@Index('events_dedupe_idx', { synchronize: false })
@Index('events_occurred_idx', { synchronize: false })
@Index('events_tenant_occurred_idx', { synchronize: false })
@Index('events_user_occurred_idx', { synchronize: false })
@Index('events_ip_occurred_idx', { synchronize: false })
@Index('events_operation_occurred_idx', { synchronize: false })
export class EventEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'events_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') source: string;
  @Column('text') stream: string;
  @Column('text', { name: 'record_id' }) recordId: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('text', { nullable: true }) workload: string | null;
  @Column('integer', { name: 'record_type', nullable: true }) recordType: number | null;
  @Column('text', { nullable: true }) operation: string | null;
  @Column('text', { name: 'result_status', nullable: true }) resultStatus: string | null;
  @Column('text', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('integer', { name: 'user_type', nullable: true }) userType: number | null;
  @Column('inet', { name: 'client_ip', nullable: true }) clientIp: string | null;
  @Column('text', { name: 'object_id', nullable: true }) objectId: string | null;
  @Column('jsonb') raw: Record<string, unknown>;
  @Column('timestamptz', { name: 'collected_at', default: () => 'now()' }) collectedAt: Date;
}
