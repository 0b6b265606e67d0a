import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { EventStore } from '../../collection/event-store';
import type { NormalizedEvent } from '../../collection/collector';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsService } from '../../jobs/jobs.service';
import { GraphClientFactory, MicrosoftApiError, type TenantGraphClient } from '../../microsoft';
import { TenantsService } from '../../tenants/tenants.service';
import { normalizeAuditLogRecord } from './purview-normalize';
import type { PurviewSearchEntity } from './purview-search.entity';
import { PurviewSearchRepository } from './purview-search.repository';

export const PURVIEW_SEARCH_QUEUE = 'purview.search';
export const PURVIEW_SOURCE = 'purview-search';
export const PURVIEW_STREAM = 'Purview.AuditSearch';
const QUERIES = '/security/auditLog/queries';
/** Marks a search whose create call was sent but not yet recorded: after a crash, look for it first. */
const CREATING = 'creating';
/** How long a step holds its search without renewing; a worker that died frees it after this. */
const LEASE_SECONDS = 60;
export const PURVIEW_SWEEP_QUEUE = 'purview.search.sweep';

interface AuditLogQuery {
  id: string;
  displayName?: string | null;
  status?: string;
}

interface GraphPage {
  value?: Array<Record<string, unknown>>;
  '@odata.nextLink'?: string;
}

/** Microsoft answers that no retry will change: the search fails with what Microsoft said. */
const PERMANENT = new Set(['bad-request', 'forbidden', 'unlicensed', 'not-found', 'unauthorized']);

/**
 * Runs Purview audit searches (microsoft-notes §3.4) as a chain of pg-boss jobs, so that a search survives
 * restarts: create the query at Microsoft, poll it with growing pauses (each poll is a job scheduled
 * in the transaction that records the last one), then read its records page by page, each page
 * stored with the `@odata.nextLink` to resume from in one transaction. Every step can run twice.
 */
@Injectable()
export class PurviewSearchProcessor implements OnModuleInit {
  private readonly logger = new Logger(PurviewSearchProcessor.name);

  constructor(
    private readonly repository: PurviewSearchRepository,
    private readonly jobs: JobsService,
    private readonly graphs: GraphClientFactory,
    private readonly tenants: TenantsService,
    private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register<{ searchId: string }>({
      name: PURVIEW_SEARCH_QUEUE,
      // A step that fails transiently (Microsoft unavailable after the client's retries, a crash) is
      // retried by pg-boss with back-off; one that can never succeed fails the search instead.
      options: { policy: 'short', retryLimit: 8, retryDelay: 15, retryBackoff: true, expireInSeconds: 900 },
      concurrency: 2,
      pollingIntervalSeconds: 1,
      handle: ({ searchId }) => this.advance(searchId),
    });
    // A chain whose job pg-boss gave up on, or whose worker died holding it, is picked up again.
    this.jobs.register({ name: PURVIEW_SWEEP_QUEUE, cron: '*/5 * * * *', handle: async () => void (await this.sweep()) });
  }

  /** Enqueues a step for every unfinished search that has not moved for a while (one waits per search). */
  async sweep(): Promise<number> {
    const stale = await this.repository.openSince(this.config.purviewSearch.maxPollSeconds + 2 * LEASE_SECONDS);
    for (const searchId of stale) await this.enqueue(searchId);
    return stale.length;
  }

  /** Queues the search's next step; at most one waits per search (the queue's `short` policy). */
  enqueue(searchId: string, startAfterSeconds = 0, manager?: EntityManager): Promise<string | null> {
    return this.jobs.send(
      PURVIEW_SEARCH_QUEUE,
      { searchId },
      { singletonKey: searchId, ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) },
      manager,
    );
  }

  /** Takes the search one step further (or to its end), holding its lease meanwhile. */
  async advance(searchId: string): Promise<void> {
    const owner = randomUUID();
    if (!(await this.repository.claimLease(searchId, owner, LEASE_SECONDS))) {
      // Another worker has it (or died holding it): look again once the lease may have lapsed.
      await this.enqueue(searchId, LEASE_SECONDS);
      return;
    }
    const heartbeat = setInterval(
      () => {
        this.repository
          .renewLease(searchId, owner, LEASE_SECONDS)
          .catch((error) => this.logger.warn({ searchId, err: error }, 'purview search lease renewal failed'));
      },
      (LEASE_SECONDS * 1000) / 3,
    );
    try {
      await this.step(searchId);
    } finally {
      clearInterval(heartbeat);
      await this.repository.releaseLease(searchId, owner);
    }
  }

  private async step(searchId: string): Promise<void> {
    const search = await this.repository.find(searchId);
    if (!search || search.status === 'succeeded' || search.status === 'failed') return;
    const tenant = await this.tenants.findLive(search.tenantId);
    if (!tenant || !tenant.enabled) return this.fail(search, 'the tenant was disabled or removed before the search finished');
    if (Date.now() - search.createdAt.getTime() > this.config.purviewSearch.timeoutHours * 3_600_000) {
      return this.fail(search, `not finished after ${this.config.purviewSearch.timeoutHours} h`);
    }
    const graph = this.graphs.forTenant(this.tenants.credentialsOf(tenant));
    try {
      if (search.status === 'queued') return await this.submit(search, graph);
      if (search.status === 'submitted' && !(await this.poll(search, graph))) return;
      await this.collect(search.id, graph);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof MicrosoftApiError && PERMANENT.has(error.kind)) return this.fail(search, message);
      await this.repository.update(search.id, { error: `retrying: ${message}`.slice(0, 2000) });
      this.logger.warn({ searchId, err: error }, 'purview search step failed; retried');
      throw error;
    }
  }

  private async submit(search: PurviewSearchEntity, graph: TenantGraphClient): Promise<void> {
    const displayName = `cordon-${search.id}`;
    // A previous attempt may have created the query and died before recording it.
    let query = search.microsoftStatus === CREATING ? (await graph.all<AuditLogQuery>(QUERIES)).find((q) => q.displayName === displayName) : undefined;
    if (!query) {
      await this.repository.update(search.id, { microsoftStatus: CREATING });
      query = await graph.post<AuditLogQuery>(QUERIES, {
        displayName,
        filterStartDateTime: search.filterStart.toISOString(),
        filterEndDateTime: search.filterEnd.toISOString(),
        recordTypeFilters: search.recordTypes,
        userPrincipalNameFilters: search.users,
        operationFilters: search.operations,
        ...(search.service ? { serviceFilter: search.service } : {}),
      });
    }
    await this.repository.transaction(async (manager) => {
      await this.repository.update(search.id, { status: 'submitted', queryId: query.id, microsoftStatus: query.status ?? 'notStarted', error: null }, manager);
      await this.enqueue(search.id, this.config.purviewSearch.pollSeconds, manager);
    });
  }

  /** Answers true once Microsoft has finished the query; otherwise schedules the next poll. */
  private async poll(search: PurviewSearchEntity, graph: TenantGraphClient): Promise<boolean> {
    const query = await graph.get<AuditLogQuery>(`${QUERIES}/${encodeURIComponent(search.queryId!)}`);
    const status = query.status ?? 'unknown';
    if (status === 'succeeded') {
      await this.repository.update(search.id, { status: 'collecting', microsoftStatus: status, polls: search.polls + 1, error: null });
      return true;
    }
    if (status === 'failed' || status === 'cancelled') {
      await this.fail(search, `Microsoft reports the audit query ${status}`, status);
      return false;
    }
    const { pollSeconds, maxPollSeconds } = this.config.purviewSearch;
    const wait = Math.min(maxPollSeconds, pollSeconds * 2 ** Math.min(search.polls, 16));
    await this.repository.transaction(async (manager) => {
      await this.repository.update(search.id, { microsoftStatus: status, polls: search.polls + 1, error: null }, manager);
      await this.enqueue(search.id, wait, manager);
    });
    return false;
  }

  /** Reads the records to the last page, resuming where a previous attempt stopped. */
  private async collect(searchId: string, graph: TenantGraphClient): Promise<void> {
    const key = { tenantId: '', source: PURVIEW_SOURCE, stream: PURVIEW_STREAM };
    for (;;) {
      const search = await this.repository.find(searchId);
      if (!search || search.status !== 'collecting') return;
      key.tenantId = search.tenantId;
      const page = await graph.get<GraphPage>(search.nextLink ?? `${QUERIES}/${encodeURIComponent(search.queryId!)}/records`);
      const items = page.value ?? [];
      const records: NormalizedEvent[] = [];
      for (const item of items) {
        const normalized = item && typeof item === 'object' ? normalizeAuditLogRecord(item) : null;
        if (normalized) records.push(normalized);
      }
      const unusable = items.length - records.length;
      const next = page['@odata.nextLink'] ?? null;
      await this.repository.transaction(async (manager) => {
        const stored = await this.events.storeRecords(key, records, manager);
        await this.repository.recordPage(manager, searchId, { fetched: items.length, ...stored, nextLink: next });
        // Never dropped silently: the search says how many records could not be stored.
        if (unusable > 0)
          await this.repository.update(searchId, { error: `${unusable} record(s) without an id or a valid createdDateTime were not stored` }, manager);
      });
      if (!next) return;
    }
  }

  private async fail(search: PurviewSearchEntity, error: string, microsoftStatus?: string): Promise<void> {
    await this.repository.update(search.id, {
      status: 'failed',
      error: error.slice(0, 2000),
      completedAt: new Date(),
      ...(microsoftStatus ? { microsoftStatus } : {}),
    });
    this.logger.warn({ searchId: search.id, tenantId: search.tenantId }, `purview search failed: ${error}`);
  }
}
