import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { AuditActor } from './audit-entry';
import { AuditLogService } from './audit-log.service';

export interface Refusal {
  event: 'auth.refused' | 'authz.refused';
  /** Rate-limit key: the presented key's prefix, the principal, or the source IP. */
  key: string;
  actor: AuditActor;
  requestId: string;
  data: Record<string, unknown>;
}

const WINDOW_MS = 60_000;

interface Window {
  startedAt: number;
  suppressed: number;
  last: Refusal;
}

/**
 * Refused requests are audited, but a flood must not fill the disk: per key (key prefix or source IP)
 * the first refusal of a minute is written at once, and the ones after it in that minute are counted
 * and written as one summary entry (`count`) when the minute is over.
 */
@Injectable()
export class RefusalRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger(RefusalRecorder.name);
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly auditLog: AuditLogService,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.flush(), WINDOW_MS / 4);
    this.timer.unref();
  }

  async record(refusal: Refusal): Promise<void> {
    const mapKey = `${refusal.event}|${refusal.key}`;
    const open = this.windows.get(mapKey);
    if (open && this.now() - open.startedAt < WINDOW_MS) {
      open.suppressed++;
      open.last = refusal;
      return;
    }
    if (open) await this.writeSummary(open);
    this.windows.set(mapKey, { startedAt: this.now(), suppressed: 0, last: refusal });
    await this.write(refusal, { count: 1 });
  }

  /** Writes the summaries of windows that have ended. */
  async flush(all = false): Promise<void> {
    for (const [mapKey, window] of this.windows) {
      if (all || this.now() - window.startedAt >= WINDOW_MS) {
        this.windows.delete(mapKey);
        await this.writeSummary(window);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  private async writeSummary(window: Window): Promise<void> {
    if (window.suppressed === 0) return;
    await this.write(window.last, { count: window.suppressed, summary: true, windowStartedAt: new Date(window.startedAt).toISOString() });
  }

  private async write(refusal: Refusal, extra: Record<string, unknown>): Promise<void> {
    try {
      await this.auditLog.record({ event: refusal.event, actor: refusal.actor, requestId: refusal.requestId, data: { ...refusal.data, ...extra } });
    } catch (error) {
      // The request is refused either way; losing this record is logged, not raised.
      this.logger.error({ err: error, event: refusal.event }, 'could not audit a refused request');
    }
  }
}
