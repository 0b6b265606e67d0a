import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuditLogService } from '../audit-log/audit-log.service';
import { CredentialVault } from './credential-vault';
import { dropPreviousKeysFromFile, prependKeyToFile } from './key-ring';
import { TenantsRepository } from './tenants.repository';

/**
 * `npm run cli -- rotate-encryption-key`. With the embedded key file: a new key is added in front, every
 * credential is re-encrypted under it, then the old keys are dropped. With CORDON_ENCRYPTION_KEY: the
 * operator sets the new key and lists the old one in CORDON_ENCRYPTION_PREVIOUS_KEYS; this re-encrypts
 * everything under the new key, after which the old one can be removed from the environment.
 */
/** Another module's secrets sealed with the CredentialVault: re-encrypts those not under `keyId`. */
export interface SealedSecretsOwner {
  /** What the secrets are, for the CLI's report ("webhook secrets"). */
  readonly name: string;
  resealAll(keyId: string): Promise<number>;
}

@Injectable()
export class KeyRotationService {
  private readonly owners: SealedSecretsOwner[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly vault: CredentialVault,
    private readonly repository: TenantsRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  /** Modules that seal their own secrets register here (in onModuleInit), so a rotation covers them too. */
  register(owner: SealedSecretsOwner): void {
    this.owners.push(owner);
  }

  async rotate(): Promise<{ keyId: string; reencrypted: number; others: Record<string, number> }> {
    const usesKeyFile = !this.config.encryptionKey;
    if (usesKeyFile) {
      prependKeyToFile(this.config.dataDir);
      this.vault.reload();
    }
    const keyId = this.vault.currentKeyId;
    let reencrypted = 0;
    for (;;) {
      const batch = await this.repository.findSealedWithOtherKey(keyId, 100);
      if (batch.length === 0) break;
      await this.repository.transaction(async (manager) => {
        for (const tenant of batch) {
          const credential = this.vault.open(tenant.id, { ciphertext: tenant.credentialCiphertext, keyId: tenant.credentialKeyId });
          const sealed = this.vault.seal(tenant.id, credential);
          await this.repository.update(manager, tenant.id, { credentialCiphertext: sealed.ciphertext, credentialKeyId: sealed.keyId });
        }
        await this.auditLog.append(manager, {
          event: 'encryption-key.rotated',
          actor: { type: 'system', id: 'cli', name: 'rotate-encryption-key' },
          requestId: randomUUID(),
          data: { keyId, tenants: batch.map((t) => t.id) },
        });
      });
      reencrypted += batch.length;
    }
    // before the old keys go: everything sealed under them must be re-encrypted first
    const others: Record<string, number> = {};
    for (const owner of this.owners) others[owner.name] = await owner.resealAll(keyId);
    if (usesKeyFile) {
      dropPreviousKeysFromFile(this.config.dataDir);
      this.vault.reload();
    }
    return { keyId, reencrypted, others };
  }
}
