import type { AuditLogService } from '../audit-log/audit-log.service';
import { ApiKeyCache } from './api-key-cache';
import type { ApiKeyEntity } from './api-key.entity';
import { generateApiKey, hashApiKey } from './api-key-secret';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService, LAST_USED_RESOLUTION_MS, LAST_USED_RETRY_MS } from './api-keys.service';

/** The service over a repository that holds one key row in memory, with the database's touch rule. */
function setup(lastUsedAgoMs: number | null = null, ttlMs = 30_000) {
  const key = generateApiKey();
  let clock = Date.parse('2026-12-07T12:00:00Z');
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
  const row: ApiKeyEntity = {
    id: 'k1',
    name: 'k',
    keyPrefix: key.slice(0, 10),
    keyHash: hashApiKey(key),
    roles: ['analyst'],
    tenantIds: null,
    createdBy: 't',
    createdAt: new Date(clock),
    expiresAt: null,
    revokedAt: null,
    revokedBy: null,
    lastUsedAt: lastUsedAgoMs === null ? null : new Date(clock - lastUsedAgoMs),
  };
  const repository = {
    findByHash: jest.fn(async (hash: Buffer) => (hash.equals(row.keyHash) ? { ...row } : null)),
    touch: jest.fn(async (_id: string, resolutionMs: number) => {
      if (!row.lastUsedAt || row.lastUsedAt.getTime() <= clock - resolutionMs) row.lastUsedAt = new Date(clock);
      return row.lastUsedAt;
    }),
    findById: jest.fn(async () => ({ ...row })),
    revoke: jest.fn(async () => {
      row.revokedAt = new Date(clock);
      return true;
    }),
    transaction: jest.fn(async (work: (m: unknown) => Promise<unknown>) => work({})),
  };
  const cache = new ApiKeyCache({ maxEntries: 10, ttlMs });
  cache.setActive(true);
  const auditLog = { append: jest.fn(async () => undefined) };
  const service = new ApiKeysService(repository as unknown as ApiKeysRepository, auditLog as unknown as AuditLogService, cache);
  return { key, row, repository, service, cache, advance: (ms: number) => (clock += ms) };
}

describe('ApiKeysService.authenticate with the cache', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reads the key once, then answers from the cache until the TTL', async () => {
    const { key, repository, service, advance } = setup();
    for (let i = 0; i < 5; i++) await expect(service.authenticate(key)).resolves.toMatchObject({ id: 'k1', roles: ['analyst'] });
    expect(repository.findByHash).toHaveBeenCalledTimes(1);
    advance(30_000);
    await service.authenticate(key);
    expect(repository.findByHash).toHaveBeenCalledTimes(2);
  });

  it('writes lastUsedAt on first use and then at most once a minute, however many requests', async () => {
    const { key, row, repository, service, advance } = setup();
    const start = Date.now();
    await service.authenticate(key);
    expect(row.lastUsedAt?.getTime()).toBe(start);
    for (let i = 0; i < 59; i++) {
      advance(1000);
      await service.authenticate(key);
    }
    expect(repository.touch).toHaveBeenCalledTimes(1);
    advance(1000); // 60 s after the write
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(2);
    expect(row.lastUsedAt?.getTime()).toBe(start + 60_000);
  });

  it('concurrent requests with a stale lastUsedAt write it once', async () => {
    const { key, repository, service } = setup(5 * 60_000);
    await service.authenticate(key); // cached
    repository.touch.mockClear();
    await Promise.all(Array.from({ length: 10 }, () => service.authenticate(key)));
    expect(repository.touch).toHaveBeenCalledTimes(0); // the first request above already wrote it
  });

  it('adopts a fresher value another replica wrote, and writes when that one is a minute old', async () => {
    const { key, row, repository, service, advance } = setup(2 * LAST_USED_RESOLUTION_MS, 10 * 60_000); // a TTL longer than the test: the cached copy is never read again;
    await service.authenticate(key); // writes: stored value was two minutes old
    expect(repository.touch).toHaveBeenCalledTimes(1);
    // another replica's write, 30 s later, that this process's cached copy does not know of
    advance(30_000);
    row.lastUsedAt = new Date(Date.now());
    advance(31_000); // 61 s after this process's write: it tries, the database keeps the other replica's value
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(2);
    expect(row.lastUsedAt.getTime()).toBe(Date.now() - 31_000);
    advance(10_000); // the stored value is 41 s old: no attempt
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(2);
    advance(20_000); // 61 s old: written
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(3);
    expect(row.lastUsedAt.getTime()).toBe(Date.now());
  });

  it('a database whose clock lags this process declines the write: the next attempt waits LAST_USED_RETRY_MS, not one per request', async () => {
    const { key, row, repository, service, advance } = setup(null, 10 * 60_000);
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(1);
    // the database's clock is 5 s behind: 60 s later by this process's clock, it still finds the value too young
    repository.touch.mockImplementation(async () => row.lastUsedAt!);
    advance(LAST_USED_RESOLUTION_MS);
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(2);
    for (let i = 0; i < LAST_USED_RETRY_MS / 1000 - 1; i++) {
      advance(1000);
      await service.authenticate(key);
    }
    expect(repository.touch).toHaveBeenCalledTimes(2);
    advance(1000);
    await service.authenticate(key);
    expect(repository.touch).toHaveBeenCalledTimes(3);
  });

  it('a key revoked through this process is refused on the next request, not after the TTL', async () => {
    const { key, service } = setup();
    await service.authenticate(key);
    await service.revoke('k1', { actor: { type: 'system', id: 't', name: 't' }, requestId: 'r' } as never);
    await expect(service.authenticate(key)).rejects.toMatchObject({ status: 401, detail: 'The API key has been revoked.' });
  });

  it('refuses an unknown key without remembering it', async () => {
    const { service, repository } = setup();
    const other = generateApiKey();
    await expect(service.authenticate(other)).rejects.toMatchObject({ status: 401 });
    await expect(service.authenticate(other)).rejects.toMatchObject({ status: 401 });
    expect(repository.findByHash).toHaveBeenCalledTimes(2);
  });

  it('refuses a cached key once it has expired', async () => {
    const { key, row, service, advance, cache } = setup();
    row.expiresAt = new Date(Date.now() + 5_000);
    await service.authenticate(key);
    expect(cache.size).toBe(1);
    advance(5_000);
    await expect(service.authenticate(key)).rejects.toMatchObject({ status: 401, detail: 'The API key has expired.' });
  });
});
