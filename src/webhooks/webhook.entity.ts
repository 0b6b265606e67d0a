import { Check, Column, Entity, Index, JoinColumn, ManyToOne, OneToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { TenantEntity } from '../tenants/tenant.entity';
import type { WebhookEvent } from './webhook-notification';

/** Mirrors migrations/0009_security_alerts_incidents_webhooks.sql (the boot test fails on drift). */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

@Entity({ name: 'tenant_webhooks' })
@Check('tenant_webhooks_min_severity_known', "min_severity IN ('informational', 'low', 'medium', 'high')")
export class TenantWebhookEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @OneToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'tenant_webhooks_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') url: string;
  @Column('bytea', { name: 'secret_ciphertext' }) secretCiphertext: Buffer;
  @Column('text', { name: 'secret_key_id' }) secretKeyId: string;
  @Column('text', { name: 'min_severity' }) minSeverity: string;
  @Column('text', { name: 'updated_by' }) updatedBy: string;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

@Entity({ name: 'webhook_deliveries' })
@Check('webhook_deliveries_event_known', "event IN ('alert.created', 'alert.updated', 'incident.created', 'incident.updated')")
@Check('webhook_deliveries_status_known', "status IN ('pending', 'delivered', 'failed')")
@Index('webhook_deliveries_tenant_created_idx', { synchronize: false })
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @ManyToOne(() => TenantEntity)
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'webhook_deliveries_tenant_id_fkey' })
  tenant?: TenantEntity;
  @Column('text') event: WebhookEvent;
  @Column('text', { name: 'object_id' }) objectId: string;
  @Column('text', { nullable: true }) severity: string | null;
  @Column('text') url: string;
  @Column('text') payload: string;
  @Column('text', { default: 'pending' }) status: DeliveryStatus;
  @Column('integer', { default: 0 }) attempts: number;
  @Column('integer', { name: 'last_status_code', nullable: true }) lastStatusCode: number | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt: Date | null;
  @Column('timestamptz', { name: 'delivered_at', nullable: true }) deliveredAt: Date | null;
}
