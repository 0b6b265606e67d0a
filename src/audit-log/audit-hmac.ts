import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Where a value must be provable without being stored (a refused credential, say), the audit log keeps
 * HMAC-SHA-256(value) under a server key: whoever holds the value can show it matches; the log alone
 * reveals nothing. The key is `CORDON_AUDIT_HMAC_KEY`, or a key file created under the data directory.
 */
@Injectable()
export class AuditHmac {
  private readonly key: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.key = config.auditHmacKey ?? loadOrCreateKeyFile(join(config.dataDir, 'audit-hmac.key'));
  }

  of(value: string): string {
    return createHmac('sha256', this.key).update(value, 'utf8').digest('hex');
  }
}

function loadOrCreateKeyFile(file: string): Buffer {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(join(file, '..'), { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // another process created it first: use theirs
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    throw error;
  }
  return key;
}
