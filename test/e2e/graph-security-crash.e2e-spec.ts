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
 * An alerts collection run killed mid-listing (SIGKILL of the worker process running it), then run
 * again: every alert ends up stored exactly once, the pages committed before the kill stay, and the
 * cursor moved only when a listing completed.
 */

const HOUR = 3_600_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'graph-security-crash-secret-1234';
const ALERTS = 2000;
const PAGE = 50;

interface StreamView {
  stream: string;
  cursor: string | null;
  lastRun: { status: string; startedAt: string; finishedAt: string | null; new: number; duplicates: number; updated: number; error: string | null } | null;
}

describe('alerts collection survives a killed run', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  let t: TestApp | undefined;
  let tenantId: string | undefined;
  const adminKey = generateApiKey();
  const now = Date.now();
  const alerts = Array.from({ length: ALERTS }, (_, i) => ({
    id: `da${String(i).padStart(8, '0')}_${randomUUID().slice(0, 6)}`,
    incidentId: String(5000 + (i % 40)),
    serviceSource: i % 2 ? 'microsoftDefenderForEndpoint' : 'microsoftDefenderForOffice365',
    severity: 'medium',
    status: 'new',
    title: `Crash alert ${i}`,
    createdDateTime: new Date(now - 3 * HOUR + i * 1000).toISOString(),
    lastUpdateDateTime: new Date(now - 2 * HOUR + i * 1000).toISOString(),
  }));

  const env = () => ({
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
    CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
    CORDON_COLLECTION_LEASE_S: '3',
    CORDON_GRAPH_SECURITY_ALERTS_PAGE_SIZE: String(PAGE),
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-gs-crash-'));
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Alerts Crash Tenant', apps: [{ clientId: CLIENT, displayName: 'Cordon', clientSecrets: [SECRET], certificates: [], directoryRoles: [] }], alerts } as never],
      graph: { throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } } as never,
    };
    sim = await startSimulator({ quiet: true, scenario });
  });
  afterAll(async () => {
    // Suites may share one PostgreSQL database: leave no enabled tenant for another suite's scheduler.
    if (t && tenantId) await t.http.delete(`/v1/tenants/${tenantId}`).set(bearer(adminKey));
    await t?.close();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const alertsStream = async (app: TestApp, id: string) =>
    ((await app.http.get(`/v1/tenants/${id}/collection`).set(bearer(adminKey)).expect(200)).body.sources as StreamView[]).find((s) => s.stream === 'alerts')!;
  const storedIds = async (app: TestApp, id: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await app.http.get(`/v1/alerts?tenantId=${id}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`).set(bearer(adminKey)).expect(200);
      ids.push(...res.body.items.map((a) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    return ids;
  };

  it('loses nothing and stores nothing twice', async () => {
    // 1. Register the tenant and queue a run, with no worker in this process.
    const setup = await startTestApp({ ...env(), CORDON_WORKERS: 'false' });
    const created = await setup.http.post('/v1/tenants').set(bearer(adminKey)).send({ displayName: 'Alerts Crash', tenantId: TENANT, cloud: 'global', clientId: CLIENT, credential: { type: 'secret', secret: SECRET } });
    expect(created.status).toBe(201);
    tenantId = created.body.id as string;
    await setup.http.post(`/v1/tenants/${tenantId}/collection/alerts/run`).set(bearer(adminKey)).expect(202);
    await setup.close();

    // 2. A worker process picks the run up; pages are slowed down so it is killed mid-listing.
    const slow = sim.faults.add({ host: 'graph', method: 'GET', pathPattern: '/v1.0/security/alerts_v2', times: 0, latencyMs: 60 } as never);
    const worker = spawnEntry('worker', { ...env(), DATABASE_URL: process.env.DATABASE_URL, CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, CORDON_LOG_LEVEL: 'warn' });
    const pages = () => sim.journal.list({ host: 'graph', method: 'GET', path: '/security/alerts_v2' }).filter((e) => new URLSearchParams(e.query).get('$top') === String(PAGE));
    try {
      const until = Date.now() + 60000;
      while (pages().length < 12) {
        if (Date.now() > until) throw new Error(`the worker read ${pages().length} pages in 60 s; stderr:\n${worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
    await worker.exited;
    sim.faults.remove(slow.id);

    // 3. What the killed run committed stays; the cursor has not moved (its listing never ended).
    t = await startTestApp(env());
    const partial = await storedIds(t, tenantId);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(ALERTS);
    expect(partial.length % PAGE).toBe(0); // whole pages, each in its own transaction
    const interrupted = await alertsStream(t, tenantId);
    expect(interrupted.lastRun?.status).toBe('running'); // as the killed process left it
    expect(interrupted.cursor).toBeNull();

    // 4. Run again once the dead runner's lease has lapsed: everything, once.
    await new Promise((r) => setTimeout(r, 3100));
    const asked = Date.now();
    await t.http.post(`/v1/tenants/${tenantId}/collection/alerts/run`).set(bearer(adminKey)).expect(202);
    const until = Date.now() + 60000;
    let view = await alertsStream(t, tenantId);
    while (!(view.lastRun && Date.parse(view.lastRun.startedAt) >= asked - 5 && view.lastRun.finishedAt)) {
      if (Date.now() > until) throw new Error(`rerun did not finish: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 150));
      view = await alertsStream(t, tenantId);
    }
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null, updated: 0 });
    // Over every run of this process (the scheduler may have run one before ours): exactly the missing ones were new.
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(new RegExp(`cordon_collection_records_total\\{tenant="${tenantId}",source="graph-security",stream="alerts",outcome="new"\\} ${ALERTS - partial.length}\\n`));
    expect(view.cursor).toBe(alerts.at(-1)!.lastUpdateDateTime);
    const stored = await storedIds(t, tenantId);
    expect(stored).toHaveLength(ALERTS);
    expect(new Set(stored)).toEqual(new Set(alerts.map((a) => a.id)));
  });
});
