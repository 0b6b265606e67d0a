import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `cdn_` + 32 random bytes (256 bits) in base64url: 47 characters. */
export const API_KEY_PREFIX = 'cdn_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** What listings show of a key: enough to recognise it, far too little to use it. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

/** Constant-time comparison of two hashes (the lookup is by hash; this guards the final check). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
