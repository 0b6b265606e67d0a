import { DataSource } from 'typeorm';
import { generateApiKey } from '../../src/auth/api-key-secret';
import { ApiKeyCache } from '../../src/auth/api-key-cache';
import { ApiKeysRepository } from '../../src/auth/api-keys.repository';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const onPostgres = Boolean(process.env.DATABASE_URL);
const read = (t: TestApp, key: string) => t.http.get('/v1/tenants?limit=1').set(bearer(key));

/** Polls `t` with `key` every 20 ms until it is refused; answers how long that took (ms). */
async function refusedWithin(t: TestApp, key: string, since: number, limitMs = 1000): Promise<number> {
  for (;;) {
    const res = await t.http.get('/v1/tenants?limit=1').set(bearer(key));
    if (res.status === 401) {
      expectProblem(res, 401, 'unauthenticated');
      return Date.now() - since;
    }
    expect(res.status).toBe(200);
    if (Date.now() - since > limitMs * 3) throw new Error(`still accepted after ${Date.now() - since} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function lastUsedAt(t: TestApp, id: string): Promise<Date | null> {
  const [row] = await t.app.get(DataSource).query('SELECT last_used_at FROM api_keys WHERE id = $1', [id]);
  return row.last_used_at;
}

describe('cached API-key checks, revocation at once', () => {
  let a: TestApp;
  let b: TestApp;
  let lookups: { a: jest.SpyInstance; b: jest.SpyInstance };
  beforeAll(async () => {
    a = await startTestApp();
    // a second replica on the same PostgreSQL database; on PGlite (one process, one database) the same app
    b = onPostgres ? await startTestApp() : a;
    lookups = { a: jest.spyOn(a.app.get(ApiKeysRepository), 'findByHash'), b: jest.spyOn(b.app.get(ApiKeysRepository), 'findByHash') };
  });
  afterAll(async () => {
    if (b !== a) await b.close();
    await a.close();
  });
  beforeEach(() => jest.clearAllMocks());

  it('reads a key from the database once per process, not once per request', async () => {
    const { key } = await createKey(a, ['analyst']);
    jest.clearAllMocks();
    for (let i = 0; i < 10; i++) await read(a, key).expect(200);
    for (let i = 0; i < 10; i++) await read(b, key).expect(200);
    // one read per process (the same process twice on PGlite)
    expect(lookups.a).toHaveBeenCalledTimes(1);
    expect(lookups.b).toHaveBeenCalledTimes(1);
  });

  it('a key revoked through one replica is refused by the other within a second, and by the first at once', async () => {
    const { id, key } = await createKey(a, ['analyst']);
    await read(a, key).expect(200);
    await read(b, key).expect(200);
    const started = Date.now();
    await b.http.delete(`/v1/api-keys/${id}`).set(bearer(b.adminKey)).expect(204);
    expectProblem(await b.http.get('/v1/tenants?limit=1').set(bearer(key)), 401, 'unauthenticated');
    expect(await refusedWithin(a, key, started)).toBeLessThan(1000);
    expect((await a.http.get('/v1/tenants?limit=1').set(bearer(key))).body.detail).toBe('The API key has been revoked.');
  });

  it('a change made by SQL (revocation, roles, deletion) reaches every replica within a second', async () => {
    const db = a.app.get(DataSource);
    const revoked = await createKey(a, ['analyst']);
    const demoted = await createKey(a, ['admin']);
    const deleted = await createKey(a, ['analyst']);
    for (const t of [a, b]) {
      for (const k of [revoked, deleted]) await read(t, k.key).expect(200);
      await t.http.get('/v1/api-keys?limit=1').set(bearer(demoted.key)).expect(200);
    }
    const started = Date.now();
    await db.query(`UPDATE api_keys SET revoked_at = now(), revoked_by = 'sql' WHERE id = $1`, [revoked.id]);
    await db.query(`UPDATE api_keys SET roles = '{auditor}' WHERE id = $1`, [demoted.id]);
    await db.query(`DELETE FROM api_keys WHERE id = $1`, [deleted.id]);
    for (const t of [a, b]) {
      expect(await refusedWithin(t, revoked.key, started)).toBeLessThan(1000);
      expect(await refusedWithin(t, deleted.key, started)).toBeLessThan(1000);
      // the demoted key still authenticates, with its new role only
      const until = started + 1000;
      let status = 0;
      while (Date.now() < until && status !== 403) status = (await t.http.get('/v1/api-keys?limit=1').set(bearer(demoted.key))).status;
      expect(status).toBe(403);
    }
  });

  it('never remembers a refusal: a key refused as unknown works as soon as it is stored, on every replica', async () => {
    const key = generateApiKey();
    for (const t of [a, b]) expectProblem(await read(t, key), 401, 'unauthenticated');
    await a.app
      .get(DataSource)
      .transaction((manager) =>
        a.app
          .get(ApiKeysService)
          .store(
            key,
            { name: 'late key', roles: ['analyst'], tenantIds: null, expiresAt: null },
            { type: 'system', id: 'test', name: 'test' },
            'req-cache-test',
            manager,
          ),
      );
    for (const t of [a, b]) await read(t, key).expect(200);
  });

  it('writes lastUsedAt once, not on every request, on either replica', async () => {
    const { id, key } = await createKey(a, ['analyst']);
    expect(await lastUsedAt(a, id)).toBeNull();
    const invalidated = [a, b].map((t) => jest.spyOn(t.app.get(ApiKeyCache), 'invalidate'));
    await read(b, key).expect(200); // the first use writes lastUsedAt
    const first = await lastUsedAt(a, id);
    expect(first).toBeInstanceOf(Date);
    // that write is bookkeeping: it does not notify, so no replica drops the key for it
    await new Promise((r) => setTimeout(r, 300));
    for (const spy of invalidated) {
      expect(spy).not.toHaveBeenCalledWith(id);
      spy.mockRestore();
    }
    for (let i = 0; i < 5; i++) {
      await read(a, key).expect(200);
      await read(b, key).expect(200);
    }
    expect(await lastUsedAt(a, id)).toEqual(first);
  });

  (onPostgres ? it : it.skip)(
    'a replica whose change channel is lost flushes its cache, reads keys from the database meanwhile, and listens again',
    async () => {
      const db = a.app.get(DataSource);
      const listeners = async () =>
        (
          (await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cordon-api-keys'`)) as Array<{
            pid: number;
          }>
        ).map((r) => r.pid);
      const before = await listeners();
      expect(before).toHaveLength(2);
      const { id, key } = await createKey(a, ['analyst']);
      await read(a, key).expect(200);
      await read(b, key).expect(200);
      await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cordon-api-keys'`);
      await new Promise((r) => setTimeout(r, 100));
      // the cache was flushed when the channel dropped: the key is read from the database again
      jest.clearAllMocks();
      await read(a, key).expect(200);
      await read(b, key).expect(200);
      expect(lookups.a).toHaveBeenCalledTimes(1);
      expect(lookups.b).toHaveBeenCalledTimes(1);
      const started = Date.now();
      await db.query(`UPDATE api_keys SET revoked_at = now(), revoked_by = 'sql' WHERE id = $1`, [id]);
      for (const t of [a, b]) expect(await refusedWithin(t, key, started)).toBeLessThan(1000);
      // both listen again, on new connections, and cache and invalidate through them
      const until = Date.now() + 10_000;
      while (Date.now() < until && !(a.app.get(ApiKeyCache).isActive && b.app.get(ApiKeyCache).isActive)) await new Promise((r) => setTimeout(r, 50));
      const after = await listeners();
      expect(after).toHaveLength(2);
      expect(after.filter((pid) => before.includes(pid))).toEqual([]);
      const next = await createKey(a, ['analyst']);
      await read(a, next.key).expect(200);
      await read(b, next.key).expect(200);
      jest.clearAllMocks();
      await read(a, next.key).expect(200);
      await read(b, next.key).expect(200);
      expect(lookups.a).not.toHaveBeenCalled();
      expect(lookups.b).not.toHaveBeenCalled();
      const revokedAt = Date.now();
      await a.http.delete(`/v1/api-keys/${next.id}`).set(bearer(a.adminKey)).expect(204);
      expect(await refusedWithin(b, next.key, revokedAt)).toBeLessThan(1000);
    },
  );
});
