import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { generateApiKey, hashApiKey } from './api-key-secret';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

const BOOTSTRAP_KEY = { name: 'bootstrap admin', roles: ['admin' as const], tenantIds: null, expiresAt: null };
const BOOTSTRAP_ACTOR = { type: 'system' as const, id: 'bootstrap', name: 'first-start bootstrap' };

export type BootstrapOutcome = { created: false } | { created: true; key: string; fromEnvironment: boolean };

/**
 * First start: make sure someone can administer the service. With `CORDON_BOOTSTRAP_ADMIN_KEY` that
 * key is registered (once; a later revocation sticks); otherwise, when no working admin key exists,
 * a new one is created and printed once to stdout. Replicas starting together agree through a lock.
 */
@Injectable()
export class BootstrapAdminService {
  private readonly logger = new Logger(BootstrapAdminService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ApiKeysRepository,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async ensureAdminKey(): Promise<BootstrapOutcome> {
    const outcome = await this.repository.transaction<BootstrapOutcome>(async (manager) => {
      await this.repository.lockBootstrap(manager);
      const provided = this.config.bootstrapAdminKey;
      if (provided) {
        if (await this.repository.existsByHash(hashApiKey(provided), manager)) return { created: false };
        await this.apiKeys.store(provided, BOOTSTRAP_KEY, BOOTSTRAP_ACTOR, randomUUID(), manager);
        return { created: true, key: provided, fromEnvironment: true };
      }
      if ((await this.repository.countActiveAdminKeys(manager)) > 0) return { created: false };
      const key = generateApiKey();
      await this.apiKeys.store(key, BOOTSTRAP_KEY, BOOTSTRAP_ACTOR, randomUUID(), manager);
      return { created: true, key, fromEnvironment: false };
    });
    if (outcome.created && outcome.fromEnvironment) this.logger.log('registered the admin key from CORDON_BOOTSTRAP_ADMIN_KEY');
    if (outcome.created && !outcome.fromEnvironment) printBanner(outcome.key);
    return outcome;
  }
}

/** Printed to stdout, never to the log stream, so log shipping does not carry it. */
function printBanner(key: string): void {
  const line = '='.repeat(78);
  process.stdout.write(
    `\n${line}\n  Cordon: no admin API key existed, so one was created. It is shown ONCE:\n\n` +
      `    ${key}\n\n  Use it as "Authorization: Bearer <key>" to create keys for people and playbooks\n` +
      `  (POST /v1/api-keys), then revoke it if you like. Set CORDON_BOOTSTRAP_ADMIN_KEY to choose it instead.\n${line}\n\n`,
  );
}
