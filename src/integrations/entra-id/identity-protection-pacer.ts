import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';

/**
 * Identity Protection allows 1 request per second per tenant, for all apps together, and its 429 has
 * no Retry-After (microsoft-notes §3.5, M12): so we do not wait to be throttled, we keep our own requests
 * at least `identityProtectionIntervalMs` apart per tenant, across every caller in this process.
 */
@Injectable()
export class IdentityProtectionPacer {
  /** When each tenant's last request ended (epoch ms). */
  private readonly lastEnd = new Map<string, number>();
  /** The tail of each tenant's line of requests: one at a time, in arrival order. */
  private readonly line = new Map<string, Promise<void>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Runs one request for this tenant once the previous one has ended and the interval has passed
   * since. Counted from the end, not the start: the Graph client may have retried the previous
   * request inside (after a 429, which Identity Protection sends without Retry-After), and that
   * retry counts against the limit too.
   */
  async run<T>(tenantKey: string, request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.line.get(tenantKey) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.line.set(tenantKey, tail);
    try {
      await previous;
      const wait = (this.lastEnd.get(tenantKey) ?? 0) + this.config.entraTelemetry.identityProtectionIntervalMs - Date.now();
      if (wait > 0) await sleep(wait, signal);
      return await request();
    } finally {
      this.lastEnd.set(tenantKey, Date.now());
      release();
      if (this.line.get(tenantKey) === tail) this.line.delete(tenantKey);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
