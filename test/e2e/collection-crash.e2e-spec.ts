import { randomUUID } from 'node:crypto';
import type { Scenario } from '../m365-simulator/src/types';
import { CrashHarness } from './support/collection-runs';
import { simApp } from './support/sim-tenant';
import { allPages, bearer } from './support/test-app';

/**
 * A collection run killed mid-way (SIGKILL of the worker process running it), then run again: every
 * record ends up stored exactly once, and content committed before the kill is not fetched again.
 */

const HOUR = 3_600_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'collection-crash-secret-value-1234';
const CONCURRENCY = 3;

describe('collection survives a killed run', () => {
  const crash = new CrashHarness({ CORDON_COLLECTION_CONCURRENCY: String(CONCURRENCY) });
  const { adminKey } = crash;
  const ids: string[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const records = Array.from({ length: 1500 }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      return {
        Id: id,
        RecordType: 2,
        Workload: 'Exchange',
        Operation: 'MailItemsAccessed',
        CreationTime: new Date(now - 2 * HOUR - i * 2 * 60_000).toISOString().slice(0, 19),
        UserId: `u${i % 9}@crash.example`,
        ClientIP: `192.0.2.${i % 250}`,
      };
    });
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Crash Tenant', apps: [simApp(CLIENT, SECRET)], auditRecords: records } as never],
      manage: { pageSize: 10, duplicateBlobEvery: 5, duplicateDelayMs: HOUR },
    };
    await crash.start(scenario, 'cordon-crash-');
  });
  afterAll(() => crash.stop());

  it('loses nothing and duplicates nothing', async () => {
    const { sim } = crash;
    // 1. Register the tenant and queue a run, with no worker in this process.
    const tenantId = await crash.queueRun('Crash', { tenantId: TENANT, clientId: CLIENT, secret: SECRET }, 'Audit.Exchange');

    // 2. A worker process picks the run up; blobs are slowed down so it is killed mid-way.
    const blobGets = () =>
      sim.journal.list({ host: 'manage', method: 'GET' }).filter((e) => e.path.includes('/activity/feed/audit/') && e.path.includes('Exchange'));
    await crash.killWorkerAfter(
      { host: 'manage', method: 'GET', pathPattern: '*/activity/feed/audit/*', times: 0, latencyMs: 25 },
      () => blobGets().length,
      40,
      'blobs',
    );
    const beforeKill = blobGets().map((e) => e.path);

    // 3. Start again and collect: nothing lost, nothing twice.
    const t = await crash.restart();
    const partial = (await t.http.get(`/v1/events?tenantId=${tenantId}&limit=1000`).set(bearer(adminKey)).expect(200)).body.items.length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(ids.length);
    const interrupted = await crash.stream('Audit.Exchange');
    expect(interrupted.lastRun?.status).toBe('running'); // as the killed process left it
    // The cursor may have passed the empty early windows, never the unfinished one (which ends now).
    expect(Date.parse(interrupted.cursor ?? '1970-01-01T00:00:00Z')).toBeLessThan(Date.now() - HOUR);

    // Once the dead runner's lease lapses, a run asked for finishes.
    const view = await crash.rerunAfterLease('Audit.Exchange');
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null });

    const stored = (await allPages<{ recordId: string }>(t, `/v1/events?tenantId=${tenantId}`, 1000)).map((e) => e.recordId);
    expect(stored.length).toBe(ids.length);
    expect(new Set(stored)).toEqual(new Set(ids.map((id) => id.toLowerCase())));

    // Blobs committed before the kill were not fetched again; at most the ones in flight were.
    const after = blobGets()
      .map((e) => e.path)
      .slice(beforeKill.length);
    const refetched = after.filter((p) => beforeKill.includes(p));
    expect(refetched.length).toBeLessThanOrEqual(CONCURRENCY);
    // The killed run is recorded as interrupted, not left running.
    const runs = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.gap`).set(bearer(adminKey)).expect(200)).body.items;
    expect(runs).toEqual([]); // and nothing was reported lost
  });
});
