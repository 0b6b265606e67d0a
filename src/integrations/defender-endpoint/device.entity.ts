import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TenantEntity } from '../../tenants/tenant.entity';

/** A Defender machine in a tenant's device inventory. Mirrors migrations/0008_defender_endpoint.sql. */
@Entity({ name: 'devices' })
@Index('devices_tenant_dns_idx', { synchronize: false })
@Index('devices_tenant_short_name_idx', { synchronize: false })
@Index('devices_tenant_aad_idx', { synchronize: false })
export class DeviceEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'devices_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text', { name: 'machine_id' }) machineId: string;
  @Column('text', { name: 'computer_dns_name', nullable: true }) computerDnsName: string | null;
  @Column('text', { name: 'aad_device_id', nullable: true }) aadDeviceId: string | null;
  @Column('text', { name: 'os_platform', nullable: true }) osPlatform: string | null;
  @Column('text', { name: 'os_version', nullable: true }) osVersion: string | null;
  @Column('text', { name: 'health_status', nullable: true }) healthStatus: string | null;
  @Column('text', { name: 'onboarding_status', nullable: true }) onboardingStatus: string | null;
  @Column('text', { name: 'risk_score', nullable: true }) riskScore: string | null;
  @Column('text', { name: 'exposure_level', nullable: true }) exposureLevel: string | null;
  @Column('text', { name: 'last_ip_address', nullable: true }) lastIpAddress: string | null;
  @Column('text', { name: 'machine_tags', array: true, default: () => "'{}'" }) machineTags: string[];
  @Column('timestamptz', { name: 'first_seen', nullable: true }) firstSeen: Date | null;
  @Column('timestamptz', { name: 'last_seen', nullable: true }) lastSeen: Date | null;
  @Column('jsonb') raw: Record<string, unknown>;
  @Column('timestamptz', { name: 'synced_at', default: () => 'now()' }) syncedAt: Date;
}
