import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../src/auth/api-key-secret';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { spawnEntry } from './support/spawn';
import { bearer, startTestApp, TEST_ENCRYPTION_KEY, TestApp } from './support/test-app';

/**
 * A sign-in collection run killed mid-way (SIGKILL of the worker running it, between two Graph
 * pages), then run again: the cursor never moved past unfinished work, and every sign-in ends up
 * stored exactly once.
 */

const MIN = 60_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'entra-crash-secret-value-12345';
const SIGN_INS = 6000; // six pages of 1,000

interface StreamView {
  stream: string;
  cursor: string | null;
  lastRun: { status: string; startedAt: string; finishedAt: string | null; error: string | null; new: number; duplicates: number } | null;
}

describe('sign-in collection survives a killed run', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  let t: TestApp | undefined;
  let tenantId: string | undefined;
  const adminKey = generateApiKey();
  const ids: string[] = [];

  const env = () => ({
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
    CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
    CORDON_COLLECTION_LEASE_S: '3',
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-entra-crash-'));
    const now = Date.now();
    const signIns = Array.from({ length: SIGN_INS }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      return { id, createdDateTime: new Date(now - 5 * MIN - i * 30_000).toISOString(), userPrincipalName: `u${i % 9}@crash.example`, userId: randomUUID(), appId: randomUUID(), ipAddress: `192.0.2.${i % 250}`, isInteractive: true, status: { errorCode: 0 } };
    });
    const scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Entra Crash', apps: [{ clientId: CLIENT, displayName: 'Cordon', clientSecrets: [SECRET], certificates: [], directoryRoles: [] }], signIns }],
      graph: { throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } },
    } as unknown as Scenario;
    sim = await startSimulator({ quiet: true, scenario });
  });
  afterAll(async () => {
    if (t && tenantId) await t.http.delete(`/v1/tenants/${tenantId}`).set(bearer(adminKey));
    await t?.close();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const signIns = async (app: TestApp, id: string) =>
    ((await app.http.get(`/v1/tenants/${id}/collection`).set(bearer(adminKey)).expect(200)).body.sources as StreamView[]).find((s) => s.stream === 'Entra.SignIns')!;

  async function storedIds(app: TestApp, id: string): Promise<string[]> {
    const stored: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ recordId: string }>; nextCursor: string | null } } = await app.http.get(`/v1/events?tenantId=${id}&source=entra-sign-ins&limit=1000${cursor ? `&cursor=${cursor}` : ''}`).set(bearer(adminKey)).expect(200);
      stored.push(...res.body.items.map((e) => e.recordId));
      cursor = res.body.nextCursor;
    } while (cursor);
    return stored;
  }

  it('loses nothing, stores nothing twice, and never moves the cursor past unfinished pages', async () => {
    // 1. Register the tenant and queue a run, with no worker in this process.
    const setup = await startTestApp({ ...env(), CORDON_WORKERS: 'false' });
    const created = await setup.http.post('/v1/tenants').set(bearer(adminKey)).send({ displayName: 'Entra Crash', tenantId: TENANT, cloud: 'global', clientId: CLIENT, credential: { type: 'secret', secret: SECRET } });
    expect(created.status).toBe(201);
    tenantId = created.body.id as string;
    await setup.http.post(`/v1/tenants/${tenantId}/capabilities/refresh`).set(bearer(adminKey)).expect(200);
    // No scheduled run of it (its next one a day away): only the runs this test asks for.
    await setup.http.patch(`/v1/tenants/${tenantId}/collection/Entra.SignIns`).set(bearer(adminKey)).send({ intervalMinutes: 1439 }).expect(200);
    await setup.http.post(`/v1/tenants/${tenantId}/collection/Entra.SignIns/run`).set(bearer(adminKey)).expect(202);
    await setup.close();

    // 2. A worker process picks the run up; pages are slowed down so it is killed between two of them.
    const slow = sim.faults.add({ host: 'graph', method: 'GET', pathPattern: '/v1.0/auditLogs/signIns', times: 0, latencyMs: 700 } as never);
    const pages = () => sim.journal.list({ host: 'graph', method: 'GET', path: '/auditLogs/signIns' }).filter((e) => /\$filter|\$skiptoken/.test(decodeURIComponent(e.query)));
    const worker = spawnEntry('worker', { ...env(), DATABASE_URL: process.env.DATABASE_URL, CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, CORDON_LOG_LEVEL: 'warn' });
    try {
      const until = Date.now() + 60000;
      while (pages().length < 4) {
        if (Date.now() > until) throw new Error(`the worker read ${pages().length} pages in 60 s; stderr:\n${worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
    await worker.exited;
    sim.faults.remove(slow.id);

    // 3. Start again: part is stored, the cursor has not moved, the run is left as the process left it.
    t = await startTestApp(env());
    const partial = (await storedIds(t, tenantId)).length;
    expect(partial).toBeGreaterThanOrEqual(2000); // pages committed before the kill stay committed
    expect(partial).toBeLessThan(SIGN_INS);
    const interrupted = await signIns(t, tenantId);
    expect(interrupted.cursor).toBeNull();
    expect(interrupted.lastRun?.status).toBe('running');

    // 4. Run again once the dead runner's lease lapses: everything, once.
    await new Promise((r) => setTimeout(r, 3100));
    const asked = Date.now();
    await t.http.post(`/v1/tenants/${tenantId}/collection/Entra.SignIns/run`).set(bearer(adminKey)).expect(202);
    const until = Date.now() + 60000;
    let view = await signIns(t, tenantId);
    while (!(view.lastRun && Date.parse(view.lastRun.startedAt) >= asked - 5 && view.lastRun.finishedAt)) {
      if (Date.now() > until) throw new Error(`rerun did not finish: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 150));
      view = await signIns(t, tenantId);
    }
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null, new: SIGN_INS - partial, duplicates: partial });
    expect(view.cursor).not.toBeNull();
    const stored = await storedIds(t, tenantId);
    expect(stored.length).toBe(SIGN_INS);
    expect(new Set(stored)).toEqual(new Set(ids));
  });
});
