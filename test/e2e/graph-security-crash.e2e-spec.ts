import { randomUUID } from 'node:crypto';
import type { Scenario } from '../m365-simulator/src/types';
import { CrashHarness } from './support/collection-runs';
import { simApp, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { allPages, TestApp } from './support/test-app';

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

describe('alerts collection survives a killed run', () => {
  const crash = new CrashHarness({ CORDON_GRAPH_SECURITY_ALERTS_PAGE_SIZE: String(PAGE) });
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

  beforeAll(async () => {
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Alerts Crash Tenant', apps: [simApp(CLIENT, SECRET)], alerts } as never],
      graph: UNTHROTTLED_GRAPH,
    };
    await crash.start(scenario, 'cordon-gs-crash-');
  });
  afterAll(() => crash.stop());

  const storedIds = async (app: TestApp, id: string) => (await allPages<{ id: string }>(app, `/v1/alerts?tenantId=${id}`, 1000)).map((a) => a.id);

  it('loses nothing and stores nothing twice', async () => {
    const { sim } = crash;
    // 1. Register the tenant and queue a run, with no worker in this process.
    const tenantId = await crash.queueRun('Alerts Crash', { tenantId: TENANT, clientId: CLIENT, secret: SECRET }, 'alerts');

    // 2. A worker process picks the run up; pages are slowed down so it is killed mid-listing.
    const pages = () =>
      sim.journal.list({ host: 'graph', method: 'GET', path: '/security/alerts_v2' }).filter((e) => new URLSearchParams(e.query).get('$top') === String(PAGE));
    await crash.killWorkerAfter(
      { host: 'graph', method: 'GET', pathPattern: '/v1.0/security/alerts_v2', times: 0, latencyMs: 60 },
      () => pages().length,
      12,
      'pages',
    );

    // 3. What the killed run committed stays; the cursor has not moved (its listing never ended).
    const t = await crash.restart();
    const partial = await storedIds(t, tenantId);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(ALERTS);
    expect(partial.length % PAGE).toBe(0); // whole pages, each in its own transaction
    const interrupted = await crash.stream('alerts');
    expect(interrupted.lastRun?.status).toBe('running'); // as the killed process left it
    expect(interrupted.cursor).toBeNull();

    // 4. Run again once the dead runner's lease has lapsed: everything, once.
    const view = await crash.rerunAfterLease('alerts');
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null, updated: 0 });
    // Over every run of this process (the scheduler may have run one before ours): exactly the missing ones were new.
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(
      new RegExp(
        `cordon_collection_records_total\\{tenant="${tenantId}",source="graph-security",stream="alerts",outcome="new"\\} ${ALERTS - partial.length}\\n`,
      ),
    );
    expect(view.cursor).toBe(alerts.at(-1)!.lastUpdateDateTime);
    const stored = await storedIds(t, tenantId);
    expect(stored).toHaveLength(ALERTS);
    expect(new Set(stored)).toEqual(new Set(alerts.map((a) => a.id)));
  });
});
