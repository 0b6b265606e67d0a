import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { AuditLogRepository } from './audit-log.repository';

/** Entries sealed per transaction: one chain-head lock and one commit for up to this many entries. */
const SEAL_BATCH = 500;
/**
 * A pass starts this long after the wake-up that found the sealer idle, so that the entries of writers
 * committing at about the same time — and the several records of one action, milliseconds apart — are
 * sealed in one transaction rather than one pass each. Writers never wait for it, and a reader cuts it
 * short (entries are durable in audit_pending meanwhile).
 */
const GATHER_MS = 50;
/** Catches entries this process was not told about (another replica that died after committing). */
const SWEEP_INTERVAL_MS = 2000;

/**
 * Seals committed pending entries into the hash chain (group commit). Writers never wait for it: a
 * transaction that appended an entry wakes the sealer when it commits, and the sealer chains whatever
 * is pending — often many writers' entries in one transaction. Readers call `flush()` first, so they
 * see every entry committed before they asked.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditSealer.name);
  /** Transactions that appended an entry and have not ended yet. */
  private readonly appenders = new WeakSet<QueryRunner>();
  private running?: Promise<void>;
  /** The pass that is gathering entries: `now()` starts it at once. */
  private gathering?: { now: () => void };
  private again = false;
  private closed = false;
  private sweep?: NodeJS.Timeout;
  private lastFailureLogged = 0;

  constructor(
    private readonly repository: AuditLogRepository,
    @InjectDataSource() dataSource: DataSource,
  ) {
    dataSource.subscribers.push(this.commitListener());
  }

  onApplicationBootstrap(): void {
    this.sweep = setInterval(() => this.wake(), SWEEP_INTERVAL_MS).unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    this.gathering?.now();
    await this.running;
    // what committed since the last pass; any other replica, or this one on its next start, seals it otherwise
    await this.drain();
  }

  /** Called by the writer: the transaction of `runner` holds an entry to seal once it commits. */
  appended(runner: QueryRunner | undefined): void {
    if (runner) this.appenders.add(runner);
  }

  /** Seals everything committed so far; throws when the log cannot be written. */
  async flush(): Promise<void> {
    this.gathering?.now();
    await this.running;
    while ((await this.repository.seal(SEAL_BATCH)) === SEAL_BATCH);
  }

  /** Starts a sealing pass in the background, or asks the running one to go round once more. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    let start!: () => void;
    const gathered = new Promise<void>((resolve) => (start = resolve));
    const timer = setTimeout(start, GATHER_MS);
    this.gathering = { now: () => (clearTimeout(timer), start()) };
    this.running = gathered
      .then(() => {
        this.gathering = undefined;
        this.again = false; // wake-ups until now are covered by this pass
        return this.drain();
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) this.wake();
      });
  }

  private async drain(): Promise<void> {
    try {
      while ((await this.repository.seal(SEAL_BATCH)) === SEAL_BATCH);
    } catch (error) {
      // the entries stay pending (nothing is lost) and the next commit or sweep tries again
      if (Date.now() - this.lastFailureLogged > 60_000) {
        this.lastFailureLogged = Date.now();
        this.logger.error({ err: error }, 'pending audit entries could not be sealed into the chain; retrying');
      }
    }
  }

  private commitListener(): EntitySubscriberInterface {
    return {
      afterTransactionCommit: ({ queryRunner }) => {
        // a savepoint's release also reports a commit: wait for the outermost one
        if (queryRunner.isTransactionActive || !this.appenders.has(queryRunner)) return;
        this.appenders.delete(queryRunner);
        this.wake();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.appenders.delete(queryRunner);
      },
    };
  }
}
