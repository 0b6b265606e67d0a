import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { TenantEntity } from '../../tenants/tenant.entity';

/** Mirrors migrations/0010_purview_search_secure_score.sql (the boot test fails on drift). */

/** One control in a snapshot: its score from the day's secureScore, its state from its profile. */
export interface SnapshotControl {
  name: string;
  title: string | null;
  category: string | null;
  score: number | null;
  maxScore: number | null;
  /** The latest `controlStateUpdates` state (Default, Ignored, ThirdParty, Reviewed…), null when none. */
  state: string | null;
}

@Entity({ name: 'secure_score_snapshots' })
@Index('secure_score_snapshots_tenant_scored_idx', { synchronize: false })
export class SecureScoreSnapshotEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'secure_score_snapshots_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text', { name: 'score_id' }) scoreId: string;
  @Column('timestamptz', { name: 'scored_at' }) scoredAt: Date;
  @Column('double precision', { name: 'current_score' }) currentScore: number;
  @Column('double precision', { name: 'max_score' }) maxScore: number;
  @Column('jsonb') controls: SnapshotControl[];
  @Column('jsonb') raw: Record<string, unknown>;
  @Column('jsonb') profiles: Array<Record<string, unknown>>;
  @Column('timestamptz', { name: 'collected_at', default: () => 'now()' }) collectedAt: Date;
}
