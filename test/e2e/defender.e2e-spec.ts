import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceInventoryService } from '../../src/integrations/defender-endpoint/device-inventory.service';
import { demoScenario } from '../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { settleMachineActions } from '../m365-simulator/src/defender';
import type { Scenario, SimDevice } from '../m365-simulator/src/types';
import { registerSimTenant, simEnv } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const WS1 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const WS2 = '2a6cd0e8f524eee8a13d3a43f529813c95e1dd18';
const WS2_ENTRA = '91af9009-3735-429f-a6a2-52a15a2329fa';
const FIN_FQDN = '3b7de1f9a635fff9b24e4b54a63a924da6f2ee29';
const FIN_SHORT = '4c8ef2a0b746aa0ac35f5c65b74ba35eb7a3ff3a';
const SRV = '5d9fa3b1c857bb1bd46a6d76c85cb46fc8b4aa4b';
const MAC = '6ea0b4c2d968cc2ce57b7e87d96dc57ad9c5bb5c';
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];
/** Parameter names Defender documents for response actions (microsoft-notes §5.3, M17). */
const DOCUMENTED = ['Comment', 'IsolationType', 'ScanType'];

describe('device containment through Defender for Endpoint (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let dataDir: string;
  let contoso: string;
  let responder: { id: string; key: string };
  let responder2: string;
  let analyst: string;

  const env = () => ({
    ...simEnv(sim),
    CORDON_DATA_DIR: dataDir,
    CORDON_ACTION_LEASE_S: '5',
    CORDON_DEFENDER_POLL_INITIAL_MS: '200',
    CORDON_DEFENDER_POLL_MAX_MS: '800',
  });

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    scenario.graph = { ...(scenario.graph ?? {}), throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } } as never;
    scenario.machineActions = { pendingMs: 200, inProgressMs: 300, timeoutMs: 60_000 };
    sim = await startSimulator({ quiet: true, scenario });
    // A domain controller, tagged as such in Defender.
    device(SRV).extra = { machineTags: ['DomainController'] };
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-defender-'));
    t = await startTestApp(env());
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = await createKey(t, ['responder']);
    responder2 = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  function device(id: string): SimDevice {
    return sim.context.tenants.get(CONTOSO_TID)!.devices.find((d) => d.id === id)!;
  }
  const act = (
    key: string,
    target: string,
    verb: string,
    body: Record<string, unknown> = { reason: 'INC-7: beaconing to a known C2' },
    headers: Record<string, string> = {},
  ) =>
    t.http
      .post(`/v1/tenants/${contoso}/devices/${encodeURIComponent(target)}/${verb}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const get = async (id: string) => (await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey)).expect(200)).body;
  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const waitFinal = (id: string) =>
    until(`action ${id} to finish`, async () => {
      const a = await get(id);
      return FINAL.includes(a.status) && a;
    });
  /** The step once Defender has a machine action for it (tracking). */
  const waitTracked = (id: string) =>
    until(`action ${id} to be tracked`, async () => {
      const a = await get(id);
      return a.steps[0]?.detail?.machineActionId && a.status === 'running' && a;
    });
  const defenderPosts = (since: number) => sim.journal.list({ host: 'defender', method: 'POST', since });

  it('syncs the device inventory and pages through it by name', async () => {
    expect(await t.app.get(DeviceInventoryService).sync(contoso)).toBe(6);
    const all = await t.http.get(`/v1/tenants/${contoso}/devices?limit=4`).set(bearer(analyst)).expect(200);
    expect(all.body.items).toHaveLength(4);
    const rest = await t.http.get(`/v1/tenants/${contoso}/devices?limit=4&cursor=${all.body.nextCursor}`).set(bearer(analyst)).expect(200);
    expect(rest.body.nextCursor).toBeNull();
    const names = [...all.body.items, ...rest.body.items].map((d: { computerDnsName: string }) => d.computerDnsName);
    expect(names).toEqual([
      'fin-laptop-07',
      'fin-laptop-07.contoso.example',
      'mac-erin.contoso.example',
      'srv-db-01.contoso.example',
      'ws-001.contoso.example',
      'ws-002.contoso.example',
    ]);
    const ws = await t.http.get(`/v1/tenants/${contoso}/devices?name=WS-00`).set(bearer(analyst)).expect(200);
    expect(ws.body.items.map((d: { machineId: string }) => d.machineId)).toEqual([WS1, WS2]);
    expect(ws.body.items[0]).toMatchObject({
      aadDeviceId: '80fe8ff8-2624-418e-9591-41f0491218f9',
      osPlatform: 'Windows11',
      healthStatus: 'Active',
      lastSeen: expect.any(String),
      machineTags: [],
    });
    expectProblem(await t.http.get(`/v1/tenants/${contoso}/devices`).set(bearer(t.adminKey)).query({ limit: 0 }), 400, 'validation-failed');
  });

  it('isolates by short name and tracks the machine action to Succeeded, with our comment and documented casing', async () => {
    const since = sim.journal.lastSeq();
    const res = await act(responder.key, 'WS-001', 'isolate', { reason: 'INC-7: beaconing', isolationType: 'Selective' });
    expect(res.status).toBe(202);
    const done = await waitFinal(res.body.id);
    expect(done).toMatchObject({
      type: 'device.isolate',
      status: 'succeeded',
      target: { requested: 'WS-001', id: WS1, display: 'ws-001.contoso.example', details: { matchedOn: 'short name', resolvedFrom: 'inventory' } },
    });
    expect(done.steps[0]).toMatchObject({
      name: 'isolate',
      status: 'succeeded',
      detail: { machineActionStatus: 'Succeeded', machineActionType: 'Isolate', scope: 'Selective', verified: true },
    });
    expect(device(WS1)).toMatchObject({ isolated: true, isolationType: 'Selective' });
    const [post] = defenderPosts(since);
    expect(post.path).toBe(`/api/machines/${WS1}/isolate`);
    const body = JSON.parse(post.body!);
    expect(Object.keys(body).sort()).toEqual(['Comment', 'IsolationType']);
    expect(body.Comment).toContain(`Cordon action ${res.body.id}`);
    expect(body.Comment).toContain(`(apiKey ${responder.id})`);
    expect(body.Comment).toContain('INC-7: beaconing');
    const audit = (await t.http.get(`/v1/audit-log?actionId=${res.body.id}&limit=100`).set(bearer(t.adminKey))).body.items.map(
      (e: { event: string }) => e.event,
    );
    expect(audit.slice(0, 5)).toEqual(['action.requested', 'action.accepted', 'action.snapshot', 'action.step.started', 'action.step.progress']);
    expect(audit.at(-1)).toBe('action.succeeded');
    // Release it again, by machine id this time.
    const release = await waitFinal((await act(responder.key, WS1, 'release')).body.id);
    expect(release).toMatchObject({ status: 'succeeded', target: { details: { matchedOn: 'machine id' } } });
    expect(device(WS1).isolated).toBe(false);
  });

  it('isolates by Entra device id and shows the status progression', async () => {
    device(WS2).online = false;
    const res = await act(responder.key, WS2_ENTRA, 'isolate');
    const tracked = await waitTracked(res.body.id);
    expect(tracked.target).toMatchObject({ id: WS2, details: { matchedOn: 'Entra device id' } });
    expect(tracked.steps[0]).toMatchObject({ status: 'running', detail: { machineActionStatus: 'Pending' } });
    device(WS2).online = true;
    const done = await waitFinal(res.body.id);
    expect(done.status).toBe('succeeded');
    const progress = (await t.http.get(`/v1/audit-log?actionId=${res.body.id}&event=action.step.progress&limit=100`).set(bearer(t.adminKey))).body.items;
    expect(progress.length).toBeGreaterThanOrEqual(1);
    await waitFinal((await act(responder.key, WS2, 'release')).body.id);
  });

  it('refuses an ambiguous name with the candidates, and fails an unknown one as target-not-found', async () => {
    const since = sim.journal.lastSeq();
    const ambiguous = await act(responder.key, 'fin-laptop-07', 'isolate');
    expectProblem(ambiguous, 409, 'ambiguous-target');
    expect(ambiguous.body.candidates.map((c: { machineId: string }) => c.machineId)).toEqual([FIN_FQDN, FIN_SHORT]);
    expect(ambiguous.body.candidates[0]).toMatchObject({ computerDnsName: 'fin-laptop-07.contoso.example', lastSeen: expect.any(String) });
    expect((await get(ambiguous.body.actionId)).status).toBe('rejected');
    // The full name is not ambiguous.
    const fqdn = await act(responder.key, 'fin-laptop-07.contoso.example', 'antivirus-scan', { reason: 'check', scanType: 'Full' });
    expect((await waitFinal(fqdn.body.id)).status).toBe('succeeded');
    expect(JSON.parse(defenderPosts(since).find((p) => p.path.endsWith('/runAntiVirusScan'))!.body!)).toMatchObject({ ScanType: 'Full' });
    // Unknown to the inventory: Defender is asked, then the action fails.
    const unknown = await act(responder.key, 'no-such-host', 'isolate');
    expect(unknown.status).toBe(202);
    expect(await waitFinal(unknown.body.id)).toMatchObject({ status: 'failed', error: { code: 'target-not-found' } });
    expect(
      sim.journal
        .list({ host: 'defender', method: 'GET', since })
        .some((e) => e.path === '/api/machines' && (new URLSearchParams(e.query).get('$filter') ?? '').includes("computerDnsName eq 'no-such-host'")),
    ).toBe(true);
    expect(defenderPosts(since).filter((p) => p.path.includes('no-such-host'))).toEqual([]);
  });

  it('asks Defender for a device the inventory does not know yet', async () => {
    const added: SimDevice = {
      ...device(WS1),
      id: 'ab'.repeat(20),
      computerDnsName: 'ws-new.contoso.example',
      aadDeviceId: null,
      isolated: false,
      online: true,
    };
    sim.context.tenants.get(CONTOSO_TID)!.devices.push(added);
    const res = await act(responder.key, 'ws-new', 'restrict-app-execution');
    expect(await waitFinal(res.body.id)).toMatchObject({ status: 'succeeded', target: { id: added.id, details: { resolvedFrom: 'defender' } } });
    expect(added.appExecutionRestricted).toBe(true);
    expect((await waitFinal((await act(responder.key, added.id, 'unrestrict-app-execution')).body.id)).status).toBe('succeeded');
    expect(added.appExecutionRestricted).toBe(false);
  });

  it('fails as device-offline when Defender times the action out', async () => {
    device(MAC).online = false;
    const res = await act(responder.key, 'mac-erin.contoso.example', 'isolate');
    await waitTracked(res.body.id);
    sim.clock.advance(61_000);
    expect(await waitFinal(res.body.id)).toMatchObject({
      status: 'failed',
      error: { code: 'device-offline' },
      steps: [{ status: 'failed', error: { code: 'device-offline', microsoftCode: 'TimeOut' } }],
    });
  });

  it('adopts an already pending action of the same type and reports a pending opposite one', async () => {
    device(WS2).online = false;
    const since = sim.journal.lastSeq();
    const first = await act(responder.key, WS2, 'isolate');
    const tracked = await waitTracked(first.body.id);
    const second = await act(responder2, WS2, 'isolate');
    const adopted = await waitTracked(second.body.id);
    expect(adopted.steps[0].detail).toMatchObject({ adopted: true, machineActionId: tracked.steps[0].detail.machineActionId });
    const opposite = await act(responder.key, WS2, 'release');
    expect(await waitFinal(opposite.body.id)).toMatchObject({ status: 'failed', error: { code: 'conflicting-action-pending' } });
    expect((await get(opposite.body.id)).steps[0].error.message).toMatch(/Isolate machine action .* Cordon will not override it/);
    device(WS2).online = true;
    expect((await waitFinal(first.body.id)).status).toBe('succeeded');
    expect((await waitFinal(second.body.id)).status).toBe('succeeded');
    expect(defenderPosts(since).map((p) => `${p.path.split('/').pop()} ${p.status}`)).toEqual(['isolate 201', 'isolate 400', 'unisolate 400']);
    await waitFinal((await act(responder.key, WS2, 'release')).body.id);
  });

  it('cancels the machine action while it is pending; a collected package carries its link', async () => {
    device(WS2).online = false;
    const res = await act(responder.key, WS2, 'isolate');
    const tracked = await waitTracked(res.body.id);
    const machineActionId = tracked.steps[0].detail.machineActionId;
    const cancelled = await t.http.post(`/v1/actions/${res.body.id}/cancel`).set(bearer(responder2)).send({ reason: 'wrong host' }).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', decisionReason: 'wrong host', steps: [{ status: 'failed', error: { code: 'cancelled' } }] });
    const cancel = sim.journal.list({ host: 'defender', method: 'POST', path: `/api/machineactions/${machineActionId}/cancel` });
    expect(cancel).toHaveLength(1);
    expect(JSON.parse(cancel[0].body!).Comment).toContain(`Cordon action ${res.body.id} cancelled`);
    device(WS2).online = true;
    expect(device(WS2).isolated).toBe(false);
    expectProblem(await t.http.post(`/v1/actions/${res.body.id}/cancel`).set(bearer(responder2)).send({}), 409, 'action-finished');
    // Collecting an investigation package ends with its download link in the result.
    const done = await act(responder.key, WS1, 'collect-investigation-package');
    const finished = await waitFinal(done.body.id);
    expect(finished.result.investigationPackage.downloadUrl).toMatch(/\/safedownload\/WDATP_Investigation_Package\.zip\?token=/);
  });

  it('answers action-not-cancellable when Defender finished the machine action first, and tracking carries on', async () => {
    device(WS2).online = false;
    const res = await act(responder.key, WS2, 'isolate');
    await waitTracked(res.body.id);
    // Cordon's status reads stall, so it cannot see what Defender does next.
    const stall = sim.faults.add({ host: 'defender', method: 'GET', pathPattern: '/api/machineactions', latencyMs: 1500, times: 0 });
    try {
      device(WS2).online = true;
      settleMachineActions(sim.context); // the device picks the action up…
      sim.clock.advance(1_000); // …and finishes it
      const refused = await t.http.post(`/v1/actions/${res.body.id}/cancel`).set(bearer(responder2)).send({ reason: 'too late' });
      expectProblem(refused, 409, 'action-not-cancellable');
      expect(refused.body.error).toMatchObject({ code: 'not-cancellable', microsoftCode: 'BadRequest' });
    } finally {
      sim.faults.remove(stall.id);
    }
    expect((await waitFinal(res.body.id)).status).toBe('succeeded');
    const events = (await t.http.get(`/v1/audit-log?actionId=${res.body.id}&limit=100`).set(bearer(t.adminKey))).body.items.map(
      (e: { event: string }) => e.event,
    );
    expect(events).toEqual(expect.arrayContaining(['action.cancel-requested', 'action.cancel-failed', 'action.succeeded']));
    await waitFinal((await act(responder.key, WS2, 'release')).body.id);
  });

  it('rides out a Defender 429 with Retry-After', async () => {
    const since = sim.journal.lastSeq();
    sim.faults.add({
      host: 'defender',
      method: 'POST',
      pathPattern: `/api/machines/${WS1}/isolate`,
      times: 1,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Rate limit is exceeded. Try again in 1 seconds.', target: 'x' } },
    });
    const res = await act(responder.key, WS1, 'isolate');
    expect((await waitFinal(res.body.id)).status).toBe('succeeded');
    const posts = defenderPosts(since).filter((p) => p.path.endsWith('/isolate'));
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    expect(Date.parse(posts[1].time) - Date.parse(posts[0].time)).toBeGreaterThanOrEqual(900);
    await waitFinal((await act(responder.key, WS1, 'release')).body.id);
  });

  it('applies roles, approvals and protected devices as for user actions', async () => {
    const auditor = (await createKey(t, ['auditor'])).key;
    expectProblem(await act(auditor, WS1, 'isolate'), 403, 'forbidden');
    expectProblem(await act(t.adminKey, WS1, 'isolate'), 403, 'forbidden');
    const since = sim.journal.lastSeq();
    const requested = await act(analyst, WS1, 'isolate');
    expect(requested.body.status).toBe('awaiting_approval');
    expect(defenderPosts(since)).toEqual([]);
    expectProblem(await t.http.post(`/v1/actions/${requested.body.id}/approve`).set(bearer(analyst)), 403, 'forbidden');
    await t.http.post(`/v1/actions/${requested.body.id}/approve`).set(bearer(responder.key)).expect(202);
    expect((await waitFinal(requested.body.id)).status).toBe('succeeded');
    await waitFinal((await act(responder.key, WS1, 'release')).body.id);

    await t.http
      .put(`/v1/tenants/${contoso}/policy`)
      .set(bearer(t.adminKey))
      .send({
        protectedUsers: [],
        protectedGroups: [],
        protectedDevices: ['WS-002'],
        protectedDeviceTags: ['DomainController'],
        approvalRequired: [],
        hourlyLimits: {},
      })
      .expect(200);
    try {
      expectProblem(await act(responder.key, WS2_ENTRA, 'isolate'), 409, 'protected-target');
      const dc = await act(responder.key, 'srv-db-01', 'isolate');
      expectProblem(dc, 409, 'protected-target');
      expect(dc.body.detail).toMatch(/tagged domaincontroller/);
      expect(defenderPosts(since).filter((p) => p.path.includes(WS2) || p.path.includes(SRV))).toEqual([]);
    } finally {
      await t.http
        .put(`/v1/tenants/${contoso}/policy`)
        .set(bearer(t.adminKey))
        .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
        .expect(200);
    }
  });

  it('never sent Defender a parameter name outside the documented casing', () => {
    const posts = sim.journal.list({ host: 'defender', method: 'POST' }).filter((p) => p.body);
    expect(posts.length).toBeGreaterThan(10);
    for (const post of posts) for (const key of Object.keys(JSON.parse(post.body!))) expect(DOCUMENTED).toContain(key);
  });

  it('resumes tracking after a restart', async () => {
    device(WS2).online = false;
    const res = await act(responder.key, WS2, 'isolate');
    await waitTracked(res.body.id);
    await t.close();
    device(WS2).online = true;
    t = await startTestApp(env());
    const done = await waitFinal(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(device(WS2).isolated).toBe(true);
    expect(sim.journal.list({ host: 'defender', method: 'POST' }).filter((p) => p.path === `/api/machines/${WS2}/isolate` && p.status === 201)).toHaveLength(5);
  });
});

/**
 * Pacing with limits small enough to watch: 2 calls per "minute" of 3 seconds (time scale 20). The
 * third isolation waits, queued, showing it waits for capacity, and goes when the window frees.
 */
describe('Defender pacing (scaled limits)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenant: string;
  let responder: string;

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    scenario.machineActions = { pendingMs: 100, inProgressMs: 100 };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_DEFENDER_RATE_PER_MINUTE: '2',
      CORDON_DEFENDER_RATE_TIME_SCALE: '20',
      CORDON_DEFENDER_RATE_MARGIN_MS: '2000',
      CORDON_DEFENDER_POLL_INITIAL_MS: '200',
      CORDON_DEFENDER_POLL_MAX_MS: '400',
    });
    tenant = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = (await createKey(t, ['responder'])).key;
    // Resolution from the inventory: Defender's machine reads are paced too, and are not under test here.
    await t.app.get(DeviceInventoryService).sync(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('queues the call past the limit, shows it waits for capacity, then runs it on time with no 429', async () => {
    const since = sim.journal.lastSeq();
    const ids: string[] = [];
    for (const machine of [WS1, WS2, SRV]) {
      const res = await t.http.post(`/v1/tenants/${tenant}/devices/${machine}/isolate`).set(bearer(responder)).send({ reason: 'pacing test' }).expect(202);
      ids.push(res.body.id);
    }
    const waiting = await (async () => {
      for (let i = 0; i < 50; i++) {
        const a = (await t.http.get(`/v1/actions/${ids[2]}`).set(bearer(responder))).body;
        if (a.status === 'queued' && a.steps[0].detail?.waitingFor === 'capacity') return a;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `the third action never showed it waits for capacity: ${JSON.stringify((await t.http.get(`/v1/actions/${ids[2]}`).set(bearer(responder))).body)}`,
      );
    })();
    expect(waiting.steps[0].detail.summary).toMatch(/waiting for Defender capacity: isolate allows 2 calls a minute/);
    for (const id of ids) {
      for (let i = 0; ; i++) {
        const a = (await t.http.get(`/v1/actions/${id}`).set(bearer(responder))).body;
        if (a.status === 'succeeded') break;
        if (i > 200 || ['failed', 'cancelled'].includes(a.status)) throw new Error(`action ${id}: ${JSON.stringify(a)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const posts = sim.journal.list({ host: 'defender', method: 'POST', since }).filter((p) => p.path.endsWith('/isolate'));
    expect(posts.map((p) => p.status)).toEqual([201, 201, 201]);
    // The third went once the first had left the 3-second window (plus the 0.1 s scaled margin).
    expect(Date.parse(posts[2].time) - Date.parse(posts[0].time)).toBeGreaterThanOrEqual(3000);
    expect(sim.journal.list({ host: 'defender', since }).filter((e) => e.status === 429)).toEqual([]);
  });
});
