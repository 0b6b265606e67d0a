import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { withPgliteLock } from '../database/pglite';
import { ApiKeyCache } from './api-key-cache';

/** The channel migrations/0020_api_key_invalidation.sql notifies, in the changing transaction, with the key's id ('*': all). */
export const API_KEY_CHANNEL = 'cordon_api_keys';
/** The listening connection is checked this often; a check that fails or hangs counts as lost. */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Keeps this process's API-key cache in step with the database. On PostgreSQL one connection of its own
 * LISTENs on `cordon_api_keys`; the cache is used only while that connection is up and answering its
 * heartbeat, and is flushed the moment it is lost (then lookups go to the database until it is back).
 * On PGlite there is one process: the service's own invalidation after a revoke suffices, and the same
 * channel is listened to on the embedded database for changes made by SQL in this process.
 */
@Injectable()
export class ApiKeyInvalidation implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyInvalidation.name);
  private client?: Client;
  private heartbeat?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private backoffMs = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: ApiKeyCache,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.cache.enabled) return;
    if (this.config.databaseUrl) await this.connect();
    else await this.listenEmbedded();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    clearInterval(this.heartbeat);
    this.cache.setActive(false);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** A notification's payload: a key id, or '*' for every key. */
  received(payload: string | undefined): void {
    if (!payload || payload === '*') this.cache.flush();
    else this.cache.invalidate(payload);
  }

  private async listenEmbedded(): Promise<void> {
    try {
      await withPgliteLock((db) => db.listen(API_KEY_CHANNEL, (payload) => this.received(payload)));
    } catch (error) {
      this.logger.warn(
        `not listening for API-key changes on the embedded database (${(error as Error).message}); revocations through the API still apply at once`,
      );
    }
    this.cache.setActive(true);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'cordon-api-keys', keepAlive: true });
    client.on('notification', (message) => {
      if (message.channel === API_KEY_CHANNEL) this.received(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${API_KEY_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.closed || this.client !== client) return;
    this.backoffMs = RECONNECT_MIN_MS;
    this.cache.setActive(true);
    this.heartbeat = setInterval(() => void this.check(client), HEARTBEAT_MS).unref();
  }

  private async check(client: Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_TIMEOUT_MS))),
      ]);
    } catch (error) {
      this.lost(client, error as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The channel is gone: nothing cached can be trusted, so flush and stop caching until it is back. */
  private lost(client: Client, error: Error): void {
    if (this.client !== client) return; // an older connection's late event
    const wasListening = this.cache.isActive;
    this.client = undefined;
    clearInterval(this.heartbeat);
    this.cache.setActive(false);
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    if (wasListening) this.logger.warn(`lost the API-key change channel (${error.message}); keys are read from the database until it is back`);
    clearTimeout(this.reconnect);
    this.reconnect = setTimeout(() => void this.connect(), this.backoffMs).unref();
    this.backoffMs = Math.min(RECONNECT_MAX_MS, this.backoffMs * 2);
  }
}
