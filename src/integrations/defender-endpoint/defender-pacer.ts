import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DefenderPacerRepository } from './defender-pacer.repository';
import { documentedLimits, type PacingLimits } from './pacing';

/**
 * Paces Cordon's calls to Defender per tenant and API so Microsoft never has to throttle us (microsoft-notes M20):
 * every call books a slot first. Reads wait for their slot in place; a response action that would
 * wait is parked by the actions engine (`queued`, waiting for capacity) and started at its slot.
 */
@Injectable()
export class DefenderPacer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: DefenderPacerRepository,
  ) {}

  limits(api: string): PacingLimits {
    const { ratePerMinute, ratePerHour, rateTimeScale, rateMarginMs } = this.config.defenderEndpoint;
    const documented = documentedLimits(api);
    return {
      perMinute: Math.min(ratePerMinute, documented.perMinute),
      perHour: Math.min(ratePerHour, documented.perHour),
      minuteMs: 60_000 / rateTimeScale,
      hourMs: 3_600_000 / rateTimeScale,
      marginMs: rateMarginMs / rateTimeScale,
    };
  }

  /** Books the next slot for one call; answers how long to wait for it (0 = go now). */
  async book(tenantId: string, api: string): Promise<{ waitMs: number; at: Date }> {
    const { atMs, nowMs } = await this.repository.book(tenantId, api, this.limits(api));
    return { waitMs: Math.max(0, atMs - nowMs), at: new Date(atMs) };
  }

  /** Books a slot and waits for it. */
  async acquire(tenantId: string, api: string): Promise<void> {
    const { waitMs } = await this.book(tenantId, api);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
