import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MicrosoftApiError } from '../microsoft';
import { backoffDelayMs, RETRY_AFTER_CAP_MS } from '../microsoft/retry-policy';
import { TenantsService } from '../tenants/tenants.service';
import type { CollectionRunEntity, CollectionStreamEntity, RunStatus } from './collection.entity';
import type { TenantEntity } from '../tenants/tenant.entity';
import { CollectionMetrics } from './collection.metrics';
import { CollectionRepository, StreamKey } from './collection.repository';
import type { CollectSink, Collector } from './collector';
import { CollectorRegistry } from './collector-registry';
import { EventStore } from './event-store';

/** The longest wait between two tries of a throttled stream without Retry-After: a per-minute budget has refilled by then. */
const THROTTLE_BACKOFF_MAX_MS = 60_000;

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
 *
 * Throttling (microsoft-notes M58), for collectors that say they can resume (`resumesThrottled`): a throttled collector is run again from where it stopped (its saved
 * listing and cursor, read back) after Microsoft's Retry-After or a short back-off, inside the same run
 * while the run's waits stay within CORDON_COLLECTION_THROTTLE_MAX_WAIT_S; past that the run ends
 * `throttled` with the stream's next run set to the resume time (CollectionService enqueues it at once
 * for then; the tick is the fallback). Before each wait the resume time is written to the stream, so a
 * process that dies while waiting is resumed by the next tick after it, not at the next interval.
 */
@Injectable()
export class CollectionRunnerService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(CollectionRunnerService.name);
  /** Cut short by shutdown: runs waiting out throttling stop waiting and end `throttled`. */
  private readonly stopping = new AbortController();

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
    let current = stream;
    let throttles = 0;
    let blobsAtThrottle = -1;
    let waitedMs = 0;
    for (;;) {
      try {
        await collector.run(
          {
            tenant,
            credentials: this.tenants.credentialsOf(tenant),
            stream: key.stream,
            cursor: current.cursor,
            listing: current.listing,
            concurrency: this.config.collection.concurrency,
          },
          this.sinkFor(key, collector, totals),
        );
        status = 'succeeded';
        error = null;
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
        if (!(failure instanceof MicrosoftApiError && failure.kind === 'throttled')) {
          status = 'failed';
          this.logger.warn({ ...key, runId: run.id, err: failure }, 'collection run failed');
          break;
        }
        if (!collector.resumesThrottled) {
          status = 'throttled';
          this.logger.warn({ ...key, runId: run.id, err: failure }, 'collection run throttled');
          break;
        }
        // The back-off doubles only while nothing gets through; a budget that ran out after progress starts again short.
        throttles = totals.blobs > blobsAtThrottle ? 1 : throttles + 1;
        blobsAtThrottle = totals.blobs;
        const delayMs = this.throttleDelayMs(failure, throttles);
        const giveUp = waitedMs + delayMs > this.config.collection.throttleMaxWaitSeconds * 1000 || this.stopping.signal.aborted;
        // Durable first: whatever becomes of this process, the stream is due again at the resume time. While
        // this run waits holding the lease, one lease later: the tick does not queue runs the lease would refuse.
        const holdMs = giveUp ? 0 : this.config.collection.leaseSeconds * 1000;
        await this.repository.updateStream(key, { nextRunAt: new Date(Date.now() + delayMs + holdMs) });
        if (giveUp) {
          status = 'throttled';
          this.logger.warn({ ...key, runId: run.id, err: failure, resumeInMs: delayMs }, 'collection run throttled; rescheduled');
          break;
        }
        this.logger.log({ ...key, runId: run.id, code: failure.code, waitMs: delayMs, throttles }, 'collection throttled; resuming after the wait');
        await this.repository.recordError(key, `${error} (resuming in ${Math.ceil(delayMs / 1000)} s)`);
        if (!(await this.wait(delayMs))) {
          status = 'throttled';
          break;
        }
        waitedMs += delayMs;
        current = (await this.repository.findStream(key)) ?? current;
        continue;
      }
      break;
    }
    if (throttles > 0 && status !== 'throttled') {
      // Waited out in the run: the stream's schedule is its interval from now again, as after a tick.
      await this.repository.updateStream(key, { nextRunAt: new Date(Date.now() + current.intervalMinutes * 60_000) });
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

  beforeApplicationShutdown(): void {
    this.stopping.abort();
  }

  /**
   * How long a throttled stream waits before it resumes: Microsoft's Retry-After when it sent one (capped),
   * else the configured back-off doubling while nothing gets through, at most four times it (and a minute), with jitter so a
   * tenant's streams do not all come back at the same instant (AF429 comes without Retry-After, microsoft-notes M58).
   */
  private throttleDelayMs(failure: MicrosoftApiError, throttles: number): number {
    const baseMs = this.config.collection.throttleBackoffSeconds * 1000;
    const delay = backoffDelayMs(throttles, failure.retryAfterSeconds, {
      baseMs,
      maxMs: Math.max(baseMs, Math.min(THROTTLE_BACKOFF_MAX_MS, baseMs * 4)),
      retryAfterCapMs: RETRY_AFTER_CAP_MS,
    });
    return Math.max(1000, delay);
  }

  /** Sleeps `ms`; answers false when shutdown cut the wait short. */
  private wait(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
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
