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
  const rows = async (microsoftTenantId: string) => Number((await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM tenants WHERE microsoft_tenant_id = $1', [microsoftTenantId]))[0].n);

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
