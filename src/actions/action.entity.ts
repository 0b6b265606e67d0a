import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { TenantEntity } from '../tenants/tenant.entity';

export type ActionStatus = 'awaiting_approval' | 'queued' | 'running' | 'succeeded' | 'partially_succeeded' | 'failed' | 'rejected' | 'cancelled';
export const FINAL_STATUSES: ActionStatus[] = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface ActorJson {
  type: 'apiKey' | 'user' | 'system';
  id: string;
  name: string;
}

/** Mirrors migrations/0004_actions.sql, 0008 and 0017 (the boot test fails on drift). */
@Entity({ name: 'actions' })
@Check('actions_status_known', "status IN ('awaiting_approval', 'queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled')")
@Check('actions_reason_length', 'char_length(reason) BETWEEN 1 AND 1000')
@Index('actions_created_idx', { synchronize: false })
@Index('actions_tenant_created_idx', { synchronize: false })
@Index('actions_tenant_type_created_idx', { synchronize: false })
@Index('actions_unfinished_idx', { synchronize: false })
@Index('actions_unadmitted_idx', { synchronize: false })
@Index('actions_tenant_type_target_completed_idx', { synchronize: false })
export class ActionEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'actions_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') type: string;
  @Column('jsonb') target: Record<string, unknown>;
  @Column('text', { name: 'target_key' }) targetKey: string;
  @Column('text') status: ActionStatus;
  @Column('text') reason: string;
  @Column('text', { nullable: true }) ticket: string | null;
  @Column('boolean', { name: 'dry_run', default: false }) dryRun: boolean;
  @Column('jsonb', { default: () => "'{}'" }) params: Record<string, unknown>;
  @Column('jsonb', { name: 'requested_by' }) requestedBy: ActorJson;
  @Column('text', { name: 'requested_by_id' }) requestedById: string;
  @Column('jsonb', { name: 'approved_by', nullable: true }) approvedBy: ActorJson | null;
  @Column('jsonb', { name: 'decided_by', nullable: true }) decidedBy: ActorJson | null;
  @Column('text', { name: 'decision_reason', nullable: true }) decisionReason: string | null;
  @Column('jsonb', { nullable: true }) result: Record<string, unknown> | null;
  @Column('jsonb', { nullable: true }) error: Record<string, unknown> | null;
  @Column('text', { name: 'lease_owner', nullable: true }) leaseOwner: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
}

@Entity({ name: 'action_steps' })
@Check('action_steps_status_known', "status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')")
export class ActionStepEntity {
  @PrimaryColumn('uuid', { name: 'action_id' }) actionId: string;
  @ManyToOne(() => ActionEntity)
  @JoinColumn({ name: 'action_id', foreignKeyConstraintName: 'action_steps_action_id_fkey' })
  action?: ActionEntity;
  @PrimaryColumn('integer') position: number;
  @Column('text') name: string;
  @Column('text') status: StepStatus;
  @Column('integer', { default: 0 }) attempts: number;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @Column('text', { name: 'microsoft_request_id', nullable: true }) microsoftRequestId: string | null;
  @Column('jsonb', { nullable: true }) detail: Record<string, unknown> | null;
  @Column('jsonb', { nullable: true }) error: Record<string, unknown> | null;
  /** What a long-running step carries between runs (never shown to callers; migrations/0008). */
  @Column('jsonb', { nullable: true }) state: Record<string, unknown> | null;
  /** When a long-running or capacity-waiting step is next due to run. */
  @Column('timestamptz', { name: 'next_poll_at', nullable: true }) nextPollAt: Date | null;
}
