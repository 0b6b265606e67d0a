import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An AES-256 key and its id (the first 16 hex digits of its SHA-256): the id is stored with each ciphertext. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export function keyFromBase64(text: string): EncryptionKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('an encryption key must be 32 bytes, base64-encoded');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The keys credentials are encrypted with: the current one (used for every new encryption) and older
 * ones (decryption only) until `rotate-encryption-key` has re-encrypted everything under the current.
 */
export class KeyRing {
  constructor(
    readonly current: EncryptionKey,
    readonly previous: EncryptionKey[] = [],
  ) {}

  find(id: string): EncryptionKey | undefined {
    return [this.current, ...this.previous].find((k) => k.id === id);
  }
}

export const KEY_FILE = 'encryption.keys';

/**
 * The embedded default: keys live in `<dataDir>/encryption.keys` (mode 0600), one base64 key per line,
 * current first. Created with a fresh key on first use.
 */
export function loadKeyFile(dataDir: string): KeyRing {
  const file = join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const [current, ...previous] = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map(keyFromBase64);
  return new KeyRing(current, previous);
}

/** Rotation with the key file: a new current key in front, the old ones kept until re-encryption is done. */
export function prependKeyToFile(dataDir: string): KeyRing {
  const ring = loadKeyFile(dataDir);
  const fresh = randomBytes(32).toString('base64');
  writeKeys(dataDir, [fresh, ...[ring.current, ...ring.previous].map((k) => k.key.toString('base64'))]);
  return loadKeyFile(dataDir);
}

/** After re-encryption: only the current key stays. */
export function dropPreviousKeysFromFile(dataDir: string): void {
  writeKeys(dataDir, [loadKeyFile(dataDir).current.key.toString('base64')]);
}

function writeKeys(dataDir: string, keys: string[]): void {
  const file = join(dataDir, KEY_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, keys.join('\n') + '\n', { mode: 0o600 });
  renameSync(temp, file);
}
