/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/audit-log/audit-entry';
import { DeviceInventoryService } from '../../src/integrations/defender-endpoint/device-inventory.service';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { DEMO_BEC, demoScenario } from '../m365-simulator/src/demo-scenario';
import type { Scenario } from '../m365-simulator/src/types';
import { requestRuns } from './support/collection-runs';
import { registerSimTenant, simEnv } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * The evidence snapshot (issue 21): before the first step of an action Cordon records what the target
 * looked like, in the audit log, with a SHA-256 per item; GET /v1/actions/{id}/evidence shows it and every
 * step's evidence next to the audit entries that carry them, and the verified chain proves them unaltered.
 */

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const WS1 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];
const sha256 = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

describe('evidence snapshots before every action (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;
  let auditor: string;
  let analyst: string;

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    scenario.graph = { ...(scenario.graph ?? {}), throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } } as never;
    scenario.machineActions = { pendingMs: 100, inProgressMs: 100, timeoutMs: 60_000 };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5', CORDON_DEFENDER_POLL_INITIAL_MS: '200', CORDON_DEFENDER_POLL_MAX_MS: '400' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = (await createKey(t, ['responder'])).key;
    auditor = (await createKey(t, ['auditor'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
    // Cordon's stores the snapshot reads: Alice's sign-ins, the alerts naming WS-001, the device inventory.
    await requestRuns(t, contoso, ['Entra.SignIns', 'alerts'], 60_000);
    await t.app.get(DeviceInventoryService).sync(contoso);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const final = (id: string) =>
    waitFor(
      async () => (await t.http.get(`/v1/actions/${id}`).set(bearer(responder))).body,
      (a) => FINAL.includes(a.status),
      30_000,
    );
  const evidence = (id: string, key = auditor) => t.http.get(`/v1/actions/${id}/evidence`).set(bearer(key));
  const auditEntries = async (actionId: string) =>
    (await t.http.get('/v1/audit-log').query({ actionId, limit: 200 }).set(bearer(auditor)).expect(200)).body.items;
  const item = (body: any, name: string) => body.snapshot.items.find((i: any) => i.name === name);

  it("records the user as it was before isolating it, and every step's evidence, each hash carried by its audit entry", async () => {
    const alice = () => sim.context.tenants.get(CONTOSO_TID)!.users.find((u) => u.id === DEMO_BEC.userId)!;
    expect(alice().accountEnabled).toBe(true);
    const res = await t.http
      .post(`/v1/tenants/${contoso}/users/${DEMO_BEC.userPrincipalName}/isolate`)
      .set({ ...bearer(responder), Prefer: 'wait=20' })
      .send({ reason: 'INC-21: evidence first' });
    expect(res.status).toBe(200);
    expect((await final(res.body.id)).status).toBe('succeeded');
    expect(alice().accountEnabled).toBe(false);

    const ev = (await evidence(res.body.id).expect(200)).body;
    expect(ev).toMatchObject({ actionId: res.body.id, tenantId: contoso, type: 'user.isolate', target: DEMO_BEC.userPrincipalName });
    // The state the action destroyed: sign-in was enabled.
    expect(item(ev, 'user')).toMatchObject({ status: 'present', content: { id: DEMO_BEC.userId, accountEnabled: true } });
    expect(item(ev, 'memberships').content.groups.length).toBe(item(ev, 'memberships').content.groupCount);
    const methods = item(ev, 'authMethods').content;
    expect(methods.map((m: any) => m.id)).toEqual(expect.arrayContaining([DEMO_BEC.phoneMethodId, DEMO_BEC.authenticatorMethodId]));
    // Types and masked details only: no phone number in clear.
    const phone = methods.find((m: any) => m.id === DEMO_BEC.phoneMethodId);
    expect(phone.detail.phoneNumber).toMatch(/^[^0-9]*(•[^0-9]*)+\d{2}$/);
    expect(item(ev, 'risk').status).toBe('present');
    const signIns = item(ev, 'recentSignIns').content.signIns;
    expect(signIns.length).toBeGreaterThan(0);
    expect(signIns.length).toBeLessThanOrEqual(20);
    expect(item(ev, 'inboxRules').content.map((r: any) => r.id)).toEqual(expect.arrayContaining([DEMO_BEC.forwardingRuleId]));
    for (const i of ev.snapshot.items) {
      const { sha256: shown, recordedSha256, ...hashed } = i;
      expect(shown).toBe(sha256(hashed));
      expect(recordedSha256).toBe(shown);
    }
    expect(ev.steps.map((s: any) => s.step)).toEqual(['disable-sign-in', 'revoke-sessions', 'confirm-compromised']);
    for (const s of ev.steps) expect(s.sha256).toBe(sha256(s.evidence));

    // The audit log carries the snapshot and the hashes; the snapshot comes before the first step's call.
    const entries = await auditEntries(res.body.id);
    const snapshotEntry = entries.find((e: any) => e.event === 'action.snapshot');
    expect(snapshotEntry.seq).toBe(ev.snapshot.audit.seq);
    expect(snapshotEntry.hash).toBe(ev.snapshot.audit.hash);
    expect(snapshotEntry.data.items.map((i: any) => i.sha256)).toEqual(ev.snapshot.items.map((i: any) => i.sha256));
    const firstStart = entries.find((e: any) => e.event === 'action.step.started');
    expect(snapshotEntry.seq).toBeLessThan(firstStart.seq);
    for (const s of ev.steps) {
      const carrying = entries.find((e: any) => e.seq === s.audit.seq);
      expect(carrying.data.evidenceSha256).toBe(s.sha256);
      expect(s.recordedSha256).toBe(s.sha256);
    }
    const verify = await t.http.get('/v1/audit-log/verify').set(bearer(auditor)).expect(200);
    expect(verify.body.ok).toBe(true);
  });

  it("records a device's machine record, its open alerts and earlier actions before isolating it", async () => {
    const first = await t.http
      .post(`/v1/tenants/${contoso}/devices/${WS1}/antivirus-scan`)
      .set({ ...bearer(responder), Prefer: 'wait=20' })
      .send({ reason: 'INC-21: scan first' });
    expect((await final(first.body.id)).status).toBe('succeeded');
    const res = await t.http
      .post(`/v1/tenants/${contoso}/devices/${WS1}/isolate`)
      .set({ ...bearer(responder), Prefer: 'wait=20' })
      .send({ reason: 'INC-21: isolate' });
    expect((await final(res.body.id)).status).toBe('succeeded');
    const ev = (await evidence(res.body.id, responder).expect(200)).body;
    expect(item(ev, 'machine').content).toMatchObject({ record: { id: WS1, computerDnsName: 'ws-001.contoso.example' } });
    expect(item(ev, 'openAlerts').content.alerts.length).toBeGreaterThan(0);
    expect(item(ev, 'recentActions').content.actions).toEqual([
      expect.objectContaining({ id: first.body.id, type: 'device.antivirus-scan', status: 'succeeded' }),
    ]);
    expect(ev.steps).toEqual([expect.objectContaining({ step: 'isolate', status: 'succeeded', sha256: sha256(ev.steps[0].evidence) })]);
  });

  it('goes on with containment when a snapshot read fails, and says which read failed', async () => {
    // Resolution reads Alice's memberships first (let through); the snapshot's read of them is refused.
    sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: `/v1.0/users/${DEMO_BEC.userId}/memberOf`,
      skip: 1,
      times: 2, // a missing permission refuses the renewed token too (MicrosoftHttp renews a token older than a minute once on 403)
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
    });
    const res = await t.http
      .post(`/v1/tenants/${contoso}/users/${DEMO_BEC.userPrincipalName}/enable`)
      .set({ ...bearer(responder), Prefer: 'wait=20' })
      .send({ reason: 'INC-21: false positive' });
    sim.faults.clear();
    expect((await final(res.body.id)).status).toBe('succeeded');
    const alice = sim.context.tenants.get(CONTOSO_TID)!.users.find((u) => u.id === DEMO_BEC.userId)!;
    expect(alice.accountEnabled).toBe(true);
    const ev = (await evidence(res.body.id).expect(200)).body;
    expect(item(ev, 'user').content.accountEnabled).toBe(false);
    expect(item(ev, 'memberships')).toMatchObject({ status: 'failed', note: expect.stringMatching(/Insufficient privileges/) });
    expect(item(ev, 'memberships').content).toBeUndefined();
  });

  it('is for auditors and responders, within their tenants; a dry run has no snapshot', async () => {
    const dry = await t.http
      .post(`/v1/tenants/${contoso}/users/${DEMO_BEC.userPrincipalName}/disable`)
      .set(bearer(responder))
      .send({ reason: 'INC-21: what would it do', dryRun: true });
    expect(dry.status).toBe(200);
    expect((await evidence(dry.body.id).expect(200)).body).toMatchObject({ snapshot: null, steps: [] });
    expectProblem(await evidence(dry.body.id, analyst), 403, 'forbidden');
    expectProblem(await evidence('00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    expectProblem(await evidence('not-a-uuid'), 400, 'validation-failed');
  });
});
