import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditActor } from '../../audit-log/audit-entry';
import { CollectionGapEntity } from '../../collection/collection.entity';
import { TenantEntity } from '../../tenants/tenant.entity';

/** Mirrors migrations/0010_purview_search_secure_score.sql (the boot test fails on drift). */

export type PurviewSearchStatus = 'queued' | 'submitted' | 'collecting' | 'succeeded' | 'failed';

@Entity({ name: 'purview_searches' })
@Check('purview_searches_status_known', "status IN ('queued', 'submitted', 'collecting', 'succeeded', 'failed')")
@Check('purview_searches_range', 'filter_start < filter_end')
@Index('purview_searches_tenant_created_idx', { synchronize: false })
@Index('purview_searches_gap_idx', { synchronize: false })
@Index('purview_searches_open_idx', { synchronize: false })
export class PurviewSearchEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'purview_searches_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text', { default: 'queued' }) status: PurviewSearchStatus;
  @Column('text', { name: 'microsoft_status', nullable: true }) microsoftStatus: string | null;
  @Column('text', { name: 'query_id', nullable: true }) queryId: string | null;
  @Column('timestamptz', { name: 'filter_start' }) filterStart: Date;
  @Column('timestamptz', { name: 'filter_end' }) filterEnd: Date;
  @Column('text', { name: 'record_types', array: true, default: () => "'{}'" }) recordTypes: string[];
  @Column('text', { array: true, default: () => "'{}'" }) users: string[];
  @Column('text', { array: true, default: () => "'{}'" }) operations: string[];
  @Column('text', { nullable: true }) service: string | null;
  @Column('text', { name: 'next_link', nullable: true }) nextLink: string | null;
  @Column('integer', { default: 0 }) polls: number;
  @Column('integer', { default: 0 }) fetched: number;
  @Column('integer', { default: 0 }) inserted: number;
  @Column('integer', { default: 0 }) duplicates: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('uuid', { name: 'gap_id', nullable: true }) gapId: string | null;
  @ManyToOne(() => CollectionGapEntity)
  @JoinColumn({ name: 'gap_id', foreignKeyConstraintName: 'purview_searches_gap_id_fkey' })
  gap?: CollectionGapEntity;
  @Column('jsonb', { name: 'requested_by' }) requestedBy: AuditActor;
  @Column('text', { name: 'lease_owner', nullable: true }) leaseOwner: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('timestamptz', { name: 'completed_at', nullable: true }) completedAt: Date | null;
}
