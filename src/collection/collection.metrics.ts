import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../health/metrics.service';

/** Prometheus series for collection; labels are bounded (tenants × streams). */
@Injectable()
export class CollectionMetrics {
  readonly records: Counter<'tenant' | 'source' | 'stream' | 'outcome'>;
  readonly blobs: Counter<'tenant' | 'source' | 'stream'>;
  readonly runs: Counter<'tenant' | 'source' | 'stream' | 'status'>;
  readonly gaps: Counter<'tenant' | 'source' | 'stream' | 'reason'>;
  readonly runDuration: Histogram<'source' | 'stream'>;
  readonly lag: Gauge<'tenant' | 'source' | 'stream'>;
  readonly lastSuccess: Gauge<'tenant' | 'source' | 'stream'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.records = new Counter({
      name: 'cordon_collection_records_total',
      help: 'Records fetched, by outcome (new, duplicate, or updated: a stateful object changed in place).',
      labelNames: ['tenant', 'source', 'stream', 'outcome'],
      registers,
    });
    this.blobs = new Counter({
      name: 'cordon_collection_blobs_total',
      help: 'Content blobs fetched and stored.',
      labelNames: ['tenant', 'source', 'stream'],
      registers,
    });
    this.runs = new Counter({
      name: 'cordon_collection_runs_total',
      help: 'Collection runs finished, by status.',
      labelNames: ['tenant', 'source', 'stream', 'status'],
      registers,
    });
    this.gaps = new Counter({
      name: 'cordon_collection_gaps_total',
      help: 'Data gaps reported (content not collectable), by reason.',
      labelNames: ['tenant', 'source', 'stream', 'reason'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'cordon_collection_run_duration_seconds',
      help: 'Duration of collection runs.',
      labelNames: ['source', 'stream'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.lag = new Gauge({
      name: 'cordon_collection_lag_seconds',
      help: 'Now minus the newest stored record time, as of the last run.',
      labelNames: ['tenant', 'source', 'stream'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'cordon_collection_last_success_timestamp_seconds',
      help: 'When the last successful run finished.',
      labelNames: ['tenant', 'source', 'stream'],
      registers,
    });
  }
}
