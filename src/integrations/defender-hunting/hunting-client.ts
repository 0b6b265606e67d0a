import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { GraphClientFactory, MicrosoftApiError, type TenantCredentials } from '../../microsoft';
import type { HuntingRow } from './hunting-normalize';

export const RUN_HUNTING_QUERY = '/security/runHuntingQuery';
const CYCLE_MS = 15 * 60_000;

export interface HuntingColumn {
  name: string;
  type: string;
}

export interface HuntingResult {
  schema: HuntingColumn[];
  results: HuntingRow[];
}

/** One of the doc's samples spells the schema `Name`/`Type` (microsoft-notes §10). */
function column(raw: unknown): HuntingColumn {
  const entry = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const read = (key: string) => String(Object.entries(entry).find(([k]) => k.toLowerCase() === key)?.[1] ?? '');
  return { name: read('name'), type: read('type') };
}

/**
 * Runs hunting queries for every caller in this process (the collector's streams and on-demand
 * queries), within the tenant's quotas (microsoft-notes M41): at most `callsPerMinute` calls per tenant,
 * waiting for a slot rather than being throttled; and once Microsoft has answered 429 (after the Graph
 * client's own retries), no call for that tenant until its Retry-After has passed, or the end of the
 * 15-minute CPU cycle when the answer names the CPU quota. A blocked call fails at once with a
 * `throttled` MicrosoftApiError saying until when and why, which the collection engine shows as a
 * `throttled` run.
 */
@Injectable()
export class HuntingClient {
  private readonly logger = new Logger(HuntingClient.name);
  /** Per tenant, the times (ms) its recent calls were let through (or are booked for). */
  private readonly calls = new Map<string, number[]>();
  private readonly blocked = new Map<string, { until: number; reason: string }>();

  constructor(
    private readonly graphs: GraphClientFactory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(credentials: TenantCredentials, query: string, timespan?: string, signal?: AbortSignal): Promise<HuntingResult> {
    const tenant = credentials.tenantId;
    this.assertNotBlocked(tenant);
    await this.slot(tenant, signal);
    try {
      const body = await this.graphs
        .forTenant(credentials)
        .post<{ schema?: unknown[]; results?: HuntingRow[] }>(RUN_HUNTING_QUERY, timespan ? { Query: query, Timespan: timespan } : { Query: query });
      return { schema: (body?.schema ?? []).map(column), results: Array.isArray(body?.results) ? body.results : [] };
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.kind === 'throttled') this.block(tenant, error);
      throw error;
    }
  }

  /** When this tenant may query again, if it is blocked now. */
  blockedUntil(tenantId: string): Date | null {
    const b = this.blocked.get(tenantId);
    return b && b.until > Date.now() ? new Date(b.until) : null;
  }

  private block(tenant: string, error: MicrosoftApiError): void {
    const now = Date.now();
    const cpu = /\bCPU\b/i.test(error.message);
    const until =
      error.retryAfterSeconds !== undefined ? now + error.retryAfterSeconds * 1000 : cpu ? (Math.floor(now / CYCLE_MS) + 1) * CYCLE_MS : now + 60_000;
    const reason = cpu ? "the tenant's advanced hunting CPU quota is used up" : "the tenant's advanced hunting call limit was reached";
    this.blocked.set(tenant, { until, reason });
    this.logger.warn(`advanced hunting for tenant ${tenant}: ${reason}; no queries until ${new Date(until).toISOString()}`);
  }

  private assertNotBlocked(tenant: string): void {
    const b = this.blocked.get(tenant);
    if (!b) return;
    if (b.until <= Date.now()) {
      this.blocked.delete(tenant);
      return;
    }
    throw new MicrosoftApiError({
      kind: 'throttled',
      resource: 'graph',
      status: 429,
      code: 'TooManyRequests',
      message: `${b.reason}; Cordon waits until ${new Date(b.until).toISOString()} before querying again`,
      retryAfterSeconds: Math.ceil((b.until - Date.now()) / 1000),
      method: 'POST',
      url: `/v1.0${RUN_HUNTING_QUERY}`,
      attempts: 0,
    });
  }

  /** Books the tenant's next free call slot (synchronously, so parallel callers queue) and waits for it. */
  private async slot(tenant: string, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const limit = this.config.hunting.callsPerMinute;
    const recent = (this.calls.get(tenant) ?? []).filter((t) => t > now - 60_000);
    const at = recent.length >= limit ? recent[recent.length - limit] + 60_000 : now;
    recent.push(at);
    this.calls.set(tenant, recent);
    if (at > now) await sleep(at - now, undefined, { signal });
  }
}
