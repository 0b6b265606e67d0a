import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Mirrors migrations/0002_audit_log.sql and 0007 (the boot test fails on drift). Rows are written only
 * by the sealer (AuditLogRepository.seal), with SQL, from committed pending entries.
 */
@Entity({ name: 'audit_log' })
@Check('audit_log_actor_type_known', "actor_type IN ('apiKey', 'user', 'system')")
@Check('audit_log_hash_length', 'octet_length(hash) = 32 AND octet_length(prev_hash) = 32')
@Index('audit_log_at_idx', { synchronize: false })
@Index('audit_log_tenant_seq_idx', { synchronize: false })
@Index('audit_log_action_seq_idx', { synchronize: false })
@Index('audit_log_actor_seq_idx', { synchronize: false })
@Index('audit_log_event_seq_idx', { synchronize: false })
@Index('audit_log_tenant_event_seq_idx', { synchronize: false })
@Index('audit_log_pending_id_idx', { synchronize: false })
export class AuditLogEntity {
  @PrimaryColumn('bigint') seq: string;
  @Column('timestamptz') at: Date;
  @Column('text') event: string;
  @Column('text', { name: 'actor_type' }) actorType: string;
  @Column('text', { name: 'actor_id' }) actorId: string;
  @Column('text', { name: 'actor_name' }) actorName: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('uuid', { name: 'action_id', nullable: true }) actionId: string | null;
  @Column('text', { nullable: true }) subject: string | null;
  @Column('text', { name: 'request_id' }) requestId: string;
  @Column('jsonb') data: Record<string, unknown>;
  @Column('bytea', { name: 'prev_hash' }) prevHash: Buffer;
  @Column('bytea') hash: Buffer;
  /** The audit_pending row this entry was sealed from (not hashed: it only links the two tables). */
  @Column('bigint', { name: 'pending_id', nullable: true }) pendingId: string | null;
}

/**
 * Mirrors migrations/0007: entries appended inside writers' transactions, waiting to be sealed into
 * the chain. Writers insert with SQL (AuditLogRepository.appendPending).
 */
@Entity({ name: 'audit_pending' })
@Check('audit_pending_actor_type_known', "actor_type IN ('apiKey', 'user', 'system')")
export class AuditPendingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  @Column('timestamptz', { default: () => "date_trunc('milliseconds', clock_timestamp())" }) at: Date;
  @Column('text') event: string;
  @Column('text', { name: 'actor_type' }) actorType: string;
  @Column('text', { name: 'actor_id' }) actorId: string;
  @Column('text', { name: 'actor_name' }) actorName: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('uuid', { name: 'action_id', nullable: true }) actionId: string | null;
  @Column('text', { nullable: true }) subject: string | null;
  @Column('text', { name: 'request_id' }) requestId: string;
  @Column('jsonb') data: Record<string, unknown>;
}

@Entity({ name: 'audit_chain_head' })
@Check('audit_chain_head_single_row', 'id')
export class AuditChainHeadEntity {
  @PrimaryColumn('boolean', { default: true }) id: boolean;
  @Column('bigint') seq: string;
  @Column('bytea') hash: Buffer;
}
