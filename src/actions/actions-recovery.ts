import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { JobsService } from '../jobs/jobs.service';
import { ActionExecutor, EXECUTE_QUEUE, POLL_QUEUE } from './action-executor';
import { ABANDONED_FAILED, ActionsRepository } from './actions.repository';
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { AuditLogService } from '../audit-log/audit-log.service';
import { actionAudit } from './action-audit';

/** Why a recorded request that was never admitted ended: its process stopped, and no retry carried on with it. */
const ADMISSION_INTERRUPTED = {
  code: 'admission-interrupted',
  message:
    'Cordon stopped while admitting this request (before anything that changes the tenant was sent) and no retry with its Idempotency-Key carried on with it; request it again.',
};

/**
 * The safety net under the hot path: the durable `actions.execute` job each admitted action gets, the
 * `actions.poll` wake-ups of long-running steps (which is how tracking survives restarts), and a
 * sweep (in processes that run workers) that resumes actions whose runner died — queued too long, or
 * running with a lapsed lease — on whichever replica notices first, and ends as `failed`
 * (`admission-interrupted`) the requests recorded but never admitted whose process died, a lease after
 * their lease lapsed (a retry with the same Idempotency-Key carries on with them before that).
 */
@Injectable()
export class ActionsRecovery implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ActionsRecovery.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly executor: ActionExecutor,
    private readonly repository: ActionsRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  onModuleInit(): void {
    this.jobs.register<{ actionId: string }>({
      name: EXECUTE_QUEUE,
      concurrency: 4,
      handle: async ({ actionId }) => void (await this.executor.execute(actionId)),
    });
    // Wake-ups of long-running and capacity-waiting steps; a stale wake-up (its dueAt no longer the
    // step's) is a no-op, so retries and duplicates are harmless.
    this.jobs.register<{ actionId: string; dueAt: string }>({
      name: POLL_QUEUE,
      concurrency: 16,
      pollingIntervalSeconds: 0.5,
      handle: async ({ actionId, dueAt }) => void (await this.executor.execute(actionId, new Date(dueAt))),
    });
    this.jobs.register({
      name: 'actions.idempotency-cleanup',
      cron: '23 * * * *',
      handle: async () => this.idempotency.deleteExpired(25),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.workers) return;
    const everyMs = Math.max(1000, (this.config.actionLeaseSeconds * 1000) / 2);
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
    void this.sweep();
  }

  async sweep(): Promise<void> {
    try {
      for (const id of await this.repository.findOrphans(this.config.actionLeaseSeconds, 50)) {
        this.logger.warn({ actionId: id }, 'resuming an action whose runner stopped');
        void this.executor.execute(id);
      }
      const grace = this.config.actionLeaseSeconds;
      for (const id of await this.repository.findAbandonedRequests(grace, 50)) {
        const action = await this.repository.findById(id);
        if (!action) continue;
        const failed = await this.auditLog.appendWith(
          [{ entry: actionAudit.admissionInterrupted(action, ADMISSION_INTERRUPTED), onlyIf: ABANDONED_FAILED }],
          (insert) => this.repository.failAbandonedRequest(id, grace, ADMISSION_INTERRUPTED, insert),
        );
        if (failed) this.logger.warn({ actionId: id }, 'a request recorded but never admitted (its process stopped) ended as failed');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'action recovery sweep failed');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.executor.drain();
  }
}
