import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsService } from '../../jobs/jobs.service';
import { SecurityRepository } from './security.repository';

const RETENTION_QUEUE = 'graph-security.retention';
const DELETE_BATCH = 5000;

/**
 * Daily: alerts and incidents Microsoft has not updated for CORDON_EVENTS_RETENTION_DAYS go, in batches
 * (short transactions). An object updated later is collected again as new.
 */
@Injectable()
export class SecurityRetentionService implements OnModuleInit {
  private readonly logger = new Logger(SecurityRetentionService.name);

  constructor(
    private readonly repository: SecurityRepository,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: RETENTION_QUEUE,
      cron: '53 2 * * *',
      options: { expireInSeconds: 3600 },
      handle: async () => void (await this.purge(new Date())),
    });
  }

  async purge(now: Date): Promise<{ alerts: number; incidents: number }> {
    const before = new Date(now.getTime() - this.config.eventsRetentionDays * 86_400_000);
    const removed = { alerts: 0, incidents: 0 };
    for (const [kind, table] of [
      ['alerts', 'security_alerts'],
      ['incidents', 'security_incidents'],
    ] as const) {
      for (;;) {
        const deleted = await this.repository.deleteNotUpdatedSince(table, before, DELETE_BATCH);
        removed[kind] += deleted;
        if (deleted < DELETE_BATCH) break;
      }
    }
    this.logger.log({ ...removed, before: before.toISOString() }, 'alerts and incidents retention');
    return removed;
  }
}
