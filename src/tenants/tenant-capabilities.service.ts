import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { Principal } from '../access/principal';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobsService } from '../jobs/jobs.service';
import { TokenProvider } from '../microsoft';
import type { CapabilityResult } from './capability';
import { CapabilityProbe } from './capability-probe';
import { CapabilitiesResponse } from './dto/policy.dto';
import { TenantCapabilityEntity, TenantEntity } from './tenant.entity';
import { TenantsRepository } from './tenants.repository';
import { PROBE_QUEUE, TenantsService } from './tenants.service';

const PROBE_ALL_QUEUE = 'tenants.probe-all';

interface ProbeJob {
  tenantId: string;
  requestId?: string;
  /** Queued at start for a tenant still `pending`: a probe cut off by a crash. Skipped once it is not. */
  recovery?: boolean;
}
const SYSTEM = { type: 'system' as const, id: 'capability-probe', name: 'capability probe' };

/** Capability rows as statuses by name. */
export function capabilityStatuses(rows: TenantCapabilityEntity[]): Record<string, { status: string; detail: string | null }> {
  return Object.fromEntries(rows.map((r) => [r.capability, { status: r.status, detail: r.detail }]));
}

/** Statuses by name without their details (what an action step sees). */
export function statusNames(statuses: Record<string, { status: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(statuses).map(([name, s]) => [name, s.status]));
}

/**
 * Capabilities per tenant: probed on registration, on request and daily; stored; audited when they
 * change. Other modules read them to skip what a tenant's licences or permissions do not allow.
 * A probe cut off by a crash leaves its tenant `pending` and its job active until pg-boss expires it
 * (15 minutes); so each worker process, when it starts, queues a probe for every tenant still pending.
 */
@Injectable()
export class TenantCapabilitiesService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(TenantCapabilitiesService.name);
  /** The probe in progress per tenant in this process: a second one waits for it (never two at once). */
  private readonly probing = new Map<string, Promise<void>>();

  constructor(
    private readonly tenants: TenantsService,
    private readonly repository: TenantsRepository,
    private readonly probe: CapabilityProbe,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokenProvider,
  ) {}

  onModuleInit(): void {
    this.jobs.register<ProbeJob>({
      name: PROBE_QUEUE,
      options: { retryLimit: 3, retryDelay: 30, retryBackoff: true },
      concurrency: 2,
      handle: async ({ tenantId, requestId, recovery }) => {
        await this.refreshById(tenantId, { actor: SYSTEM, requestId: requestId ?? randomUUID() }, recovery);
      },
    });
    // Daily re-probe of every enabled tenant (pg-boss cron: one run across all replicas).
    this.jobs.register({
      name: PROBE_ALL_QUEUE,
      cron: '17 3 * * *',
      handle: async () => {
        for (const tenantId of await this.repository.listEnabledIds()) await this.jobs.send(PROBE_QUEUE, { tenantId }, { singletonKey: tenantId });
      },
    });
  }

  /**
   * Re-queues the probe of every tenant left `pending` (in worker processes, as they start). Replicas
   * starting together queue one job per tenant between them (a pg-boss singleton per tenant and
   * minute), and the job does nothing for a tenant another probe has settled meanwhile.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.workers) return;
    try {
      for (const tenantId of await this.repository.listPendingIds()) {
        this.logger.warn({ tenantId }, 'probing again a tenant whose probe never finished');
        await this.jobs.send<ProbeJob>(PROBE_QUEUE, { tenantId, recovery: true }, { singletonKey: `recover:${tenantId}`, singletonSeconds: 60 });
      }
    } catch (error) {
      this.logger.error({ err: error }, 'queueing the probes of pending tenants failed');
    }
  }

  async get(principal: Principal, tenantId: string): Promise<CapabilitiesResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const rows = await this.repository.capabilities(tenantId);
    return {
      tenantId,
      connection: tenant.connectionStatus,
      connectionDetail: tenant.connectionDetail,
      capabilities: rows.map((r) => ({ capability: r.capability, status: r.status, detail: r.detail, checkedAt: r.checkedAt.toISOString() })),
    };
  }

  /** Every capability of the tenant, by name, in one query. */
  async statusesOf(tenantId: string): Promise<Record<string, { status: string; detail: string | null }>> {
    return capabilityStatuses(await this.repository.capabilities(tenantId));
  }

  /** The stored status of one capability (undefined until the first probe), for modules deciding what to skip. */
  async statusOf(tenantId: string, capability: string): Promise<{ status: string; detail: string | null } | undefined> {
    const row = (await this.repository.capabilities(tenantId)).find((r) => r.capability === capability);
    return row && { status: row.status, detail: row.detail };
  }

  /** Probes now and answers with the result. */
  async refresh(principal: Principal, tenantId: string, context: AuditContext): Promise<CapabilitiesResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    // Asked for now: with fresh tokens, whose roles are what is granted now (a cached token keeps the roles it was issued with).
    await this.forgetTokens(tenant);
    await this.refreshById(tenantId, context);
    return this.get(principal, tenantId);
  }

  /** Probes the tenant now (after an admin consent), without a caller's tenant scope to check. */
  async probeNow(tenantId: string, context: AuditContext): Promise<void> {
    const tenant = await this.repository.findLive(tenantId);
    if (tenant) await this.forgetTokens(tenant); // tokens from before a consent carry the old roles
    return this.refreshById(tenantId, context);
  }

  /** Drops this process's tokens of the tenant's app registrations (the main one and the privileged one). */
  private async forgetTokens(tenant: TenantEntity): Promise<void> {
    this.tokens.forget(this.tenants.credentialsOf(tenant));
    const privileged = await this.tenants.privilegedCredentialsOf(tenant);
    if (privileged) this.tokens.forget(privileged);
  }

  /** Probes the tenant once the probe this process may be running for it has finished. */
  private async refreshById(tenantId: string, context: AuditContext, onlyIfPending = false): Promise<void> {
    const previous = this.probing.get(tenantId) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.probeAndStore(tenantId, context, onlyIfPending));
    this.probing.set(tenantId, current);
    try {
      await current;
    } finally {
      if (this.probing.get(tenantId) === current) this.probing.delete(tenantId);
    }
  }

  private async probeAndStore(tenantId: string, context: AuditContext, onlyIfPending: boolean): Promise<void> {
    const tenant = await this.repository.findLive(tenantId);
    if (!tenant) return; // deleted since the job was queued
    if (onlyIfPending && tenant.connectionStatus !== 'pending') return; // another probe settled it
    const outcome = await this.probe.probe(this.tenants.credentialsOf(tenant), await this.tenants.privilegedCredentialsOf(tenant));
    const checkedAt = new Date();
    await this.repository.transaction(async (manager) => {
      const before = new Map((await this.repository.capabilities(tenantId, manager)).map((r) => [r.capability, r]));
      const changes = outcome.capabilities.filter(
        (c) => before.get(c.capability)?.status !== c.status || (before.get(c.capability)?.detail ?? null) !== c.detail,
      );
      await this.repository.replaceCapabilities(
        manager,
        tenantId,
        outcome.capabilities.map((c) => Object.assign(new TenantCapabilityEntity(), { tenantId, ...c, checkedAt })),
      );
      await this.repository.update(manager, tenantId, {
        connectionStatus: outcome.connection.status,
        connectionDetail: outcome.connection.detail,
        connectionCheckedAt: checkedAt,
      });
      if (tenant.connectionStatus !== outcome.connection.status || tenant.connectionDetail !== outcome.connection.detail) {
        await this.auditLog.append(manager, {
          event: 'tenant.connection.changed',
          actor: context.actor,
          tenantId,
          subject: `tenant:${tenantId}`,
          requestId: context.requestId,
          data: { from: tenant.connectionStatus, to: outcome.connection.status, detail: outcome.connection.detail },
        });
      }
      if (changes.length > 0) {
        await this.auditLog.append(manager, {
          event: 'tenant.capabilities.changed',
          actor: context.actor,
          tenantId,
          subject: `tenant:${tenantId}`,
          requestId: context.requestId,
          data: {
            changes: changes.map((c: CapabilityResult) => ({
              capability: c.capability,
              from: before.get(c.capability)?.status ?? null,
              to: c.status,
              detail: c.detail,
            })),
          },
        });
      }
    });
    this.logger.log({ tenantId, connection: outcome.connection.status }, 'capabilities probed');
  }
}
