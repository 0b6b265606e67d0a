import { Injectable, OnModuleInit } from '@nestjs/common';
import { CredentialVault } from '../tenants/credential-vault';
import { KeyRotationService, SealedSecretsOwner } from '../tenants/key-rotation.service';
import { IdempotencyRepository } from './idempotency.repository';

/** How a sealed answer is stored in `idempotency_keys.response_body`. */
export interface SealedResponse {
  sealed: { keyId: string; ciphertext: string };
}

/**
 * Answers that hold a secret shown once (a new API key) are kept for their replay only encrypted,
 * sealed like tenant credentials (AES-256-GCM under CORDON_ENCRYPTION_KEY or the embedded key file),
 * with the principal and key as associated data so a ciphertext copied onto another row does not
 * open. The row, and with it the ciphertext, goes when the replay window ends (ARCHITECTURE.md §4.4).
 */
@Injectable()
export class SealedResponses implements SealedSecretsOwner, OnModuleInit {
  readonly name = 'idempotent replay(s)';

  constructor(
    private readonly vault: CredentialVault,
    private readonly rotation: KeyRotationService,
    private readonly repository: IdempotencyRepository,
  ) {}

  onModuleInit(): void {
    this.rotation.register(this);
  }

  seal(principalId: string, key: string, body: unknown): SealedResponse {
    const sealed = this.vault.seal(associatedData(principalId, key), { type: 'secret', secret: JSON.stringify(body) });
    return { sealed: { keyId: sealed.keyId, ciphertext: sealed.ciphertext.toString('base64') } };
  }

  open(principalId: string, key: string, stored: SealedResponse): unknown {
    const opened = this.vault.open(associatedData(principalId, key), {
      keyId: stored.sealed.keyId,
      ciphertext: Buffer.from(stored.sealed.ciphertext, 'base64'),
    });
    return opened.type === 'secret' ? JSON.parse(opened.secret) : null;
  }

  /** Key rotation: re-encrypts the sealed answers not under `keyId`, so a replay after the rotation still opens. */
  async resealAll(keyId: string): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.repository.findSealedWithOtherKey(keyId, 100);
      if (batch.length === 0) return count;
      for (const row of batch) {
        const body = this.open(row.principalId, row.key, row.responseBody as SealedResponse);
        await this.repository.replaceResponseBody(row.principalId, row.key, this.seal(row.principalId, row.key, body));
      }
      count += batch.length;
    }
  }
}

function associatedData(principalId: string, key: string): string {
  return `idempotent-replay:${principalId}:${key}`;
}
