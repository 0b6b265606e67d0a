import { ApiKeyCache } from './api-key-cache';
import type { ApiKeyEntity } from './api-key.entity';
import { hashApiKey } from './api-key-secret';

function key(id: string): ApiKeyEntity {
  return {
    id,
    name: id,
    keyPrefix: 'cdn_abcdef',
    keyHash: hashApiKey(id),
    roles: ['analyst'],
    tenantIds: null,
    createdBy: 't',
    createdAt: new Date(),
    expiresAt: null,
    revokedAt: null,
    revokedBy: null,
    lastUsedAt: null,
  };
}

describe('ApiKeyCache', () => {
  let clock: number;
  const cache = (maxEntries = 3, ttlMs = 30_000) => {
    const c = new ApiKeyCache({ maxEntries, ttlMs, now: () => clock });
    c.setActive(true);
    return c;
  };
  const put = (c: ApiKeyCache, k: ApiKeyEntity) => c.put(k.keyHash, k, c.begin());
  beforeEach(() => (clock = 1_000_000));

  it('answers a stored key by its hash, and nothing for a hash it was not given', () => {
    const c = cache();
    const a = key('a');
    expect(put(c, a)).toBe(true);
    expect(c.get(hashApiKey('a'))).toBe(a);
    expect(c.get(hashApiKey('b'))).toBeUndefined();
  });

  it('reads a key again once the TTL has passed', () => {
    const c = cache(3, 30_000);
    const a = key('a');
    put(c, a);
    clock += 29_999;
    expect(c.get(a.keyHash)).toBe(a);
    clock += 1;
    expect(c.get(a.keyHash)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxEntries keys and evicts the least recently used', () => {
    const c = cache(3);
    const [a, b, d, e] = ['a', 'b', 'd', 'e'].map(key);
    put(c, a);
    put(c, b);
    put(c, d);
    expect(c.get(a.keyHash)).toBe(a); // a is now the most recent; b the least
    put(c, e);
    expect(c.size).toBe(3);
    expect(c.get(b.keyHash)).toBeUndefined();
    expect([a, d, e].map((k) => c.get(k.keyHash))).toEqual([a, d, e]);
  });

  it('drops a key when it is invalidated by id, leaving the others', () => {
    const c = cache();
    const [a, b] = ['a', 'b'].map(key);
    put(c, a);
    put(c, b);
    c.invalidate('a');
    expect(c.get(a.keyHash)).toBeUndefined();
    expect(c.get(b.keyHash)).toBe(b);
  });

  it('does not store a lookup that began before an invalidation (a row read just before a revoke committed)', () => {
    const c = cache();
    const a = key('a');
    const ticket = c.begin();
    c.invalidate('a'); // the revoke's notification arrives while the lookup is in flight
    expect(c.put(a.keyHash, a, ticket)).toBe(false);
    expect(c.get(a.keyHash)).toBeUndefined();
    expect(c.put(a.keyHash, a, c.begin())).toBe(true);
  });

  it('holds nothing while inactive, and losing the channel flushes everything', () => {
    const c = new ApiKeyCache({ maxEntries: 3, ttlMs: 30_000, now: () => clock });
    const a = key('a');
    expect(c.put(a.keyHash, a, c.begin())).toBe(false); // not listening yet
    c.setActive(true);
    put(c, a);
    const ticket = c.begin();
    c.setActive(false);
    expect(c.get(a.keyHash)).toBeUndefined();
    expect(c.put(a.keyHash, a, ticket)).toBe(false);
    c.setActive(true);
    expect(c.put(a.keyHash, a, ticket)).toBe(false); // began before the channel was lost and found again
    expect(c.get(a.keyHash)).toBeUndefined();
  });

  it('flush drops every key', () => {
    const c = cache();
    ['a', 'b'].map(key).forEach((k) => put(c, k));
    c.flush();
    expect(c.size).toBe(0);
  });

  it('is off with a TTL of 0: never active, never holds a key', () => {
    const c = new ApiKeyCache({ maxEntries: 3, ttlMs: 0, now: () => clock });
    c.setActive(true);
    expect(c.isActive).toBe(false);
    const a = key('a');
    expect(c.put(a.keyHash, a, c.begin())).toBe(false);
    expect(c.get(a.keyHash)).toBeUndefined();
  });
});
