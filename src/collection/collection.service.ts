import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { Principal } from '../access/principal';
import { Problem, problems } from '../common/problem';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobsService } from '../jobs/jobs.service';
import { TenantCapabilitiesService } from '../tenants/tenant-capabilities.service';
import { TenantsService } from '../tenants/tenants.service';
import { CollectionRunnerService } from './collection-runner.service';
import type { CollectionGapEntity, CollectionRunEntity, CollectionStreamEntity, ListingState } from './collection.entity';
import { CollectionRepository, StreamKey } from './collection.repository';
import { CollectorRegistry } from './collector-registry';
import {
  CollectionAccountingResponse,
  CollectionListingResponse,
  CollectionResponse,
  CollectionRunQueuedResponse,
  CollectionRunSummary,
  CollectionStreamResponse,
  UpdateCollectionStreamDto,
} from './dto/collection.dto';

export const COLLECTION_TICK_QUEUE = 'collection.tick';
export const COLLECTION_RUN_QUEUE = 'collection.run';
const UNUSABLE = new Set(['unlicensed', 'forbidden']);
/** The period the status accounts for: as long as the Management Activity API lists content (microsoft-notes §2.2). */
const ACCOUNTING_DAYS = 7;

interface RunJob extends StreamKey {
  trigger: CollectionRunEntity['trigger'];
  /** A run rescheduled after throttling: it claims the stream's due slot as the tick would. */
  resume?: boolean;
}

/**
 * Scheduling and the operator's view of collection. A pg-boss cron (one tick a minute across all
 * replicas) claims the (tenant, stream) pairs whose interval has elapsed and enqueues one run each,
 * keyed by the pair so at most one waits; the runner's lease makes one run at a time per pair, while
 * different pairs spread over every replica's workers.
 */
@Injectable()
export class CollectionService implements OnModuleInit {
  private readonly logger = new Logger(CollectionService.name);

  constructor(
    private readonly repository: CollectionRepository,
    private readonly registry: CollectorRegistry,
    private readonly runner: CollectionRunnerService,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({ name: COLLECTION_TICK_QUEUE, cron: '* * * * *', handle: async () => void (await this.tick(new Date())) });
    this.jobs.register<RunJob>({
      name: COLLECTION_RUN_QUEUE,
      // At most one run waits per stream (`short`); the runner's lease keeps it to one at a time across
      // replicas, and lapses when a process dies (a pg-boss active job would block the key until it expires).
      // A run records its own failure and the next tick retries; pg-boss does not run it again.
      options: { policy: 'short', retryLimit: 0, expireInSeconds: 4 * 3600 },
      concurrency: this.config.collection.workerConcurrency,
      pollingIntervalSeconds: 1,
      handle: async ({ tenantId, source, stream, trigger, resume }) => {
        const key = { tenantId, source, stream };
        // The probe may have found the licence or consent gone since this run was queued: skip, do not fail.
        if (await this.unusable(key)) return;
        // A resumed run that the tick (or an earlier resume) already claimed has nothing to do.
        if (resume && !(await this.repository.claimDueStream(key, new Date()))) return;
        const status = await this.runner.run(key, trigger);
        if (status === 'throttled' && this.registry.get(source)?.resumesThrottled) await this.resumeLater(key);
      },
    });
  }

  /** Creates stream rows for enabled tenants and enqueues the runs that are due. */
  async tick(now: Date): Promise<number> {
    for (const tenant of await this.tenants.listEnabled()) await this.ensureStreams(tenant.id);
    const due = await this.repository.claimDueStreams(now);
    let queued = 0;
    for (const key of due) {
      if (await this.unusable(key)) continue; // the tenant's licences or consent do not allow it
      if (await this.enqueue(key, 'schedule')) queued += 1;
    }
    if (queued) this.logger.debug(`collection: ${queued} run(s) enqueued`);
    return queued;
  }

  async status(principal: Principal, tenantId: string): Promise<CollectionResponse> {
    await this.tenants.findVisible(principal, tenantId);
    await this.ensureStreams(tenantId);
    const capabilities = await this.capabilities.statusesOf(tenantId);
    const runs = [];
    for (const row of await this.repository.streamsOf(tenantId)) {
      const key = { tenantId, source: row.source, stream: row.stream };
      const capability = this.registry.get(row.source)?.streams.find((s) => s.name === row.stream)?.capability;
      const [lastRun, lastSuccess, gapCount, gaps, last7Days] = await Promise.all([
        this.repository.lastRun(key),
        this.repository.lastSucceededRun(key),
        this.repository.countGaps(key),
        this.repository.recentGaps(key, 10),
        this.accounting(key),
      ]);
      runs.push({
        key: `${row.source}/${row.stream}`,
        lastRun,
        lastSuccess,
        gapCount,
        gaps,
        last7Days,
        capability: capability ? (capabilities[capability] ?? null) : null,
      });
    }
    // The rows (cursor, last error) are read again after the runs: a run moves its cursor and records its
    // error before it is marked finished, so a finished run is never shown with the state from before it.
    const rows = new Map((await this.repository.streamsOf(tenantId)).map((r) => [`${r.source}/${r.stream}`, r]));
    const sources = runs
      .filter((r) => rows.has(r.key))
      .map((r) => toStreamResponse(rows.get(r.key)!, r.lastRun, r.lastSuccess, r.gapCount, r.gaps, r.capability, r.last7Days));
    return { tenantId, sources };
  }

  async update(
    principal: Principal,
    tenantId: string,
    streamName: string,
    input: UpdateCollectionStreamDto,
    context: AuditContext,
  ): Promise<CollectionStreamResponse> {
    await this.tenants.findVisible(principal, tenantId);
    const key = await this.keyOf(tenantId, streamName);
    await this.repository.transaction(async (manager) => {
      const row = (await this.repository.findStream(key, manager))!;
      const changed: Record<string, unknown> = {};
      const changes: Partial<CollectionStreamEntity> = {};
      if (input.enabled !== undefined && input.enabled !== row.enabled) {
        changes.enabled = input.enabled;
        changed.enabled = { from: row.enabled, to: input.enabled };
      }
      if (input.intervalMinutes !== undefined && input.intervalMinutes !== row.intervalMinutes) {
        changes.intervalMinutes = input.intervalMinutes;
        changes.nextRunAt = new Date(Date.now() + input.intervalMinutes * 60_000);
        changed.intervalMinutes = { from: row.intervalMinutes, to: input.intervalMinutes };
      }
      if (Object.keys(changes).length === 0) return;
      await this.repository.updateStream(key, changes, manager);
      await this.auditLog.append(manager, {
        event: 'collection.configured',
        actor: context.actor,
        tenantId,
        subject: `collection:${key.source}:${key.stream}`,
        requestId: context.requestId,
        data: { source: key.source, stream: key.stream, changed },
      });
    });
    return (await this.status(principal, tenantId)).sources.find((s) => s.source === key.source && s.stream === key.stream)!;
  }

  /** `POST …/collection/{source}/run`: enqueues a run now (the worker picks it up). */
  async runNow(principal: Principal, tenantId: string, streamName: string): Promise<CollectionRunQueuedResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const key = await this.keyOf(tenantId, streamName);
    const row = await this.repository.findStream(key);
    if (!tenant.enabled || !row?.enabled)
      throw new Problem(
        409,
        'collection-disabled',
        'Collection disabled',
        `Collection of ${key.stream} is disabled for tenant ${tenantId} (or the tenant is disabled); enable it first.`,
      );
    const skipped = await this.unusable(key);
    if (skipped) {
      throw new Problem(
        409,
        'capability-unavailable',
        'Capability unavailable',
        `Collection of ${key.stream} needs ${skipped.capability}, which is ${skipped.status}${skipped.detail ? `: ${skipped.detail}` : ''} for this tenant.`,
        { capability: skipped.capability, capabilityStatus: skipped.status },
      );
    }
    const queued = await this.enqueue(key, 'manual');
    return { tenantId, source: key.source, stream: key.stream, queued };
  }

  /**
   * The last 7 days of a stream from the content ledger: blobs listed = stored + gaps + pending, and the
   * records they held. Sources without content units count records from their runs.
   */
  private async accounting(key: StreamKey): Promise<CollectionAccountingResponse> {
    const since = new Date(Date.now() - ACCOUNTING_DAYS * 86_400_000);
    const collector = this.registry.get(key.source);
    if (!collector?.units) {
      const [runs, gaps] = await Promise.all([this.repository.runTotalsSince(key, since), this.repository.countGapsSince(key, since)]);
      return { since: since.toISOString(), listed: null, stored: null, gaps, pending: null, failed: null, records: runs.records, duplicates: runs.duplicates };
    }
    const { byStatus, records, duplicates } = await this.repository.ledgerSummary(key, since);
    const listed = byStatus.listed + byStatus.done + byStatus.gap + byStatus.failed;
    return {
      since: since.toISOString(),
      listed,
      stored: byStatus.done,
      gaps: byStatus.gap,
      pending: byStatus.listed + byStatus.failed,
      failed: byStatus.failed,
      records,
      duplicates,
    };
  }

  /** The capability gating a stream, when the last probe found it unlicensed or forbidden (the stream is skipped). */
  private async unusable(key: StreamKey): Promise<{ capability: string; status: string; detail: string | null } | undefined> {
    const capability = this.registry.get(key.source)?.streams.find((s) => s.name === key.stream)?.capability;
    const found = capability ? await this.capabilities.statusOf(key.tenantId, capability) : undefined;
    return capability && found && UNUSABLE.has(found.status) ? { capability, ...found } : undefined;
  }

  /**
   * A throttled run's next run, enqueued at once to start at the resume time the runner wrote to the stream
   * (microsoft-notes M58), not at the next interval. Should this process die first, the tick claims the stream
   * at that time instead; a run already waiting for the stream takes the place of this one.
   */
  private async resumeLater(key: StreamKey): Promise<void> {
    const row = await this.repository.findStream(key);
    if (!row?.enabled) return;
    const startAfter = new Date(Math.max(row.nextRunAt.getTime(), Date.now()));
    const id = await this.jobs.send<RunJob>(
      COLLECTION_RUN_QUEUE,
      { ...key, trigger: 'schedule', resume: true },
      { singletonKey: `${key.tenantId}|${key.source}|${key.stream}|resume`, startAfter },
    );
    this.logger.log({ ...key, resumesAt: startAfter.toISOString(), queued: id !== null }, 'throttled collection rescheduled');
  }

  private async enqueue(key: StreamKey, trigger: RunJob['trigger']): Promise<boolean> {
    const id = await this.jobs.send<RunJob>(COLLECTION_RUN_QUEUE, { ...key, trigger }, { singletonKey: `${key.tenantId}|${key.source}|${key.stream}` });
    return id !== null;
  }

  private async ensureStreams(tenantId: string): Promise<void> {
    for (const collector of this.registry.all()) {
      const [on, off] = [collector.streams.filter((s) => s.enabledByDefault !== false), collector.streams.filter((s) => s.enabledByDefault === false)];
      await this.repository.ensureStreams(
        tenantId,
        collector.source,
        on.map((s) => s.name),
        this.config.collection.intervalMinutes,
      );
      await this.repository.ensureStreams(
        tenantId,
        collector.source,
        off.map((s) => s.name),
        this.config.collection.intervalMinutes,
        false,
      );
    }
  }

  private async keyOf(tenantId: string, streamName: string): Promise<StreamKey> {
    const found = this.registry.byStream(streamName);
    if (!found) throw problems.notFound(`No collection source ${streamName}; see GET /v1/tenants/${tenantId}/collection.`);
    await this.ensureStreams(tenantId);
    return { tenantId, source: found.collector.source, stream: found.stream };
  }
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function toRunSummary(run: CollectionRunEntity): CollectionRunSummary {
  return {
    id: run.id,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: iso(run.finishedAt),
    durationSeconds: run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null,
    windowStart: iso(run.windowStart),
    windowEnd: iso(run.windowEnd),
    fetched: run.fetched,
    new: run.inserted,
    duplicates: run.duplicates,
    updated: run.updated,
    blobs: run.blobs,
    gaps: run.gaps,
    error: run.error,
  };
}

function toListing(state: ListingState | null): CollectionListingResponse | null {
  if (!state) return null;
  return {
    complete: false,
    windowStart: state.windowStart,
    windowEnd: state.windowEnd,
    pages: state.pages,
    blobs: state.blobs,
    resumesAt: state.nextPage ? 'next-page' : 'window-start',
    error: state.error,
    at: state.at,
  };
}

function toStreamResponse(
  row: CollectionStreamEntity,
  lastRun: CollectionRunEntity | null,
  lastSuccess: CollectionRunEntity | null,
  gapCount: number,
  gaps: CollectionGapEntity[],
  capability: { status: string; detail: string | null } | null,
  last7Days: CollectionAccountingResponse,
): CollectionStreamResponse {
  const skipped = capability && UNUSABLE.has(capability.status);
  return {
    source: row.source,
    stream: row.stream,
    enabled: row.enabled,
    capability: capability?.status ?? null,
    state: !row.enabled ? 'disabled' : skipped ? 'skipped' : 'active',
    skipReason: skipped ? `${capability.status}${capability.detail ? `: ${capability.detail}` : ''}` : null,
    subscription: row.subscriptionStatus,
    schedule: { intervalMinutes: row.intervalMinutes, nextRunAt: row.nextRunAt.toISOString() },
    cursor: iso(row.cursor),
    newestRecordAt: iso(row.newestRecordAt),
    lagSeconds: row.newestRecordAt ? Math.max(0, Math.round((Date.now() - row.newestRecordAt.getTime()) / 1000)) : null,
    lastRun: lastRun ? toRunSummary(lastRun) : null,
    lastSuccessAt: iso(lastSuccess?.finishedAt ?? null),
    gapCount,
    gaps: gaps.map((g) => ({
      id: g.id,
      reason: g.reason,
      contentId: g.contentId,
      windowStart: iso(g.windowStart),
      windowEnd: iso(g.windowEnd),
      detail: g.detail,
      detectedAt: g.detectedAt.toISOString(),
    })),
    lastError: row.lastError ? { message: row.lastError, at: iso(row.lastErrorAt) } : null,
    last7Days,
    listing: toListing(row.listing),
  };
}
