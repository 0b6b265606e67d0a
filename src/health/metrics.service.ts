import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { problems } from '../common/problem';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics: process metrics plus HTTP requests by route pattern and status. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'cordon_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'cordon_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    collectDefaultMetrics({ register: this.registry, prefix: 'cordon_' });
  }

  /** `route` is the pattern (`/v1/api-keys/:id`), never the raw URL, so label cardinality stays bounded. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  /** When `CORDON_METRICS_PORT` is set, metrics are served there only. */
  renderOnApiPort(): Promise<string> {
    if (this.config.metricsPort !== undefined) throw problems.notFound('Metrics are served on the metrics port.');
    return this.render();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
