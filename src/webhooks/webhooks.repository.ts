import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { DeliveryStatus } from './webhook.entity';
import { TenantWebhookEntity, WebhookDeliveryEntity } from './webhook.entity';
import type { WebhookEvent } from './webhook-notification';

export interface NewDelivery {
  id: string;
  event: WebhookEvent;
  objectId: string;
  severity: string | null;
  url: string;
  payload: string;
}

/** SQL of the webhook module: per-tenant configuration and the delivery log. */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  findConfig(tenantId: string, manager?: EntityManager): Promise<TenantWebhookEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(TenantWebhookEntity).findOne({ where: { tenantId } });
  }

  /** Webhooks whose secret is sealed under another key than `keyId` (key rotation). */
  findSealedWithOtherKey(keyId: string, limit: number): Promise<TenantWebhookEntity[]> {
    return this.dataSource.getRepository(TenantWebhookEntity).createQueryBuilder('w').where('w.secret_key_id <> :keyId', { keyId }).limit(limit).getMany();
  }

  async updateSecret(manager: EntityManager, tenantId: string, sealed: { ciphertext: Buffer; keyId: string }): Promise<void> {
    await manager.query('UPDATE tenant_webhooks SET secret_ciphertext = $2, secret_key_id = $3 WHERE tenant_id = $1', [
      tenantId,
      sealed.ciphertext,
      sealed.keyId,
    ]);
  }

  async saveConfig(
    manager: EntityManager,
    config: Pick<TenantWebhookEntity, 'tenantId' | 'url' | 'secretCiphertext' | 'secretKeyId' | 'minSeverity' | 'updatedBy'>,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO tenant_webhooks (tenant_id, url, secret_ciphertext, secret_key_id, min_severity, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id) DO UPDATE SET url = EXCLUDED.url, secret_ciphertext = EXCLUDED.secret_ciphertext, secret_key_id = EXCLUDED.secret_key_id,
         min_severity = EXCLUDED.min_severity, updated_by = EXCLUDED.updated_by, updated_at = now()`,
      [config.tenantId, config.url, config.secretCiphertext, config.secretKeyId, config.minSeverity, config.updatedBy],
    );
  }

  async deleteConfig(manager: EntityManager, tenantId: string): Promise<void> {
    await manager.getRepository(TenantWebhookEntity).delete({ tenantId });
  }

  /**
   * Inserts the deliveries of one transaction (ids minted by the caller: the payload carries its own). `created_at` is kept to milliseconds
   * so the delivery log's keyset cursor (a JavaScript date) matches stored values exactly.
   */
  async insertDeliveries(manager: EntityManager, tenantId: string, deliveries: NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await manager.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, event, object_id, severity, url, payload, created_at)
       SELECT d."id", $1, d."event", d."objectId", d."severity", d."url", d."payload", date_trunc('milliseconds', now())
         FROM jsonb_to_recordset($2::jsonb) AS d ("id" uuid, "event" text, "objectId" text, "severity" text, "url" text, "payload" text)`,
      [tenantId, JSON.stringify(deliveries)],
    );
  }

  findDelivery(id: string): Promise<WebhookDeliveryEntity | null> {
    return this.dataSource.getRepository(WebhookDeliveryEntity).findOne({ where: { id } });
  }

  async recordAttempt(id: string, outcome: { status: DeliveryStatus; statusCode: number | null; error: string | null; url: string }): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, status = $2, last_status_code = $3, last_error = $4, url = $5, last_attempt_at = now(),
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
        WHERE id = $1`,
      [id, outcome.status, outcome.statusCode, outcome.error, outcome.url],
    );
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'pending'`, [id, error]);
  }

  /** Deletes delivered and failed deliveries created before `before` (pending ones stay until they finish). */
  async deleteFinishedBefore(before: Date): Promise<number> {
    const result: unknown = await this.dataSource.query(`DELETE FROM webhook_deliveries WHERE created_at < $1 AND status <> 'pending' RETURNING 1`, [before]);
    if (!Array.isArray(result)) return 0;
    return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[1] : result.length;
  }

  /** The delivery log, newest first (keyset on created_at, id). */
  pageDeliveries(
    tenantId: string,
    filter: { status?: DeliveryStatus },
    limit: number,
    before?: { createdAt: string; id: string },
  ): Promise<WebhookDeliveryEntity[]> {
    const q = this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId', { tenantId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit);
    if (filter.status) q.andWhere('d.status = :status', { status: filter.status });
    if (before) q.andWhere('(d.created_at, d.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', { at: before.createdAt, id: before.id });
    return q.getMany();
  }
}
