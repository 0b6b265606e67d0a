import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../health/metrics.service';

/** Prometheus series for webhook deliveries; labels are bounded (tenants × outcomes). */
@Injectable()
export class WebhookMetrics {
  readonly queued: Counter<'tenant'>;
  readonly attempts: Counter<'tenant' | 'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.queued = new Counter({
      name: 'cordon_webhook_deliveries_queued_total',
      help: 'Webhook notifications queued (new or changed alerts and incidents at or above the threshold).',
      labelNames: ['tenant'],
      registers,
    });
    this.attempts = new Counter({
      name: 'cordon_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retry, failed).',
      labelNames: ['tenant', 'outcome'],
      registers,
    });
  }
}
