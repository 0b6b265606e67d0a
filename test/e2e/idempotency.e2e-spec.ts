import { DataSource } from 'typeorm';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/** Idempotency-Key on create routes other than actions (those have their own tests in actions.e2e). */
describe('Idempotency-Key on create routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORDON_WORKERS: 'false' });
  });
  afterAll(() => t.close());

  const tenant = (n: number) => ({
    displayName: `Idempotent Co ${n}`,
    tenantId: `5e0c1d2a-3b4c-4d5e-8f60-71829304a5b${n}`,
    cloud: 'global',
    clientId: `0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3${n}`,
    credential: { type: 'secret', secret: 'idempotency-client-secret~1234567890' },
  });
  const create = (key: string, body: object, apiKey = t.adminKey) => t.http.post('/v1/tenants').set(bearer(apiKey)).set('Idempotency-Key', key).send(body);
  const rows = async (microsoftTenantId: string) =>
    Number((await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM tenants WHERE microsoft_tenant_id = $1', [microsoftTenantId]))[0].n);

  it('registers a tenant once for a retried request and replays the first answer', async () => {
    const first = await create('tenant-create-1', tenant(1)).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await create('tenant-create-1', tenant(1)).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await rows(tenant(1).tenantId)).toBe(1);
  });

  it('refuses the same key with another request, and keys are per principal', async () => {
    expectProblem(await create('tenant-create-1', tenant(2)), 409, 'idempotency-key-reused');
    expect(await rows(tenant(2).tenantId)).toBe(0);
    const otherAdmin = await createKey(t, ['admin']);
    await create('tenant-create-1', tenant(2), otherAdmin.key).expect(201);
    expect(await rows(tenant(2).tenantId)).toBe(1);
  });

  it('replays a refusal as the same problem, and frees the key of an invalid request', async () => {
    const refused = await create('tenant-create-dup', tenant(1));
    expectProblem(refused, 409, 'tenant-exists');
    const replayed = await create('tenant-create-dup', tenant(1));
    expectProblem(replayed, 409, 'tenant-exists');
    expect(replayed.headers['idempotent-replayed']).toBe('true');

    expectProblem(await create('tenant-create-bad', { ...tenant(3), cloud: 'moon' }), 400, 'validation-failed');
    await create('tenant-create-bad', tenant(3)).expect(201);
  });

  it('refuses a malformed key', async () => {
    expectProblem(await create('x'.repeat(256), tenant(4)), 400, 'validation-failed');
    expect(await rows(tenant(4).tenantId)).toBe(0);
  });
});

describe('Idempotency-Key on POST /v1/api-keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORDON_WORKERS: 'false' });
  });
  afterAll(() => t.close());

  const create = (key: string, body: object) => t.http.post('/v1/api-keys').set(bearer(t.adminKey)).set('Idempotency-Key', key).send(body);
  const keyRows = async (name: string) => Number((await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM api_keys WHERE name = $1', [name]))[0].n);
  const stored = async (key: string) =>
    (await t.app.get(DataSource).query('SELECT response_body::text AS body, response_headers::text AS headers FROM idempotency_keys WHERE key = $1', [key]))[0];

  it('creates one key for a retried request and replays it, secret included', async () => {
    const first = await create('key-create-1', { name: 'soar-retried', roles: ['responder'] }).expect(201);
    expect(first.body.key).toMatch(/^cdn_/);
    const again = await create('key-create-1', { name: 'soar-retried', roles: ['responder'] }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await keyRows('soar-retried')).toBe(1);
    // The replayed key works: it is the one that was created.
    await t.http.get('/v1/actions').set(bearer(again.body.key)).expect(200);
  });

  it('keeps the shown-once key only encrypted in the idempotency table', async () => {
    const created = await create('key-create-2', { name: 'soar-sealed', roles: ['analyst'] }).expect(201);
    const row = await stored('key-create-2');
    expect(row.body).toContain('"sealed"');
    for (const part of [created.body.key, created.body.key.slice(4), created.body.id, 'soar-sealed']) expect(row.body).not.toContain(part);
    expect(row.headers).not.toContain(created.body.key);
  });

  it('refuses the same key with another request, an empty key and an over-long one', async () => {
    expectProblem(await create('key-create-1', { name: 'soar-other', roles: ['analyst'] }), 409, 'idempotency-key-reused');
    const empty = await create('', { name: 'soar-empty', roles: ['analyst'] });
    expectProblem(empty, 400, 'validation-failed');
    expect(empty.body.errors).toEqual([{ field: 'Idempotency-Key', message: 'must be 1–255 printable characters' }]);
    expectProblem(await create('k'.repeat(256), { name: 'soar-long', roles: ['analyst'] }), 400, 'validation-failed');
    await create('k'.repeat(255), { name: 'soar-longest', roles: ['analyst'] }).expect(201);
    for (const name of ['soar-other', 'soar-empty', 'soar-long']) expect(await keyRows(name)).toBe(0);
  });

  it('refuses a malformed key on every route, not only on creates', async () => {
    const res = await t.http.get('/v1/api-keys').set(bearer(t.adminKey)).set('Idempotency-Key', '');
    expectProblem(res, 400, 'validation-failed');
  });
});
