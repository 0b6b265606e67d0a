import type { ApiKeyEntity } from './api-key.entity';

export interface ApiKeyCacheOptions {
  /** Keys held at most; the least recently used goes first. */
  maxEntries: number;
  /** A cached lookup is read again from the database after this long, whatever else happens (backstop). */
  ttlMs: number;
  now?: () => number;
}

interface Entry {
  key: ApiKeyEntity;
  storedAt: number;
}

/**
 * API-key lookups held in process, so authenticating a request is not a database query.
 *
 * Only keys the database returned are held (never "no such key": a key created a moment ago on another
 * replica must work at once). A change to a key (revocation, roles, tenants, expiry, deletion) reaches
 * every replica through PostgreSQL NOTIFY (`ApiKeyInvalidation`) and drops the key here; the cache is used
 * only while that channel is known to be open (`setActive`), and losing it flushes everything. A lookup
 * that started before an invalidation is not stored when it ends (`begin` / `put` compare an epoch that
 * every invalidation advances), so a row read just before a revocation committed cannot outlive it.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  private epoch = 0;
  private active = false;
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether invalidations are being received; false flushes the cache and stops it holding anything. */
  setActive(active: boolean): void {
    this.flush();
    this.active = active && this.enabled;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The key with this hash, if held and younger than the TTL. */
  get(hash: Buffer): ApiKeyEntity | undefined {
    if (!this.active) return undefined;
    const id = hash.toString('base64');
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt >= this.options.ttlMs) {
      this.entries.delete(id);
      return undefined;
    }
    // most recently used last: Map keeps insertion order
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.key;
  }

  /** Call before reading a key from the database; pass the result to `put`. */
  begin(): number {
    return this.epoch;
  }

  /** Holds a key read from the database since `ticket`, unless something was invalidated meanwhile. */
  put(hash: Buffer, key: ApiKeyEntity, ticket: number): boolean {
    if (!this.active || ticket !== this.epoch) return false;
    const id = hash.toString('base64');
    this.entries.delete(id);
    this.entries.set(id, { key, storedAt: this.now() });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return true;
  }

  /** Drops the key with this id (it changed or was deleted). */
  invalidate(keyId: string): void {
    this.epoch++;
    for (const [hash, entry] of this.entries) if (entry.key.id === keyId) this.entries.delete(hash);
  }

  /** Drops every key (a notification may have been missed, or many keys changed at once). */
  flush(): void {
    this.epoch++;
    this.entries.clear();
  }
}
