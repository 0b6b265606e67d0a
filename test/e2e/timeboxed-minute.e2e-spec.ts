import { DeviceInventoryService } from '../../src/integrations/defender-endpoint/device-inventory.service';
import { demoScenario } from '../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { registerSimTenant, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { bearer, createKey, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * The issue's own figure, at the documented minimum and with the default settings: `releaseAfter: PT1M` on
 * a user and a device, released about a minute later (timeboxed-containment.e2e-spec.ts covers the rest
 * with a lowered minimum). Both wait at once, so the file costs one minute of wall time, little CPU.
 */

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const DAN = '0b7c1e2d-0006-4a00-8000-000000000006';
const WS2 = '2a6cd0e8f524eee8a13d3a43f529813c95e1dd18';

describe('releaseAfter PT1M: released about a minute later (default settings)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    scenario.graph = { ...(scenario.graph ?? {}), ...UNTHROTTLED_GRAPH };
    scenario.machineActions = { pendingMs: 200, inProgressMs: 300, timeoutMs: 60_000 };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({ ...simEnv(sim), CORDON_DEFENDER_POLL_INITIAL_MS: '200', CORDON_DEFENDER_POLL_MAX_MS: '500' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    await t.app.get(DeviceInventoryService).sync(contoso);
    responder = (await createKey(t, ['responder'])).key;
  });
  afterAll(async () => {
    if (t && contoso) await t.http.delete(`/v1/tenants/${contoso}`).set(bearer(t.adminKey));
    await t?.close();
    await sim?.stop();
  });

  const tenant = () => sim.context.tenants.get(CONTOSO_TID)!;
  const get = async (id: string) => (await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey)).expect(200)).body;
  const finished = (id: string) =>
    waitFor(
      () => get(id),
      (a) => a.status !== 'running' && a.status !== 'queued',
      20_000,
    );

  it('disables a user and isolates a device for a minute, then releases both as Cordon, with every action in the audit log', async () => {
    const user = await t.http
      .post(`/v1/tenants/${contoso}/users/${DAN}/disable`)
      .set({ ...bearer(responder), Prefer: 'wait=15' })
      .send({ reason: 'INC-21: a minute while we look', releaseAfter: 'PT1M' });
    const device = await t.http
      .post(`/v1/tenants/${contoso}/devices/${WS2}/isolate`)
      .set({ ...bearer(responder), Prefer: 'wait=15' })
      .send({ reason: 'INC-21: a minute while we look', releaseAfter: 'PT1M' });
    const [u, d] = [await finished(user.body.id), await finished(device.body.id)];
    expect([u.status, d.status]).toEqual(['succeeded', 'succeeded']);
    expect(tenant().users.find((x) => x.id === DAN)!.accountEnabled).toBe(false);
    expect(tenant().devices.find((x) => x.id === WS2)!.isolated).toBe(true);
    for (const a of [u, d]) expect(Date.parse(a.release.scheduledAt) - Date.parse(a.completedAt)).toBe(60_000);

    // Still contained well before the minute is up.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(u.release.scheduledAt) - Date.now() - 5_000)));
    expect(tenant().users.find((x) => x.id === DAN)!.accountEnabled).toBe(false);
    expect(tenant().devices.find((x) => x.id === WS2)!.isolated).toBe(true);

    const released = await waitFor(
      async () => [await get(u.id), await get(d.id)],
      (both) => both.every((a) => a.release?.status === 'released'),
      40_000,
    );
    expect(tenant().users.find((x) => x.id === DAN)!.accountEnabled).toBe(true);
    expect(tenant().devices.find((x) => x.id === WS2)!.isolated).toBe(false);
    for (const original of released) {
      const inverse = await get(original.release.actionId);
      expect(inverse).toMatchObject({ status: 'succeeded', releaseOf: original.id, requestedBy: { type: 'system', id: 'cordon' } });
      // About a minute: not before it, and within the poll and machine-action time after it.
      const after = Date.parse(inverse.createdAt) - Date.parse(original.completedAt);
      expect(after).toBeGreaterThanOrEqual(60_000);
      expect(after).toBeLessThan(75_000);
      for (const id of [original.id, inverse.id]) {
        const events = (await t.http.get(`/v1/audit-log?actionId=${id}&limit=100`).set(bearer(t.adminKey)).expect(200)).body.items.map(
          (e: { event: string }) => e.event,
        );
        expect(events).toEqual(expect.arrayContaining(['action.requested', 'action.accepted', 'action.succeeded']));
      }
    }
  }, 120_000);
});
