import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { CertificateCredential, SecretCredential } from '../microsoft';
import { KeyRing, keyFromBase64, loadKeyFile } from './key-ring';

export type TenantCredential = SecretCredential | CertificateCredential;

export interface SealedCredential {
  ciphertext: Buffer;
  keyId: string;
}

/**
 * Tenant credentials at rest: AES-256-GCM under `CORDON_ENCRYPTION_KEY` (or the embedded key file),
 * with the tenant's row id as associated data so a ciphertext copied onto another tenant's row does
 * not decrypt. Plaintext exists only in memory, on its way to MSAL.
 */
@Injectable()
export class CredentialVault {
  private ring: KeyRing;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.ring = loadRing(config);
  }

  get currentKeyId(): string {
    return this.ring.current.id;
  }

  /** Re-reads the keys (after the key file was rotated). */
  reload(): void {
    this.ring = loadRing(this.config);
  }

  seal(tenantRowId: string, credential: TenantCredential): SealedCredential {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.ring.current.key, iv);
    cipher.setAAD(Buffer.from(tenantRowId, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]), keyId: this.ring.current.id };
  }

  open(tenantRowId: string, sealed: SealedCredential): TenantCredential {
    const key = this.ring.find(sealed.keyId);
    if (!key) throw new Error(`the credential was encrypted with key ${sealed.keyId}, which is not configured`);
    const iv = sealed.ciphertext.subarray(0, 12);
    const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv);
    decipher.setAAD(Buffer.from(tenantRowId, 'utf8'));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(sealed.ciphertext.subarray(12, sealed.ciphertext.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as TenantCredential;
  }
}

function loadRing(config: AppConfig): KeyRing {
  if (config.encryptionKey) {
    return new KeyRing(keyFromBase64(config.encryptionKey), config.encryptionPreviousKeys.map(keyFromBase64));
  }
  return loadKeyFile(config.dataDir);
}
