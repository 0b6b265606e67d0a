import { randomUUID } from 'node:crypto';
import type { Scenario } from '../m365-simulator/src/types';
import { CrashHarness } from './support/collection-runs';
import { simApp, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { allPages, bearer, TestApp } from './support/test-app';

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

describe('sign-in collection survives a killed run', () => {
  const crash = new CrashHarness();
  const { adminKey } = crash;
  const ids: string[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const signIns = Array.from({ length: SIGN_INS }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      return {
        id,
        createdDateTime: new Date(now - 5 * MIN - i * 30_000).toISOString(),
        userPrincipalName: `u${i % 9}@crash.example`,
        userId: randomUUID(),
        appId: randomUUID(),
        ipAddress: `192.0.2.${i % 250}`,
        isInteractive: true,
        status: { errorCode: 0 },
      };
    });
    const scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Entra Crash', apps: [simApp(CLIENT, SECRET)], signIns }],
      graph: UNTHROTTLED_GRAPH,
    } as unknown as Scenario;
    await crash.start(scenario, 'cordon-entra-crash-');
  });
  afterAll(() => crash.stop());

  async function storedIds(app: TestApp, id: string): Promise<string[]> {
    return (await allPages<{ recordId: string }>(app, `/v1/events?tenantId=${id}&source=entra-sign-ins`, 1000)).map((e) => e.recordId);
  }

  it('loses nothing, stores nothing twice, and never moves the cursor past unfinished pages', async () => {
    const { sim } = crash;
    // 1. Register the tenant and queue a run, with no worker in this process.
    const tenantId = await crash.queueRun('Entra Crash', { tenantId: TENANT, clientId: CLIENT, secret: SECRET }, 'Entra.SignIns', async (setup, id) => {
      await setup.http.post(`/v1/tenants/${id}/capabilities/refresh`).set(bearer(adminKey)).expect(200);
      // No scheduled run of it (its next one a day away): only the runs this test asks for.
      await setup.http.patch(`/v1/tenants/${id}/collection/Entra.SignIns`).set(bearer(adminKey)).send({ intervalMinutes: 1439 }).expect(200);
    });

    // 2. A worker process picks the run up; pages are slowed down so it is killed between two of them.
    const pages = () =>
      sim.journal.list({ host: 'graph', method: 'GET', path: '/auditLogs/signIns' }).filter((e) => /\$filter|\$skiptoken/.test(decodeURIComponent(e.query)));
    await crash.killWorkerAfter(
      { host: 'graph', method: 'GET', pathPattern: '/v1.0/auditLogs/signIns', times: 0, latencyMs: 700 },
      () => pages().length,
      4,
      'pages',
    );

    // 3. Start again: part is stored, the cursor has not moved, the run is left as the process left it.
    const t = await crash.restart();
    const partial = (await storedIds(t, tenantId)).length;
    expect(partial).toBeGreaterThanOrEqual(2000); // pages committed before the kill stay committed
    expect(partial).toBeLessThan(SIGN_INS);
    const interrupted = await crash.stream('Entra.SignIns');
    expect(interrupted.cursor).toBeNull();
    expect(interrupted.lastRun?.status).toBe('running');

    // 4. Run again once the dead runner's lease lapses: everything, once.
    const view = await crash.rerunAfterLease('Entra.SignIns');
    expect(view.lastRun).toMatchObject({ status: 'succeeded', error: null, new: SIGN_INS - partial, duplicates: partial });
    expect(view.cursor).not.toBeNull();
    const stored = await storedIds(t, tenantId);
    expect(stored.length).toBe(SIGN_INS);
    expect(new Set(stored)).toEqual(new Set(ids));
  });
});
