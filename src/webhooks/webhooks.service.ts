import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import { describeActor } from '../auth/api-keys.service';
import type { Principal } from '../access/principal';
import { checkOutboundUrl, HostResolver, OutboundUrlRefused } from '../common/outbound-url';
import { decodeCursor, Page, toPage } from '../common/paging';
import { problems } from '../common/problem';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobsService } from '../jobs/jobs.service';
import { TenantsService } from '../tenants/tenants.service';
import { DeliveryQueryDto, DeliveryResponse, PutWebhookDto, WebhookResponse } from './dto/webhook.dto';
import { WebhookMetrics } from './webhook.metrics';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from './webhook-signature';
import { WebhookSecrets } from './webhook-secrets';
import { postWebhook, SendOutcome } from './webhook-sender';
import type { TenantWebhookEntity, WebhookDeliveryEntity } from './webhook.entity';
import { meetsSeverity, WEBHOOK_EVENTS, type MinSeverity, type WebhookNotification } from './webhook-notification';
import { WebhooksRepository } from './webhooks.repository';

export const WEBHOOK_DELIVERY_QUEUE = 'webhooks.deliver';
export const WEBHOOK_PRUNE_QUEUE = 'webhooks.prune';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DeliveryJob {
  deliveryId: string;
}

/**
 * The per-tenant outbound webhook. Collectors call `notify` inside the transaction that stores a new or
 * changed alert or incident: the delivery row and its job commit with the change or not at all. A
 * worker POSTs the fixed body, signed; a failed attempt is retried by pg-boss with exponential back-off
 * until the configured attempts are spent, and every attempt is in the delivery log.
 */
@Injectable()
export class WebhooksService implements OnModuleInit {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly tenants: TenantsService,
    private readonly secrets: WebhookSecrets,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
    private readonly metrics: WebhookMetrics,
    private readonly resolver: HostResolver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { maxAttempts, retryDelaySeconds, timeoutSeconds } = this.config.webhooks;
    this.jobs.register<DeliveryJob>({
      name: WEBHOOK_DELIVERY_QUEUE,
      // The attempt count in the delivery row decides when to stop; pg-boss's limit is only a backstop
      // (a job that dies with its process is retried once it expires, without an attempt recorded).
      options: { retryLimit: maxAttempts + 2, retryDelay: retryDelaySeconds, retryBackoff: true, expireInSeconds: timeoutSeconds + 60 },
      concurrency: 4,
      pollingIntervalSeconds: 1,
      handle: ({ deliveryId }) => this.deliver(deliveryId),
    });
    // The delivery log is kept as long as collected events (CORDON_EVENTS_RETENTION_DAYS).
    this.jobs.register({
      name: WEBHOOK_PRUNE_QUEUE,
      cron: '47 2 * * *',
      options: { expireInSeconds: 3600 },
      handle: async () => void (await this.prune(new Date())),
    });
  }

  /** Removes finished deliveries older than the retention before `now`; answers how many. */
  prune(now: Date): Promise<number> {
    return this.repository.deleteFinishedBefore(new Date(now.getTime() - this.config.eventsRetentionDays * 86_400_000));
  }

  async get(principal: Principal, tenantId: string): Promise<WebhookResponse> {
    await this.tenants.findVisible(principal, tenantId);
    const config = await this.repository.findConfig(tenantId);
    if (!config) throw problems.notFound(`Tenant ${tenantId} has no webhook; set one with PUT /v1/tenants/${tenantId}/webhook.`);
    return toWebhookResponse(config);
  }

  async put(principal: Principal, tenantId: string, input: PutWebhookDto, context: AuditContext): Promise<WebhookResponse> {
    await this.tenants.findVisible(principal, tenantId);
    await this.checkUrl(input.url).catch((error: unknown) => {
      throw error instanceof OutboundUrlRefused ? problems.validation([{ field: 'url', message: error.message }]) : error;
    });
    const minSeverity = input.minSeverity ?? 'informational';
    const sealed = this.secrets.seal(tenantId, input.secret);
    await this.repository.transaction(async (manager) => {
      const before = await this.repository.findConfig(tenantId, manager);
      await this.repository.saveConfig(manager, {
        tenantId,
        url: input.url,
        secretCiphertext: sealed.ciphertext,
        secretKeyId: sealed.keyId,
        minSeverity,
        updatedBy: describeActor(context.actor),
      });
      await this.auditLog.append(manager, {
        event: 'tenant.webhook.configured',
        actor: context.actor,
        tenantId,
        subject: `tenant:${tenantId}`,
        requestId: context.requestId,
        // Never the secret; only whether it changed.
        data: {
          before: before ? { url: before.url, minSeverity: before.minSeverity } : null,
          after: { url: input.url, minSeverity },
          secretChanged: !before || this.secrets.openOrNull(tenantId, before) !== input.secret,
        },
      });
    });
    return this.get(principal, tenantId);
  }

  async remove(principal: Principal, tenantId: string, context: AuditContext): Promise<void> {
    await this.tenants.findVisible(principal, tenantId);
    await this.repository.transaction(async (manager) => {
      const before = await this.repository.findConfig(tenantId, manager);
      if (!before) throw problems.notFound(`Tenant ${tenantId} has no webhook.`);
      await this.repository.deleteConfig(manager, tenantId);
      await this.auditLog.append(manager, {
        event: 'tenant.webhook.removed',
        actor: context.actor,
        tenantId,
        subject: `tenant:${tenantId}`,
        requestId: context.requestId,
        data: { before: { url: before.url, minSeverity: before.minSeverity } },
      });
    });
  }

  async deliveries(principal: Principal, tenantId: string, query: DeliveryQueryDto): Promise<Page<DeliveryResponse>> {
    await this.tenants.findVisible(principal, tenantId);
    const key = decodeCursor(query.cursor, 2);
    if (key && (typeof key[0] !== 'string' || Number.isNaN(Date.parse(key[0])) || typeof key[1] !== 'string' || !UUID.test(key[1]))) {
      throw problems.validation([{ field: 'cursor', message: 'cursor is not a cursor this server issued' }]);
    }
    const rows = await this.repository.pageDeliveries(
      tenantId,
      { status: query.status },
      query.limit + 1,
      key && { createdAt: key[0] as string, id: key[1] as string },
    );
    return toPage(rows, query.limit, (d) => [d.createdAt.toISOString(), d.id], toDeliveryResponse);
  }

  /**
   * Queues a delivery for each notification at or above the tenant's threshold, in the caller's
   * transaction (with PGlite nothing may run beside it). Answers how many were queued.
   */
  async notify(manager: EntityManager, tenantId: string, notifications: WebhookNotification[]): Promise<number> {
    if (notifications.length === 0) return 0;
    const config = await this.repository.findConfig(tenantId, manager);
    if (!config) return 0;
    const wanted = notifications.filter((n) => meetsSeverity(n.severity, config.minSeverity as MinSeverity));
    if (wanted.length === 0) return 0;
    const createdAt = new Date().toISOString();
    const deliveries = wanted.map((n) => {
      const id = randomUUID();
      return {
        id,
        event: n.event,
        objectId: n.objectId,
        severity: n.severity,
        url: config.url,
        payload: JSON.stringify({ id, event: n.event, tenantId, createdAt, data: n.data }),
      };
    });
    await this.repository.insertDeliveries(manager, tenantId, deliveries);
    for (const d of deliveries) await this.jobs.send<DeliveryJob>(WEBHOOK_DELIVERY_QUEUE, { deliveryId: d.id }, {}, manager);
    this.metrics.queued.inc({ tenant: tenantId }, deliveries.length);
    return deliveries.length;
  }

  /** One attempt at one delivery (the job handler). Throws to have pg-boss retry it later. */
  async deliver(deliveryId: string): Promise<void> {
    const delivery = await this.repository.findDelivery(deliveryId);
    if (!delivery || delivery.status !== 'pending') return; // done already: a job may run twice
    const config = await this.repository.findConfig(delivery.tenantId);
    if (!config) return this.give(delivery, 'the webhook was removed before this was delivered');
    const secret = this.secrets.openOrNull(delivery.tenantId, config);
    if (secret === null) return this.give(delivery, 'the webhook secret cannot be decrypted with the configured keys (rotated away?); set the webhook again');
    const outcome = await this.send(config.url, delivery, secret);
    const attempts = delivery.attempts + 1;
    if (outcome.error === null) {
      await this.repository.recordAttempt(delivery.id, { status: 'delivered', statusCode: outcome.status, error: null, url: config.url });
      this.metrics.attempts.inc({ tenant: delivery.tenantId, outcome: 'delivered' });
      return;
    }
    const final = attempts >= this.config.webhooks.maxAttempts;
    await this.repository.recordAttempt(delivery.id, {
      status: final ? 'failed' : 'pending',
      statusCode: outcome.status,
      error: outcome.error.slice(0, 2000),
      url: config.url,
    });
    this.metrics.attempts.inc({ tenant: delivery.tenantId, outcome: final ? 'failed' : 'retry' });
    this.logger.warn(
      { tenantId: delivery.tenantId, deliveryId, attempts, status: outcome.status },
      `webhook delivery ${final ? 'failed for good' : 'failed; retried later'}: ${outcome.error.slice(0, 300)}`,
    );
    if (!final) throw new Error(`webhook delivery ${deliveryId} attempt ${attempts} failed: ${outcome.error.slice(0, 300)}`);
  }

  /** The outbound rule (common/outbound-url.ts) with this deployment's allow-list. */
  private checkUrl(url: string) {
    return checkOutboundUrl(url, this.config.webhooks.allowedHosts, this.resolver);
  }

  /** Checks the URL again (its host may resolve elsewhere now) and POSTs to the address checked. */
  private async send(url: string, delivery: WebhookDeliveryEntity, secret: string): Promise<SendOutcome> {
    let target;
    try {
      target = await this.checkUrl(url);
    } catch (error) {
      if (error instanceof OutboundUrlRefused) return { status: null, error: `not sent: ${error.message}` };
      throw error;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      [DELIVERY_HEADER]: delivery.id,
      [EVENT_HEADER]: delivery.event,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signPayload(secret, timestamp, delivery.payload),
      'user-agent': 'Cordon-Webhook/1',
    };
    return postWebhook(target, headers, delivery.payload, this.config.webhooks.timeoutSeconds * 1000);
  }

  private async give(delivery: WebhookDeliveryEntity, why: string): Promise<void> {
    await this.repository.markFailed(delivery.id, why);
    this.metrics.attempts.inc({ tenant: delivery.tenantId, outcome: 'failed' });
  }
}

function toWebhookResponse(c: TenantWebhookEntity): WebhookResponse {
  return {
    tenantId: c.tenantId,
    url: c.url,
    minSeverity: c.minSeverity,
    secretSet: true,
    events: [...WEBHOOK_EVENTS],
    updatedBy: c.updatedBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function toDeliveryResponse(d: WebhookDeliveryEntity): DeliveryResponse {
  return {
    id: d.id,
    event: d.event,
    objectId: d.objectId,
    severity: d.severity,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    url: d.url,
    createdAt: d.createdAt.toISOString(),
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}
