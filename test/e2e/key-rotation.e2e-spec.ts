import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { KeyRotationService } from '../../src/tenants/key-rotation.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { WebhookSecrets } from '../../src/webhooks/webhook-secrets';
import { WebhooksRepository } from '../../src/webhooks/webhooks.repository';
import { generateApiKey } from '../../src/auth/api-key-secret';
import { createOwnDatabase, OwnDatabase } from './support/own-database';
import { bearer, startTestApp, TestApp } from './support/test-app';

const OLD_KEY = Buffer.alloc(32, 1).toString('base64');
const NEW_KEY = Buffer.alloc(32, 2).toString('base64');
const CLIENT_SECRET = 'rotation-client-secret~1234567890';
const HOOK_SECRET = 'rotation-webhook-secret-1234567890';
const PRIVILEGED_CLIENT = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
const PRIVILEGED_SECRET = 'rotation-privileged-secret~0987654321';
const ADMIN_KEY = generateApiKey();

/**
 * `rotate-encryption-key` with CORDON_ENCRYPTION_KEY: the operator sets the new key, lists the old one in
 * CORDON_ENCRYPTION_PREVIOUS_KEYS and rotates; afterwards every secret — tenant credentials and webhook
 * secrets alike — opens with the new key alone. Runs on a database of its own (rotation re-encrypts
 * every row, which would pull the keys from under the other suites).
 */
describe('encryption key rotation', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-rotation-'));
  let database: OwnDatabase | undefined;
  const apps: TestApp[] = [];

  const start = async (env: Record<string, string>) => {
    // The webhook below points at a discard port on loopback, which only the allow-list permits.
    const t = await startTestApp({
      CORDON_DATA_DIR: dataDir,
      CORDON_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
      CORDON_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1:9',
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
      ...env,
    });
    apps.push(t);
    return t;
  };

  beforeAll(async () => {
    database = await createOwnDatabase('cordon_rotation');
  });
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('re-encrypts tenant credentials, webhook secrets and sealed idempotent answers under the new key', async () => {
    const before = await start({ CORDON_ENCRYPTION_KEY: OLD_KEY, CORDON_WORKERS: 'false' });
    const created = await before.http
      .post('/v1/tenants')
      .set(bearer(before.adminKey))
      .send({
        displayName: 'Rotation Co',
        tenantId: '7d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
        cloud: 'global',
        clientId: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9',
        credential: { type: 'secret', secret: CLIENT_SECRET },
      })
      .expect(201);
    const tenantId: string = created.body.id;
    await before.http
      .put(`/v1/tenants/${tenantId}/webhook`)
      .set(bearer(before.adminKey))
      .send({ url: 'http://127.0.0.1:9/hooks/cordon', secret: HOOK_SECRET })
      .expect(200);
    await before.http
      .put(`/v1/tenants/${tenantId}/privileged-app`)
      .set(bearer(before.adminKey))
      .send({ clientId: PRIVILEGED_CLIENT, credential: { type: 'secret', secret: PRIVILEGED_SECRET } })
      .expect(200);
    const createKey = (t: TestApp) =>
      t.http
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .set('Idempotency-Key', 'rotation-key-1')
        .send({ name: 'rotation playbook', roles: ['analyst'] });
    const newKey = (await createKey(before).expect(201)).body;
    await before.close();

    const rotating = await start({ CORDON_ENCRYPTION_KEY: NEW_KEY, CORDON_ENCRYPTION_PREVIOUS_KEYS: OLD_KEY, CORDON_WORKERS: 'false' });
    const result = await rotating.app.get(KeyRotationService).rotate();
    expect(result.reencrypted).toBeGreaterThanOrEqual(1);
    expect(result.others).toEqual({ 'webhook secret(s)': 1, 'idempotent replay(s)': 1, 'privileged app credentials': 1 });
    const db = rotating.app.get(DataSource);
    expect(await db.query('SELECT 1 FROM tenants WHERE credential_key_id <> $1', [result.keyId])).toEqual([]);
    expect(await db.query('SELECT 1 FROM tenant_webhooks WHERE secret_key_id <> $1', [result.keyId])).toEqual([]);
    expect(await db.query('SELECT 1 FROM tenant_privileged_apps WHERE credential_key_id <> $1', [result.keyId])).toEqual([]);
    const audited = (await rotating.http.get('/v1/audit-log?event=encryption-key.rotated').set(bearer(rotating.adminKey)).expect(200)).body.items;
    expect(audited.map((e: { data: Record<string, unknown> }) => e.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tenants: expect.arrayContaining([tenantId]) }),
        expect.objectContaining({ webhooks: [tenantId] }),
        expect.objectContaining({ privilegedApps: [tenantId] }),
      ]),
    );
    expect(JSON.stringify(audited)).not.toContain(HOOK_SECRET);
    expect(JSON.stringify(audited)).not.toContain(PRIVILEGED_SECRET);
    await rotating.close();

    // the old key is gone from the configuration: everything still opens
    const after = await start({ CORDON_ENCRYPTION_KEY: NEW_KEY, CORDON_WORKERS: 'false' });
    const tenants = after.app.get(TenantsService);
    const tenant = (await tenants.findLive(tenantId))!;
    expect(tenants.credentialsOf(tenant)).toMatchObject({ credential: { type: 'secret', secret: CLIENT_SECRET } });
    expect(await tenants.privilegedCredentialsOf(tenant)).toMatchObject({
      clientId: PRIVILEGED_CLIENT,
      credential: { type: 'secret', secret: PRIVILEGED_SECRET },
    });
    const webhook = (await after.app.get(WebhooksRepository).findConfig(tenantId))!;
    expect(after.app.get(WebhookSecrets).openOrNull(tenantId, webhook)).toBe(HOOK_SECRET);
    const replayed = await createKey(after).expect(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(newKey);
  });
});
