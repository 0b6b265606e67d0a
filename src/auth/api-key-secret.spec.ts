import { displayPrefix, generateApiKey, hashApiKey, looksLikeApiKey, sameHash } from './api-key-secret';
import { API_KEY_PATTERN } from '../config/config';

describe('API key secrets', () => {
  it('are cdn_ + 256 random bits, different every time', () => {
    const keys = new Set(Array.from({ length: 100 }, generateApiKey));
    expect(keys.size).toBe(100);
    for (const key of keys) {
      expect(key).toMatch(API_KEY_PATTERN);
      expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
    }
  });

  it('are stored as SHA-256 and compared in constant time', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toHaveLength(32);
    expect(sameHash(hashApiKey(key), hashApiKey(key))).toBe(true);
    expect(sameHash(hashApiKey(key), hashApiKey(generateApiKey()))).toBe(false);
    expect(sameHash(hashApiKey(key), Buffer.alloc(3))).toBe(false);
  });

  it('show only a short prefix', () => {
    const key = generateApiKey();
    expect(displayPrefix(key)).toBe(key.slice(0, 10));
    expect(looksLikeApiKey(key)).toBe(true);
    expect(looksLikeApiKey('eyJhbGciOi')).toBe(false);
  });
});
