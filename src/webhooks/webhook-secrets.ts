import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditLogService } from '../audit-log/audit-log.service';
import { CredentialVault } from '../tenants/credential-vault';
import { KeyRotationService, SealedSecretsOwner } from '../tenants/key-rotation.service';
import type { TenantWebhookEntity } from './webhook.entity';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Webhook secrets at rest, sealed exactly like tenant client secrets (AES-256-GCM under
 * CORDON_ENCRYPTION_KEY or the embedded key file). The associated data names the webhook, so neither a
 * tenant credential nor another tenant's webhook secret copied onto this row decrypts.
 */
@Injectable()
export class WebhookSecrets implements SealedSecretsOwner, OnModuleInit {
  readonly name = 'webhook secret(s)';

  constructor(
    private readonly vault: CredentialVault,
    private readonly rotation: KeyRotationService,
    private readonly repository: WebhooksRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  onModuleInit(): void {
    this.rotation.register(this);
  }

  /** Key rotation: re-encrypts every webhook secret not sealed under `keyId`, 100 per transaction. */
  async resealAll(keyId: string): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.repository.findSealedWithOtherKey(keyId, 100);
      if (batch.length === 0) return count;
      await this.repository.transaction(async (manager) => {
        for (const webhook of batch) {
          const opened = this.vault.open(associatedData(webhook.tenantId), { ciphertext: webhook.secretCiphertext, keyId: webhook.secretKeyId });
          await this.repository.updateSecret(manager, webhook.tenantId, this.vault.seal(associatedData(webhook.tenantId), opened));
        }
        await this.auditLog.append(manager, {
          event: 'encryption-key.rotated',
          actor: { type: 'system', id: 'cli', name: 'rotate-encryption-key' },
          requestId: randomUUID(),
          data: { keyId, webhooks: batch.map((w) => w.tenantId) },
        });
      });
      count += batch.length;
    }
  }

  seal(tenantId: string, secret: string): { ciphertext: Buffer; keyId: string } {
    return this.vault.seal(associatedData(tenantId), { type: 'secret', secret });
  }

  /** The plaintext secret, or null when it cannot be decrypted (its key is no longer configured). */
  openOrNull(tenantId: string, row: Pick<TenantWebhookEntity, 'secretCiphertext' | 'secretKeyId'>): string | null {
    try {
      const opened = this.vault.open(associatedData(tenantId), { ciphertext: row.secretCiphertext, keyId: row.secretKeyId });
      return opened.type === 'secret' ? opened.secret : null;
    } catch {
      return null;
    }
  }
}

function associatedData(tenantId: string): string {
  return `webhook:${tenantId.toLowerCase()}`;
}
