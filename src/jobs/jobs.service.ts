import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { pgliteExecuteSql } from '../database/pglite';

export interface QueueDefinition<T extends object> {
  name: string;
  /** Handles one job; it must be safe to run twice (jobs are delivered at least once). */
  handle: (data: T, job: PgBoss.Job<T>) => Promise<void>;
  /** pg-boss queue options (policy, retries, expiry). */
  options?: Omit<PgBoss.Queue, 'name'>;
  /** Jobs fetched per poll and handled concurrently by this process. */
  concurrency?: number;
  pollingIntervalSeconds?: number;
  /** A cron schedule (UTC) on which pg-boss enqueues one job for all replicas together. */
  cron?: string;
}

/** pg-boss's executor on an open TypeORM transaction, so a job is enqueued atomically with the change that needs it. */
export function transactionalDb(manager: EntityManager): PgBoss.Db {
  return {
    async executeSql(text, values) {
      const runner = manager.queryRunner;
      if (!runner) throw new Error('transactionalDb needs a transactional EntityManager');
      const result = await runner.query(text, values, true);
      return { rows: result.records };
    },
  };
}

/**
 * The job queue (pg-boss 10) on whichever database the service uses. Modules register the queues
 * they own in `onModuleInit`; this service creates them at bootstrap and, when this process runs
 * workers (`CORDON_WORKERS`, or the worker entry point), starts working them.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly queues = new Map<string, QueueDefinition<object>>();
  private boss?: PgBoss;
  private started = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  register<T extends object>(definition: QueueDefinition<T>): void {
    if (this.started) throw new Error(`queue ${definition.name} registered after the job system started`);
    if (this.queues.has(definition.name)) throw new Error(`queue ${definition.name} registered twice`);
    this.queues.set(definition.name, definition as unknown as QueueDefinition<object>);
  }

  get workersEnabled(): boolean {
    return this.config.workers;
  }

  async onApplicationBootstrap(): Promise<void> {
    const options: PgBoss.ConstructorOptions = this.config.databaseUrl
      ? { connectionString: this.config.databaseUrl, max: Math.max(2, Math.ceil(this.config.databasePoolMax / 2)), application_name: 'cordon-jobs' }
      : { db: { executeSql: (text, values) => pgliteExecuteSql(text, values) as Promise<{ rows: unknown[] }> } };
    // Supervision (maintenance) and cron scheduling run on every process; pg-boss coordinates them
    // through the database so several replicas do not duplicate them.
    this.boss = new PgBoss({ ...options, schema: 'pgboss', migrate: true, supervise: true, schedule: true });
    this.boss.on('error', (error) => this.logger.error(`job queue error: ${error.message}`));
    await this.boss.start();
    for (const queue of this.queues.values()) {
      await this.boss.createQueue(queue.name, { name: queue.name, ...queue.options });
      if (queue.cron) await this.boss.schedule(queue.name, queue.cron, {}, { tz: 'UTC' });
    }
    this.started = true;
    if (this.config.workers) await this.startWorkers();
  }

  private async startWorkers(): Promise<void> {
    for (const queue of this.queues.values()) {
      await this.boss!.work<object>(
        queue.name,
        { batchSize: queue.concurrency ?? 1, pollingIntervalSeconds: queue.pollingIntervalSeconds ?? 2 },
        async (jobs) => {
          await Promise.all(jobs.map((job) => queue.handle(job.data, job)));
        },
      );
    }
    this.logger.log(`workers started for ${this.queues.size} queue(s)`);
  }

  /** Enqueues a job; pass the transaction's manager to make it part of that transaction. */
  async send<T extends object>(queue: string, data: T, options: PgBoss.SendOptions = {}, manager?: EntityManager): Promise<string | null> {
    if (!this.queues.has(queue)) throw new Error(`unknown queue ${queue}`);
    return this.instance().send(queue, data, manager ? { ...options, db: transactionalDb(manager) } : options);
  }

  async schedule(queue: string, cron: string, data: object, options: PgBoss.ScheduleOptions = {}): Promise<void> {
    await this.instance().schedule(queue, cron, data, options);
  }

  /** True when the queue's tables answer (readiness). */
  async ping(): Promise<boolean> {
    if (!this.boss || !this.started) return false;
    await this.boss.getQueues();
    return true;
  }

  instance(): PgBoss {
    if (!this.boss || !this.started) throw new Error('job system not started');
    return this.boss;
  }

  /** Lets running jobs finish (bounded by the shutdown timeout) before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.boss) return;
    const boss = this.boss;
    this.boss = undefined;
    await boss.stop({ graceful: true, wait: true, close: true, timeout: this.config.shutdownTimeoutSeconds * 1000 });
  }
}
