import { Logger } from '@nestjs/common';
import type { CollectContext, CollectSink, Collector, NormalizedEvent } from '../../collection/collector';
import type { AppConfig } from '../../config/config';
import type { GraphClientFactory } from '../../microsoft';

/** What differs between the Graph logs collected by time (sign-ins, directory audits, risk detections). */
export interface GraphLogDefinition {
  /** The events' `source`. */
  source: string;
  /** Its one stream (stream names are unique across sources) and the tenant capability that gates it. */
  stream: string;
  capability: string;
  path: string;
  /** The record's time property, filtered with `ge`/`lt` (unquoted ISO literals, microsoft-notes §3). */
  timeField: string;
  /** `$top`: each API has its own maximum (microsoft-notes §3.1). */
  pageSize: number;
  /** How long Microsoft keeps these records: older than that, what the cursor did not reach is gone. */
  retentionDays: number;
  normalize(record: Record<string, unknown>): NormalizedEvent | null;
}

/**
 * Collects a Graph log by time window: from the cursor minus an overlap (records arrive late; the
 * events store dedupes on the record id, so re-reading is harmless) up to the run's start, following
 * `@odata.nextLink` as given to the last page, each page stored in its own transaction. The cursor
 * moves to the run's start only after the last page is stored: a run that fails or dies part way
 * leaves it, and the next run reads the same window again.
 */
export abstract class GraphLogCollector implements Collector {
  readonly source: string;
  readonly streams: ReadonlyArray<{ name: string; capability: string }>;
  protected readonly logger = new Logger(this.constructor.name);

  constructor(
    protected readonly definition: GraphLogDefinition,
    protected readonly graphs: GraphClientFactory,
    protected readonly config: AppConfig,
  ) {
    this.source = definition.source;
    this.streams = [{ name: definition.stream, capability: definition.capability }];
  }

  async run(ctx: CollectContext, sink: CollectSink): Promise<void> {
    const def = this.definition;
    const upper = new Date();
    const oldest = new Date(upper.getTime() - def.retentionDays * 86_400_000);
    let lower = ctx.cursor
      ? new Date(ctx.cursor.getTime() - this.config.entraTelemetry.overlapMinutes * 60_000)
      : new Date(upper.getTime() - this.config.collection.initialLookbackHours * 3_600_000);
    if (ctx.cursor && ctx.cursor < oldest) {
      await sink.gap({
        reason: 'beyond-retention',
        windowStart: ctx.cursor,
        windowEnd: oldest,
        detail: `the cursor was older than the ${def.retentionDays} days Microsoft keeps ${def.path}`,
      });
      await sink.advance(oldest); // reported once: a later run that fails does not report the same span again
    }
    if (lower < oldest) lower = oldest;
    sink.window(lower, upper);
    const graph = this.graphs.forTenant(ctx.credentials);
    const query = { $filter: `${def.timeField} ge ${lower.toISOString()} and ${def.timeField} lt ${upper.toISOString()}`, $top: def.pageSize };
    const pages = graph.pages<Record<string, unknown>>(def.path, { query })[Symbol.asyncIterator]();
    let unusable = 0;
    for (;;) {
      ctx.signal?.throwIfAborted();
      const page = await this.request(ctx, () => pages.next());
      if (page.done) break;
      const records: NormalizedEvent[] = [];
      for (const item of page.value) {
        const normalized = item && typeof item === 'object' ? def.normalize(item) : null;
        if (normalized) records.push(normalized);
        else unusable += 1;
      }
      await sink.storeRecords(records);
    }
    if (unusable > 0) {
      // Never dropped silently: the window is reported with how many records could not be stored.
      await sink.gap({
        reason: 'failed',
        windowStart: lower,
        windowEnd: upper,
        detail: `${unusable} record(s) of ${def.path} had no id or no valid ${def.timeField} and were not stored`,
      });
    }
    await sink.advance(upper);
  }

  /** Makes every request to the API (the first page and each nextLink): a place to pace them. */
  protected request<T>(_ctx: CollectContext, send: () => Promise<T>): Promise<T> {
    return send();
  }
}
