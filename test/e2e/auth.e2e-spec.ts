import { DataSource } from 'typeorm';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

describe('authentication and roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 401 with WWW-Authenticate when no credential is sent', async () => {
    const res = await t.http.get('/v1/api-keys');
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it.each([
    ['an unknown key', `cdn_${'A'.repeat(43)}`],
    ['a malformed key', 'cdn_short'],
    ['a token that is not a JWT', 'not-a-jwt'],
  ])('answers 401 for %s', async (_, credential) => {
    const res = await t.http.get('/v1/api-keys').set(bearer(credential));
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  });

  it('answers 401 for a header that is not a bearer credential', async () => {
    const res = await t.http.get('/v1/api-keys').set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`);
    expectProblem(res, 401, 'unauthenticated');
  });

  it.each(['auditor', 'analyst', 'responder'])('answers 403 to a %s on every /v1/api-keys route', async (role) => {
    const { key } = await createKey(t, [role]);
    const { id } = await createKey(t, ['analyst']);
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(key)), 403, 'forbidden');
    expectProblem(
      await t.http
        .post('/v1/api-keys')
        .set(bearer(key))
        .send({ name: 'x', roles: ['admin'] }),
      403,
      'forbidden',
    );
    expectProblem(await t.http.delete(`/v1/api-keys/${id}`).set(bearer(key)), 403, 'forbidden');
    // nothing was created or revoked by the refused calls
    const list = await t.http.get('/v1/api-keys?limit=1000').set(bearer(t.adminKey));
    expect(list.body.items.find((k: { id: string }) => k.id === id).revokedAt).toBeNull();
    expect(list.body.items.filter((k: { name: string }) => k.name === 'x')).toHaveLength(0);
  });

  it('lets an admin create a key that works at once, shows it once, and stores only a hash', async () => {
    const res = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'playbook', roles: ['responder', 'analyst'] });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^cdn_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ name: 'playbook', roles: ['responder', 'analyst'], tenantIds: null, revokedAt: null, prefix: res.body.key.slice(0, 10) });
    const list = await t.http.get('/v1/api-keys?limit=1000').set(bearer(t.adminKey));
    const listed = list.body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    const [row] = await t.app.get(DataSource).query('SELECT key_hash FROM api_keys WHERE id = $1', [res.body.id]);
    expect(Buffer.from(row.key_hash).toString('hex')).not.toContain(Buffer.from(res.body.key).toString('hex'));
    // the new key authenticates (it is not an admin, so it gets 403, not 401)
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(res.body.key)), 403, 'forbidden');
  });

  it('records lastUsedAt when a key is used', async () => {
    const { id, key } = await createKey(t, ['admin']);
    await t.http.get('/v1/api-keys').set(bearer(key)).expect(200);
    const list = await t.http.get('/v1/api-keys?limit=1000').set(bearer(t.adminKey));
    expect(list.body.items.find((k: { id: string }) => k.id === id).lastUsedAt).not.toBeNull();
  });

  it('refuses a revoked key at once', async () => {
    const { id, key } = await createKey(t, ['admin']);
    await t.http.get('/v1/api-keys').set(bearer(key)).expect(200);
    await t.http.delete(`/v1/api-keys/${id}`).set(bearer(t.adminKey)).expect(204);
    const res = await t.http.get('/v1/api-keys').set(bearer(key));
    expectProblem(res, 401, 'unauthenticated');
    expect(res.body.detail).toContain('revoked');
    // revoking again is harmless; an unknown id is 404; a bad id is 400
    await t.http.delete(`/v1/api-keys/${id}`).set(bearer(t.adminKey)).expect(204);
    expectProblem(await t.http.delete('/v1/api-keys/00000000-0000-4000-8000-000000000000').set(bearer(t.adminKey)), 404, 'not-found');
    expectProblem(await t.http.delete('/v1/api-keys/not-a-uuid').set(bearer(t.adminKey)), 400, 'validation-failed');
  });

  it('refuses an expired key', async () => {
    const key = 'cdn_' + 'e'.repeat(43);
    await t.app
      .get(DataSource)
      .transaction((manager) =>
        t.app
          .get(ApiKeysService)
          .store(
            key,
            { name: 'expired', roles: ['admin'], tenantIds: null, expiresAt: new Date(Date.now() - 1000) },
            { type: 'system', id: 'test', name: 'test' },
            'test',
            manager,
          ),
      );
    const res = await t.http.get('/v1/api-keys').set(bearer(key));
    expectProblem(res, 401, 'unauthenticated');
    expect(res.body.detail).toContain('expired');
  });

  it('refuses an expiry in the past at creation', async () => {
    const res = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'x', roles: ['admin'], expiresAt: '2001-01-01T00:00:00Z' });
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
  });

  it("answers 404 for a tenant outside a key's tenant list, as if it did not exist", async () => {
    const mine = '6f1c2b4e-9a55-4c1e-8d0b-2f7a1e3c5d9a';
    const other = '0b9e6f52-3c1d-4a7e-9f08-5e2d4c6b8a1f';
    const { key } = await createKey(t, ['analyst'], { tenantIds: [mine] });
    await t.http.get(`/v1/_test/tenants/${mine}`).set(bearer(key)).expect(200);
    expectProblem(await t.http.get(`/v1/_test/tenants/${other}`).set(bearer(key)), 404, 'not-found');
    const unscoped = await createKey(t, ['analyst']);
    await t.http.get(`/v1/_test/tenants/${other}`).set(bearer(unscoped.key)).expect(200);
  });

  it('keeps a route without an access rule closed, even to an admin', async () => {
    expectProblem(await t.http.post('/v1/_test/unguarded').set(bearer(t.adminKey)), 403, 'forbidden');
    expectProblem(await t.http.post('/v1/_test/unguarded'), 401, 'unauthenticated');
  });

  it('pages keys with a keyset cursor, newest first, without repeats', async () => {
    for (let i = 0; i < 5; i++) await createKey(t, ['auditor']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: Array<{ id: string; createdAt: string }>; nextCursor: string | null } } = await t.http
        .get(`/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(t.adminKey))
        .expect(200);
      seen.push(...res.body.items.map((k) => k.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    const all = await t.http.get('/v1/api-keys?limit=1000').set(bearer(t.adminKey));
    expect(seen).toEqual(all.body.items.map((k: { id: string }) => k.id));
    expectProblem(await t.http.get('/v1/api-keys?cursor=%25%25').set(bearer(t.adminKey)), 400, 'validation-failed');
    expectProblem(await t.http.get('/v1/api-keys?limit=1001').set(bearer(t.adminKey)), 400, 'validation-failed');
  });
});
