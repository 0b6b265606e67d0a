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
 * A collection run killed mid-way (SIGKILL of the worker process running it), then run again: every
 * record ends up stored exactly once, and content committed before the kill is not fetched again.
 */

const HOUR = 3_600_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'collection-crash-secret-value-1234';
const CONCURRENCY = 3;

interface StreamView {
  stream: string;
  cursor: string | null;
  lastRun: { status: string; startedAt: string; finishedAt: string | null; error: string | null } | null;
}

describe('collection survives a killed run', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  let t: TestApp | undefined;
  const adminKey = generateApiKey();
  const ids: string[] = [];

  const env = () => ({
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
    CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
    CORDON_COLLECTION_CONCURRENCY: String(CONCURRENCY),
    CORDON_COLLECTION_LEASE_S: '3',
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-crash-'));
    const now = Date.now();
    const records = Array.from({ length: 1500 }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      return { Id: id, RecordType: 2, Workload: 'Exchange', Operation: 'MailItemsAccessed', CreationTime: new Date(now - 2 * HOUR - i * 2 * 60_000).toISOString().slice(0, 19), UserId: `u${i % 9}@crash.example`, ClientIP: `192.0.2.${i % 250}` };
    });
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Crash Tenant', apps: [{ clientId: CLIENT, displayName: 'Cordon', clientSecrets: [SECRET], certificates: [], directoryRoles: [] }], auditRecords: records } as never],
      manage: { pageSize: 10, duplicateBlobEvery: 5, duplicateDelayMs: HOUR },
    };
    sim = await startSimulator({ quiet: true, scenario });
  });
  let tenantId: string | undefined;
  afterAll(async () => {
    // Suites may share one PostgreSQL database: leave no enabled tenant for another suite's scheduler.
    if (t && tenantId) await t.http.delete(`/v1/tenants/${tenantId}`).set(bearer(adminKey));
    await t?.close();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const exchange = async (app: TestApp, id: string) =>
    ((await app.http.get(`/v1/tenants/${id}/collection`).set(bearer(adminKey)).expect(200)).body.sources as StreamView[]).find((s) => s.stream === 'Audit.Exchange')!;

  it('loses nothing and duplicates nothing', async () => {
    // 1. Register the tenant and queue a run, with no worker in this process.
    const setup = await startTestApp({ ...env(), CORDON_WORKERS: 'false' });
    const created = await setup.http.post('/v1/tenants').set(bearer(adminKey)).send({ displayName: 'Crash', tenantId: TENANT, cloud: 'global', clientId: CLIENT, credential: { type: 'secret', secret: SECRET } });
    expect(created.status).toBe(201);
    tenantId = created.body.id as string;
    await setup.http.post(`/v1/tenants/${tenantId}/collection/Audit.Exchange/run`).set(bearer(adminKey)).expect(202);
    await setup.close();

    // 2. A worker process picks the run up; blobs are slowed down so it is killed mid-way.
    const slow = sim.faults.add({ host: 'manage', method: 'GET', pathPattern: '*/activity/feed/audit/*', times: 0, latencyMs: 25 } as never);
    const worker = spawnEntry('worker', { ...env(), DATABASE_URL: process.env.DATABASE_URL, CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, CORDON_LOG_LEVEL: 'warn' });
    const blobGets = () => sim.journal.list({ host: 'manage', method: 'GET' }).filter((e) => e.path.includes('/activity/feed/audit/') && e.path.includes('Exchange'));
    try {
      const until = Date.now() + 60000;
      while (blobGets().length < 40) {
        if (Date.now() > until) throw new Error(`the worker fetched ${blobGets().length} blobs in 60 s; stderr:\n${worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
    await worker.exited;
    sim.faults.remove(slow.id);
    const beforeKill = blobGets().map((e) => e.path);

    // 3. Start again and collect: nothing lost, nothing twice.
    t = await startTestApp(env());
    const partial = (await t.http.get(`/v1/events?tenantId=${tenantId}&limit=1000`).set(bearer(adminKey)).expect(200)).body.items.length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(ids.length);
    const interrupted = await exchange(t, tenantId);
    expect(interrupted.lastRun?.status).toBe('running'); // as the killed process left it
    // The cursor may have passed the empty early windows, never the unfinished one (which ends now).
    expect(Date.parse(interrupted.cursor ?? '1970-01-01T00:00:00Z')).toBeLessThan(Date.now() - HOUR);

    await new Promise((r) => setTimeout(r, 3100)); // the dead runner's lease lapses
    const asked = Date.now();
    await t.http.post(`/v1/tenants/${tenantId}/collection/Audit.Exchange/run`).set(bearer(adminKey)).expect(202);
    const until = Date.now() + 60000;
    let view = await exchange(t, tenantId);
    while (!(view.lastRun && Date.parse(view.lastRun.startedAt) >= asked - 5 && view.lastRun.finishedAt)) {
      if (Date.now() > until) throw new Error(`rerun did not finish: ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 150));
      view = await exchange(t, tenantId);
    }
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null });

    const stored: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ recordId: string }>; nextCursor: string | null } } = await t.http.get(`/v1/events?tenantId=${tenantId}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`).set(bearer(adminKey)).expect(200);
      stored.push(...res.body.items.map((e) => e.recordId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(stored.length).toBe(ids.length);
    expect(new Set(stored)).toEqual(new Set(ids.map((id) => id.toLowerCase())));

    // Blobs committed before the kill were not fetched again; at most the ones in flight were.
    const after = blobGets().map((e) => e.path).slice(beforeKill.length);
    const refetched = after.filter((p) => beforeKill.includes(p));
    expect(refetched.length).toBeLessThanOrEqual(CONCURRENCY);
    // The killed run is recorded as interrupted, not left running.
    const runs = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.gap`).set(bearer(adminKey)).expect(200)).body.items;
    expect(runs).toEqual([]); // and nothing was reported lost
  });
});
