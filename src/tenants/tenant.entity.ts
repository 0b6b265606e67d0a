import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Mirrors migrations/0003_tenants.sql (the boot test fails on drift). */
@Entity({ name: 'tenants' })
@Check('tenants_cloud_known', "cloud IN ('global', 'usgov-gcc', 'usgov-gcchigh', 'usgov-dod', 'china')")
@Check('tenants_credential_type_known', "credential_type IN ('secret', 'certificate')")
@Check('tenants_connection_status_known', "connection_status IN ('pending', 'connected', 'credential-error', 'unreachable')")
@Check('tenants_display_name_length', 'char_length(display_name) BETWEEN 1 AND 200')
@Index('tenants_microsoft_app_live_idx', { synchronize: false })
@Index('tenants_created_at_id_idx', { synchronize: false })
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'display_name' }) displayName: string;
  @Column('uuid', { name: 'microsoft_tenant_id' }) microsoftTenantId: string;
  @Column('text') cloud: string;
  @Column('uuid', { name: 'client_id' }) clientId: string;
  @Column('text', { name: 'credential_type' }) credentialType: 'secret' | 'certificate';
  @Column('bytea', { name: 'credential_ciphertext' }) credentialCiphertext: Buffer;
  @Column('text', { name: 'credential_key_id' }) credentialKeyId: string;
  @Column('text', { name: 'certificate_thumbprint', nullable: true }) certificateThumbprint: string | null;
  @Column('timestamptz', { name: 'certificate_expires_at', nullable: true }) certificateExpiresAt: Date | null;
  @Column('boolean', { default: true }) enabled: boolean;
  @Column('text', { name: 'connection_status', default: 'pending' }) connectionStatus: 'pending' | 'connected' | 'credential-error' | 'unreachable';
  @Column('text', { name: 'connection_detail', nullable: true }) connectionDetail: string | null;
  @Column('timestamptz', { name: 'connection_checked_at', nullable: true }) connectionCheckedAt: Date | null;
  @Column('text', { name: 'created_by' }) createdBy: string;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}

@Entity({ name: 'tenant_capabilities' })
@Check('tenant_capabilities_status_known', "status IN ('available', 'unlicensed', 'forbidden', 'unreachable')")
export class TenantCapabilityEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'tenant_capabilities_tenant_id_fkey' })
  tenant?: TenantEntity;
  @PrimaryColumn('text') capability: string;
  @Column('text') status: 'available' | 'unlicensed' | 'forbidden' | 'unreachable';
  @Column('text', { nullable: true }) detail: string | null;
  @Column('timestamptz', { name: 'checked_at' }) checkedAt: Date;
}

@Entity({ name: 'tenant_policies' })
@Check('tenant_policies_run_script_approval_check', "run_script_approval IN ('always', 'policy')")
export class TenantPolicyEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'tenant_policies_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text', { name: 'protected_users', array: true, default: () => "'{}'" }) protectedUsers: string[];
  @Column('text', { name: 'protected_groups', array: true, default: () => "'{}'" }) protectedGroups: string[];
  /** migrations/0008: devices and Defender machine tags never acted on (lower-case). */
  @Column('text', { name: 'protected_devices', array: true, default: () => "'{}'" }) protectedDevices: string[];
  @Column('text', { name: 'protected_device_tags', array: true, default: () => "'{}'" }) protectedDeviceTags: string[];
  @Column('text', { name: 'approval_required', array: true, default: () => "'{}'" }) approvalRequired: string[];
  @Column('jsonb', { name: 'hourly_limits', default: () => "'{}'" }) hourlyLimits: Record<string, number>;
  /** migrations/0014: the group containment adds users to (a Conditional Access block policy's), or null. */
  @Column('uuid', { name: 'containment_group_id', nullable: true }) containmentGroupId: string | null;
  /** migrations/0016: the live-response library scripts device.run-script may run, and its approval rule. */
  @Column('text', { name: 'live_response_scripts', array: true, default: () => "'{}'" }) liveResponseScripts: string[];
  @Column('text', { name: 'run_script_approval', default: () => "'always'" }) runScriptApproval: 'always' | 'policy';
  @Column('text', { name: 'updated_by' }) updatedBy: string;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

/** migrations/0021: the tenant's second app registration, for the permissions that let an app grant itself more. */
@Entity({ name: 'tenant_privileged_apps' })
@Check('tenant_privileged_apps_credential_type_known', "credential_type IN ('secret', 'certificate')")
export class TenantPrivilegedAppEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'tenant_privileged_apps_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('uuid', { name: 'client_id' }) clientId: string;
  @Column('text', { name: 'credential_type' }) credentialType: 'secret' | 'certificate';
  @Column('bytea', { name: 'credential_ciphertext' }) credentialCiphertext: Buffer;
  @Column('text', { name: 'credential_key_id' }) credentialKeyId: string;
  @Column('text', { name: 'certificate_thumbprint', nullable: true }) certificateThumbprint: string | null;
  @Column('timestamptz', { name: 'certificate_expires_at', nullable: true }) certificateExpiresAt: Date | null;
  @Column('text', { name: 'updated_by' }) updatedBy: string;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}
