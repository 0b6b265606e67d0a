import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MicrosoftApiError } from '../microsoft';
import { TenantsService } from '../tenants/tenants.service';
import type { CollectionRunEntity, CollectionStreamEntity, RunStatus } from './collection.entity';
import type { TenantEntity } from '../tenants/tenant.entity';
import { CollectionMetrics } from './collection.metrics';
import { CollectionRepository, StreamKey } from './collection.repository';
import type { CollectSink, Collector } from './collector';
import { CollectorRegistry } from './collector-registry';
import { EventStore } from './event-store';

/** Collection runs as the system, never as the caller who asked for it. */
export const COLLECTION_ACTOR = { type: 'system' as const, id: 'collection', name: 'telemetry collection' };

interface RunTotals {
  fetched: number;
  inserted: number;
  duplicates: number;
  updated: number;
  blobs: number;
  gaps: number;
  windowStart: Date | null;
  windowEnd: Date | null;
}

/**
 * One run of one (tenant, source, stream): the collector reads its provider and hands results to the
 * sink built here, which stores records through the EventStore (a unit with its ledger entry, in one
 * transaction) and moves the cursor only when the collector says everything before it is stored. A run that dies mid-way leaves the
 * cursor where it was; the next run re-lists, skips handled units and dedupes records.
 */
@Injectable()
export class CollectionRunnerService {
  private readonly logger = new Logger(CollectionRunnerService.name);

  constructor(
    private readonly repository: CollectionRepository,
    private readonly events: EventStore,
    private readonly registry: CollectorRegistry,
    private readonly tenants: TenantsService,
    private readonly auditLog: AuditLogService,
    private readonly metrics: CollectionMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(key: StreamKey, trigger: CollectionRunEntity['trigger']): Promise<CollectionRunEntity['status'] | 'skipped'> {
    const collector = this.registry.get(key.source);
    const tenant = await this.tenants.findLive(key.tenantId);
    const stream = await this.repository.findStream(key);
    if (!collector || !tenant || !tenant.enabled || !stream || !stream.enabled) return 'skipped';

    const owner = randomUUID();
    const leaseSeconds = this.config.collection.leaseSeconds;
    if (!(await this.repository.claimLease(key, owner, leaseSeconds))) return 'skipped'; // another runner has it
    const heartbeat = setInterval(
      () => {
        this.repository.renewLease(key, owner, leaseSeconds).catch((error) => this.logger.warn({ ...key, err: error }, 'collection lease renewal failed'));
      },
      (leaseSeconds * 1000) / 3,
    );
    try {
      return await this.runHoldingLease(key, trigger, collector, tenant, stream);
    } finally {
      clearInterval(heartbeat);
      await this.repository.releaseLease(key, owner);
    }
  }

  private async runHoldingLease(
    key: StreamKey,
    trigger: CollectionRunEntity['trigger'],
    collector: Collector,
    tenant: TenantEntity,
    stream: CollectionStreamEntity,
  ): Promise<CollectionRunEntity['status']> {
    await this.repository.failInterruptedRuns(key);
    const started = Date.now();
    const run = await this.repository.startRun(key, trigger);
    const totals: RunTotals = { fetched: 0, inserted: 0, duplicates: 0, updated: 0, blobs: 0, gaps: 0, windowStart: null, windowEnd: null };
    const labels = { tenant: key.tenantId, source: key.source, stream: key.stream };
    let status: RunStatus = 'succeeded';
    let error: string | null = null;
    try {
      await collector.run(
        {
          tenant,
          credentials: this.tenants.credentialsOf(tenant),
          stream: key.stream,
          cursor: stream.cursor,
          listing: stream.listing,
          concurrency: this.config.collection.concurrency,
        },
        this.sinkFor(key, collector, totals),
      );
    } catch (failure) {
      status = failure instanceof MicrosoftApiError && failure.kind === 'throttled' ? 'throttled' : 'failed';
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.warn({ ...key, runId: run.id, err: failure }, `collection run ${status}`);
    }
    // The stream's last error first: whoever sees the run finished also sees its error.
    await this.repository.recordError(key, error);
    await this.repository.finishRun(run.id, { status, error, ...totals });
    const after = await this.repository.findStream(key);
    this.metrics.runs.inc({ ...labels, status });
    this.metrics.runDuration.observe({ source: key.source, stream: key.stream }, (Date.now() - started) / 1000);
    if (after?.newestRecordAt) this.metrics.lag.set(labels, Math.max(0, (Date.now() - after.newestRecordAt.getTime()) / 1000));
    if (status === 'succeeded') this.metrics.lastSuccess.set(labels, Date.now() / 1000);
    this.logger.log({ ...key, runId: run.id, status, ...totals, ms: Date.now() - started }, 'collection run finished');
    return status;
  }

  private sinkFor(key: StreamKey, collector: Collector, totals: RunTotals): CollectSink {
    const labels = { tenant: key.tenantId, source: key.source, stream: key.stream };
    const maxAttempts = this.config.collection.maxBlobAttempts;
    const reportGap: CollectSink['gap'] = async (gap) => {
      await this.repository.transaction(async (manager) => {
        await this.repository.insertGap(manager, {
          ...key,
          reason: gap.reason,
          contentId: gap.unitId ?? null,
          windowStart: gap.windowStart ?? null,
          windowEnd: gap.windowEnd ?? null,
          detail: gap.detail,
        });
        if (gap.unitId) await this.repository.markLedger(manager, key, gap.unitId, 'gap', null);
        await this.auditLog.append(manager, {
          event: 'collection.gap',
          actor: COLLECTION_ACTOR,
          tenantId: key.tenantId,
          subject: `collection:${key.source}:${key.stream}`,
          requestId: randomUUID(),
          data: {
            source: key.source,
            stream: key.stream,
            reason: gap.reason,
            contentId: gap.unitId ?? null,
            windowStart: gap.windowStart?.toISOString() ?? null,
            windowEnd: gap.windowEnd?.toISOString() ?? null,
            detail: gap.detail,
          },
        });
      });
      totals.gaps += 1;
      this.metrics.gaps.inc({ ...labels, reason: gap.reason });
    };
    return {
      handled: (unitIds) => this.repository.handled(key.tenantId, collector.source, unitIds),
      storeUnit: async (unit) => {
        const outcome = await this.events.storeUnit(key, unit);
        totals.blobs += 1;
        totals.fetched += unit.records.length;
        totals.inserted += outcome.inserted;
        totals.duplicates += outcome.duplicates;
        return outcome;
      },
      storeRecords: async (records) => {
        const outcome = await this.events.storeRecords(key, records);
        totals.fetched += records.length;
        totals.inserted += outcome.inserted;
        totals.duplicates += outcome.duplicates;
        return outcome;
      },
      storeObjects: async ({ write, newest }) => {
        const outcome = await this.repository.transaction(async (manager) => {
          const stored = await write(manager);
          if (newest) await this.repository.raiseNewest(manager, key, newest);
          return stored;
        });
        totals.fetched += outcome.inserted + outcome.updated + outcome.unchanged;
        totals.inserted += outcome.inserted;
        totals.updated += outcome.updated;
        totals.duplicates += outcome.unchanged;
        this.metrics.records.inc({ ...labels, outcome: 'new' }, outcome.inserted);
        this.metrics.records.inc({ ...labels, outcome: 'updated' }, outcome.updated);
        this.metrics.records.inc({ ...labels, outcome: 'duplicate' }, outcome.unchanged);
        return outcome;
      },
      unitFailed: async ({ unitId, createdAt, error }) => {
        const attempts = await this.repository.transaction((manager) => this.repository.markLedger(manager, key, unitId, 'failed', createdAt));
        if (attempts < maxAttempts) return false;
        await reportGap({ reason: 'failed', unitId, detail: `gave up after ${attempts} attempts: ${error}`.slice(0, 2000) });
        return true;
      },
      gap: reportGap,
      listed: (units) => this.repository.markListed(key, units),
      accountFor: (unitIds) => this.repository.accountFor(key.tenantId, key.source, unitIds),
      listedSince: (since, start, end) => this.repository.listedSince(key, since, start, end),
      listing: (state) => this.repository.updateStream(key, { listing: state }),
      advance: (to) => this.repository.advanceCursor(key, to),
      subscription: async (status, detail) => {
        await this.repository.transaction(async (manager) => {
          const before = await this.repository.setSubscription(key, status, manager);
          if (before === status || before === 'unknown') return;
          await this.auditLog.append(manager, {
            event: 'collection.subscription.changed',
            actor: COLLECTION_ACTOR,
            tenantId: key.tenantId,
            subject: `collection:${key.source}:${key.stream}`,
            requestId: randomUUID(),
            data: { source: key.source, stream: key.stream, from: before, to: status, detail: detail ?? null },
          });
        });
      },
      window: (start, end) => {
        if (!totals.windowStart || start < totals.windowStart) totals.windowStart = start;
        if (!totals.windowEnd || end > totals.windowEnd) totals.windowEnd = end;
      },
    };
  }
}
