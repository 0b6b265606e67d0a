import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TenantEntity } from '../../tenants/tenant.entity';

/** Mirrors migrations/0009_security_alerts_incidents_webhooks.sql (the boot test fails on drift). */

@Entity({ name: 'security_alerts' })
@Index('security_alerts_created_idx', { synchronize: false })
@Index('security_alerts_tenant_created_idx', { synchronize: false })
@Index('security_alerts_incident_idx', { synchronize: false })
@Index('security_alerts_last_update_idx', { synchronize: false })
export class SecurityAlertEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'security_alerts_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'incident_id', nullable: true }) incidentId: string | null;
  @Column('text', { name: 'provider_alert_id', nullable: true }) providerAlertId: string | null;
  @Column('text', { name: 'service_source', nullable: true }) serviceSource: string | null;
  @Column('text', { name: 'detection_source', nullable: true }) detectionSource: string | null;
  @Column('text', { nullable: true }) severity: string | null;
  @Column('text', { nullable: true }) status: string | null;
  @Column('text', { nullable: true }) classification: string | null;
  @Column('text', { nullable: true }) determination: string | null;
  @Column('text', { nullable: true }) title: string | null;
  @Column('text', { nullable: true }) category: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'last_update_at' }) lastUpdateAt: Date;
  @Column('timestamptz', { name: 'resolved_at', nullable: true }) resolvedAt: Date | null;
  @Column('jsonb') raw: Record<string, unknown>;
  @Column('timestamptz', { name: 'first_collected_at', default: () => 'now()' }) firstCollectedAt: Date;
  @Column('timestamptz', { name: 'collected_at', default: () => 'now()' }) collectedAt: Date;
}

@Entity({ name: 'security_incidents' })
@Index('security_incidents_created_idx', { synchronize: false })
@Index('security_incidents_tenant_created_idx', { synchronize: false })
@Index('security_incidents_last_update_idx', { synchronize: false })
export class SecurityIncidentEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'security_incidents_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'display_name', nullable: true }) displayName: string | null;
  @Column('text', { nullable: true }) severity: string | null;
  @Column('text', { nullable: true }) status: string | null;
  @Column('text', { nullable: true }) classification: string | null;
  @Column('text', { nullable: true }) determination: string | null;
  @Column('text', { name: 'assigned_to', nullable: true }) assignedTo: string | null;
  @Column('text', { name: 'redirect_incident_id', nullable: true }) redirectIncidentId: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'last_update_at' }) lastUpdateAt: Date;
  @Column('jsonb') raw: Record<string, unknown>;
  @Column('timestamptz', { name: 'first_collected_at', default: () => 'now()' }) firstCollectedAt: Date;
  @Column('timestamptz', { name: 'collected_at', default: () => 'now()' }) collectedAt: Date;
}
