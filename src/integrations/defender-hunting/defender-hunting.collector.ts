import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { CollectContext, CollectSink, Collector, NormalizedEvent } from '../../collection/collector';
import { CollectorRegistry } from '../../collection/collector-registry';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { ADVANCED_HUNTING } from './defender-hunting.capabilities';
import { HuntingClient } from './hunting-client';
import { normalizeHuntingRow } from './hunting-normalize';
import { HUNTING_TABLES, type HuntingTable } from './hunting-tables';

export const DEFENDER_HUNTING_SOURCE = 'defender-hunting';
/** Advanced hunting sees 30 days back (microsoft-notes M39). */
const RETENTION_DAYS = 30;

/** `datetime(…)` of an instant; a row's own Timestamp is passed as sent, with its seven fractional digits. */
const kqlDatetime = (at: Date | string) => `datetime(${typeof at === 'string' ? at : at.toISOString()})`;

/**
 * Defender XDR raw telemetry through Advanced Hunting (`security/runHuntingQuery`), one stream per table
 * (microsoft-notes §10). A run queries from the watermark minus an overlap (rows arrive late, microsoft-notes M40) up to
 * the run's start in slices of at most `sliceMinutes`; each query asks for the slice's rows in Timestamp
 * order with a `take`, and a full answer is continued from its last Timestamp (microsoft-notes M39), so no query depends
 * on Microsoft's row cap. Every answer is stored as it comes (deduplicated on the table's key) and the
 * watermark moves past each finished slice: a run stopped by a quota answer (microsoft-notes M41) keeps what it stored and
 * shows as `throttled`, and the next run carries on from there.
 */
@Injectable()
export class DefenderHuntingCollector implements Collector, OnModuleInit {
  readonly source = DEFENDER_HUNTING_SOURCE;
  readonly streams = HUNTING_TABLES.map((t) => ({ name: t.name, capability: ADVANCED_HUNTING.name, enabledByDefault: t.enabledByDefault }));

  constructor(
    private readonly hunting: HuntingClient,
    private readonly registry: CollectorRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async run(ctx: CollectContext, sink: CollectSink): Promise<void> {
    const table = HUNTING_TABLES.find((t) => t.name === ctx.stream);
    if (!table) throw new Error(`defender-hunting has no stream ${ctx.stream}`);
    const upper = new Date();
    const oldest = new Date(upper.getTime() - RETENTION_DAYS * 86_400_000);
    let lower = ctx.cursor
      ? new Date(ctx.cursor.getTime() - this.config.hunting.overlapMinutes * 60_000)
      : new Date(upper.getTime() - this.config.collection.initialLookbackHours * 3_600_000);
    if (ctx.cursor && ctx.cursor < oldest) {
      await sink.gap({
        reason: 'beyond-retention',
        windowStart: ctx.cursor,
        windowEnd: oldest,
        detail: `the watermark was older than the ${RETENTION_DAYS} days advanced hunting keeps ${table.name}`,
      });
      await sink.advance(oldest);
    }
    if (lower < oldest) lower = oldest;
    const sliceMs = this.config.hunting.sliceMinutes * 60_000;
    for (let start = lower; start < upper;) {
      const end = new Date(Math.min(start.getTime() + sliceMs, upper.getTime()));
      await this.collectSlice(ctx, sink, table, start, end);
      sink.window(start, end);
      await sink.advance(end);
      start = end;
    }
  }

  /** Every row of [start, end): queries of at most `rowsPerQuery` rows, each continued from the last Timestamp of a full one. */
  private async collectSlice(ctx: CollectContext, sink: CollectSink, table: HuntingTable, start: Date, end: Date): Promise<void> {
    const take = this.config.hunting.rowsPerQuery;
    let from: Date | string = start;
    let unusable = 0;
    for (;;) {
      ctx.signal?.throwIfAborted();
      const query = `${table.name} | where Timestamp >= ${kqlDatetime(from)} and Timestamp < ${kqlDatetime(end)} | order by Timestamp asc | take ${take}`;
      const { results } = await this.hunting.run(
        ctx.credentials,
        query,
        `${typeof from === 'string' ? from : from.toISOString()}/${end.toISOString()}`,
        ctx.signal,
      );
      const records: NormalizedEvent[] = [];
      for (const row of results) {
        const event = row && typeof row === 'object' ? normalizeHuntingRow(table, row) : null;
        if (event) records.push(event);
        else unusable += 1;
      }
      await sink.storeRecords(records);
      if (results.length < take) break;
      const first = results[0]?.Timestamp;
      const last = results[results.length - 1]?.Timestamp;
      if (typeof last !== 'string' || last === first) {
        // More than `take` rows share one Timestamp: continuing from it would read the same rows forever.
        await sink.gap({
          reason: 'failed',
          windowStart: start,
          windowEnd: end,
          detail: `${table.name}: more than ${take} rows at ${String(last)}; raise CORDON_HUNTING_ROWS_PER_QUERY to collect them all`,
        });
        break;
      }
      from = last; // inclusive: the rows at `last` come again and are deduplicated
    }
    if (unusable > 0) {
      await sink.gap({
        reason: 'failed',
        windowStart: start,
        windowEnd: end,
        detail: `${unusable} row(s) of ${table.name} had no valid Timestamp and were not stored`,
      });
    }
  }
}
