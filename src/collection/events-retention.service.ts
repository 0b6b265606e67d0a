import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobsService } from '../jobs/jobs.service';
import { CollectionRepository } from './collection.repository';
import { EventsRepository } from './events.repository';

const RETENTION_QUEUE = 'collection.retention';
const DELETE_BATCH = 5000;
/** Content stays retrievable 7 days after it is listed (microsoft-notes §2.7); a ledger entry older than that can never matter. */
const LEDGER_KEEP_MS = 8 * 86_400_000;

/** Daily: events older than CORDON_EVENTS_RETENTION_DAYS go, in batches (short transactions, no long locks). */
@Injectable()
export class EventsRetentionService implements OnModuleInit {
  private readonly logger = new Logger(EventsRetentionService.name);

  constructor(
    private readonly repository: CollectionRepository,
    private readonly events: EventsRepository,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: RETENTION_QUEUE,
      cron: '41 2 * * *',
      options: { expireInSeconds: 4 * 3600 },
      handle: async () => void (await this.purge(new Date())),
    });
  }

  async purge(now: Date): Promise<number> {
    const before = new Date(now.getTime() - this.config.eventsRetentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const deleted = await this.events.deleteBefore(before, DELETE_BATCH);
      total += deleted;
      if (deleted < DELETE_BATCH) break;
    }
    await this.repository.pruneLedgerAndRuns(new Date(now.getTime() - LEDGER_KEEP_MS), before);
    this.logger.log({ deleted: total, before: before.toISOString() }, 'events retention');
    return total;
  }
}
