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
@Injectable()
export class KeyRotationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly vault: CredentialVault,
    private readonly repository: TenantsRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  async rotate(): Promise<{ keyId: string; reencrypted: number }> {
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
    if (usesKeyFile) {
      dropPreviousKeysFromFile(this.config.dataDir);
      this.vault.reload();
    }
    return { keyId, reencrypted };
  }
}
