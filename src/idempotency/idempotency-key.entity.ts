import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Mirrors `idempotency_keys` in migrations/0004_actions.sql: one row per principal and key. */
@Entity({ name: 'idempotency_keys' })
@Check('idempotency_keys_state_known', "state IN ('in_progress', 'completed')")
@Index('idempotency_keys_created_idx', { synchronize: false })
export class IdempotencyKeyEntity {
  @PrimaryColumn('text', { name: 'principal_id' }) principalId: string;
  @PrimaryColumn('text') key: string;
  @Column('bytea', { name: 'request_hash' }) requestHash: Buffer;
  @Column('text') state: 'in_progress' | 'completed';
  @Column('integer', { name: 'response_status', nullable: true }) responseStatus: number | null;
  @Column('jsonb', { name: 'response_body', nullable: true }) responseBody: unknown;
  @Column('jsonb', { name: 'response_headers', nullable: true }) responseHeaders: Record<string, string> | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  /** Until when the request that claimed the key holds it; renewed while it runs (migrations/0013). */
  @Column('timestamptz', { name: 'held_until', nullable: true }) heldUntil: Date | null;
  /** The action the request recorded, when it is an action route (so a retry after a crash carries on with it). */
  @Column('uuid', { name: 'action_id', nullable: true }) actionId: string | null;
}
