/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { DeviceInventoryService } from '../../src/integrations/defender-endpoint/device-inventory.service';
import { createHash } from 'node:crypto';
import { demoScenario } from '../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { tenantState } from '../m365-simulator/src/defender/machine-actions';
import type { Scenario, SimDevice } from '../m365-simulator/src/types';
import { registerSimTenant, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Stop and quarantine a file, machine tags and live response (collect-file, run-script) against the
 * simulator: Microsoft's side read back (machine actions, sessions and their commands, machineTags),
 * roles and approvals, dry run, Idempotency-Key replay, validation, and Microsoft's refusals as step errors.
 */

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const WS1 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const WS2 = '2a6cd0e8f524eee8a13d3a43f529813c95e1dd18';
const FIN = '3b7de1f9a635fff9b24e4b54a63a924da6f2ee29';
const SRV = '5d9fa3b1c857bb1bd46a6d76c85cb46fc8b4aa4b';
const MAC = '6ea0b4c2d968cc2ce57b7e87d96dc57ad9c5bb5c';
const SHA1 = '87662bc3d60e4200ceaf7aae249d1c343f4b83c9';
const SIGNED = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const EVIL = 'C:\\Users\\erin\\Downloads\\invoice.exe';
const EVIL_BYTES = 'MZ\u0090 not really a PE file';
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

describe('stop and quarantine, tags and live response (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;
  let responder2: string;
  let analyst: string;
  let auditor: string;

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    scenario.graph = { ...(scenario.graph ?? {}), ...UNTHROTTLED_GRAPH };
    scenario.machineActions = { pendingMs: 100, inProgressMs: 100, timeoutMs: 60_000 };
    sim = await startSimulator({ quiet: true, scenario });
    simTenant().microsoftSignedFiles = [SIGNED];
    device(SRV).extra = { machineTags: ['DomainController'] };
    device(WS1).extra = { files: { [EVIL]: EVIL_BYTES } };
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_ACTION_LEASE_S: '5',
      CORDON_DEFENDER_POLL_INITIAL_MS: '150',
      CORDON_DEFENDER_POLL_MAX_MS: '400',
      CORDON_MICROSOFT_MAX_RETRIES: '1',
    });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    // The inventory as this simulator has it (on PostgreSQL the suites share one database and tenant).
    await t.app.get(DeviceInventoryService).sync(contoso);
    responder = (await createKey(t, ['responder'])).key;
    responder2 = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
    auditor = (await createKey(t, ['auditor'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const simTenant = () => sim.context.tenants.get(CONTOSO_TID)!;
  const device = (id: string): SimDevice => simTenant().devices.find((d) => d.id === id)!;
  const simActions = () => tenantState(simTenant()).actions;
  const act = (key: string, target: string, verb: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.http
      .post(`/v1/tenants/${contoso}/devices/${encodeURIComponent(target)}/${verb}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const get = async (id: string) => (await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey)).expect(200)).body;
  async function waitFinal(id: string, ms = 15_000): Promise<any> {
    const end = Date.now() + ms;
    for (;;) {
      const a = await get(id);
      if (FINAL.includes(a.status)) return a;
      if (Date.now() > end) throw new Error(`action ${id} is still ${a.status}: ${JSON.stringify(a.steps)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const posts = (since: number, suffix: string) =>
    sim.journal.list({ host: 'defender', method: 'POST', since }).filter((e) => e.path.toLowerCase().endsWith(suffix.toLowerCase()));
  const setPolicy = (extra: Record<string, unknown>) =>
    t.http
      .put(`/v1/tenants/${contoso}/policy`)
      .set(bearer(t.adminKey))
      .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {}, ...extra })
      .expect(200);

  describe('stop and quarantine a file', () => {
    it('quarantines on Windows 11: the machine action carries the SHA-1 and our comment, tracked to Succeeded', async () => {
      const since = sim.journal.lastSeq();
      const res = await act(responder, 'ws-001', 'stop-and-quarantine-file', { sha1: SHA1.toUpperCase(), reason: 'INC-9: dropper', ticket: 'INC-9' });
      expect(res.status).toBe(202);
      const done = await waitFinal(res.body.id);
      expect(done).toMatchObject({ type: 'device.stop-and-quarantine-file', status: 'succeeded', target: { id: WS1 } });
      expect(done.steps[0].detail).toMatchObject({ machineActionType: 'StopAndQuarantineFile', machineActionStatus: 'Succeeded', verified: true });
      const sent = posts(since, '/StopAndQuarantineFile');
      expect(sent).toHaveLength(1);
      expect(Object.keys(JSON.parse(sent[0].body!)).sort()).toEqual(['Comment', 'Sha1']);
      const atMicrosoft = simActions().find((a) => a.id === done.steps[0].detail.machineActionId)!;
      expect(atMicrosoft).toMatchObject({
        type: 'StopAndQuarantineFile',
        relatedFileInfo: { fileIdentifier: SHA1.toUpperCase() },
        final: { status: 'Succeeded' },
      });
      expect(atMicrosoft.requestorComment).toContain(`Cordon action ${res.body.id}`);
    });

    it("surfaces Microsoft's reason for a Microsoft-signed file and for an unsupported OS", async () => {
      const signed = await waitFinal((await act(responder, WS2, 'stop-and-quarantine-file', { sha1: SIGNED, reason: 'INC-9' })).body.id);
      expect(signed).toMatchObject({
        status: 'failed',
        steps: [{ error: { microsoftCode: 'BadRequest', message: expect.stringContaining('signed by Microsoft') } }],
      });
      const mac = await waitFinal((await act(responder, MAC, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'INC-9' })).body.id);
      expect(mac).toMatchObject({ status: 'failed', steps: [{ error: { code: 'unsupported-platform', microsoftCode: 'OsPlatformNotSupported' } }] });
      expect(mac.error.message).toContain('macOS');
    });

    it('roles, dry run, replay and bad values', async () => {
      expectProblem(await act(auditor, WS1, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'x' }), 403, 'forbidden');
      const since = sim.journal.lastSeq();
      const asked = await act(analyst, WS1, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'INC-9' });
      expect(asked.body.status).toBe('awaiting_approval');
      const plan = await act(responder, WS1, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'INC-9', dryRun: true });
      expect(plan.status).toBe(200);
      expect(plan.body.result.plan[0]).toMatchObject({ changes: true, wouldChange: expect.stringContaining(`SHA-1 ${SHA1}`) });
      for (const sha1 of ['abc', 'z'.repeat(40), undefined]) {
        const bad = await act(responder, WS1, 'stop-and-quarantine-file', { sha1, reason: 'INC-9' });
        expectProblem(bad, 400, 'validation-failed');
        expect(JSON.stringify(bad.body)).toContain('sha1');
      }
      expect(posts(since, '/StopAndQuarantineFile')).toEqual([]);
      const headers = { 'Idempotency-Key': 'quarantine-1', Prefer: 'wait=10' };
      const first = await act(responder, FIN, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'INC-9' }, headers);
      await waitFinal(first.body.id);
      const replay = await act(responder, FIN, 'stop-and-quarantine-file', { sha1: SHA1, reason: 'INC-9' }, headers);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.id).toBe(first.body.id);
      expect(posts(since, '/StopAndQuarantineFile')).toHaveLength(1);
    });
  });

  describe('machine tags', () => {
    it('adds and removes tags one call each, reads machineTags back; a repeat sends nothing', async () => {
      const since = sim.journal.lastSeq();
      const res = await act(responder, WS2, 'tags', { add: ['IR-4711', 'contained'], reason: 'INC-9', ticket: 'INC-9' });
      const done = await waitFinal(res.body.id);
      expect(done.status).toBe('succeeded');
      expect(done.steps.map((s: any) => [s.name, s.detail.verified, s.detail.changed])).toEqual([
        ['add-tag:IR-4711', true, true],
        ['add-tag:contained', true, true],
      ]);
      expect(device(WS2).extra!.machineTags).toEqual(['IR-4711', 'contained']);
      const calls = posts(since, '/tags');
      expect(calls.map((c) => JSON.parse(c.body!))).toEqual([
        { Value: 'IR-4711', Action: 'Add' },
        { Value: 'contained', Action: 'Add' },
      ]);
      const again = await waitFinal((await act(responder, WS2, 'tags', { add: ['IR-4711'], remove: ['never-there'], reason: 'INC-9' })).body.id);
      expect(again.steps.map((s: any) => s.detail.changed)).toEqual([false, false]);
      expect(posts(since, '/tags')).toHaveLength(2);
      const removed = await waitFinal((await act(responder, WS2, 'tags', { remove: ['contained'], reason: 'INC-9 closed' })).body.id);
      expect(removed.status).toBe('succeeded');
      expect(device(WS2).extra!.machineTags).toEqual(['IR-4711']);
      const listed = await t.http.get(`/v1/tenants/${contoso}/devices?name=ws-002`).set(bearer(analyst)).expect(200);
      expect(listed.body.items[0].machineTags).toEqual(['IR-4711']);
    });

    it('refuses a tag on a protected device (also to remove the protecting tag), bad bodies, and plans a dry run', async () => {
      await setPolicy({ protectedDeviceTags: ['DomainController'] });
      try {
        const since = sim.journal.lastSeq();
        expectProblem(await act(responder, SRV, 'tags', { remove: ['DomainController'], reason: 'x' }), 409, 'protected-target');
        for (const [body, field] of [
          [{ reason: 'x' }, 'body'],
          [{ add: [], remove: [], reason: 'x' }, 'body'],
          [{ add: ['bad\u0007tag'], reason: 'x' }, 'add'],
          [{ add: ['x'.repeat(201)], reason: 'x' }, 'add'],
          [{ add: ['a'], remove: ['a'], reason: 'x' }, 'remove'],
        ] as const) {
          const bad = await act(responder, WS2, 'tags', body);
          expectProblem(bad, 400, 'validation-failed');
          expect(JSON.stringify(bad.body.errors ?? bad.body)).toContain(field);
        }
        const plan = await act(responder, WS2, 'tags', { add: ['IR-4711', 'new-one'], reason: 'x', dryRun: true });
        expect(plan.body.result.plan.map((p: any) => p.changes)).toEqual([false, true]);
        expect(posts(since, '/tags')).toEqual([]);
        expectProblem(await act(auditor, WS2, 'tags', { add: ['x'], reason: 'x' }), 403, 'forbidden');
      } finally {
        await setPolicy({});
      }
    });
  });

  describe('live response', () => {
    it('collects a file: one GetFile session, the result with its SHA-256, size and a 30-minute link', async () => {
      const since = sim.journal.lastSeq();
      const res = await act(responder, WS1, 'collect-file', { path: EVIL, reason: 'INC-9: sample for analysis' });
      const done = await waitFinal(res.body.id);
      expect(done.status).toBe('succeeded');
      const bytes = Buffer.from(EVIL_BYTES, 'utf8');
      expect(done.result.collectedFile).toMatchObject({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        contentBase64: bytes.toString('base64'),
        downloadUrl: expect.stringContaining('/liveresponse/result?token='),
      });
      expect(Date.parse(done.result.collectedFile.linkExpiresAt) - Date.parse(done.result.collectedFile.linkObtainedAt)).toBe(30 * 60_000);
      const sent = posts(since, '/runliveresponse');
      expect(JSON.parse(sent[0].body!)).toMatchObject({ Commands: [{ type: 'GetFile', params: [{ key: 'Path', value: EVIL }] }] });
      const session = simActions().find((a) => a.id === done.steps[0].detail.machineActionId)!;
      expect(session).toMatchObject({ type: 'LiveResponse', final: { status: 'Succeeded' } });
      // The download went out without Cordon's bearer token.
      const download = sim.journal.list({ host: 'defender', method: 'GET', since }).find((e) => e.path === '/liveresponse/result')!;
      expect(download.headers?.authorization).toBeUndefined();
    });

    it("fails with Microsoft's command error for a missing file, and refuses bad paths with 400 naming path", async () => {
      const missing = await waitFinal((await act(responder, WS1, 'collect-file', { path: 'C:\\nope.txt', reason: 'INC-9' })).body.id);
      expect(missing).toMatchObject({ status: 'failed', error: { code: 'live-response-command-failed' } });
      expect(missing.error.message).toContain('File C:\\nope.txt was not found on the device');
      const since = sim.journal.lastSeq();
      for (const path of ['relative\\file.txt', 'C:\\bad\u0001name', `/${'x'.repeat(1024)}`]) {
        const bad = await act(responder, WS1, 'collect-file', { path, reason: 'INC-9' });
        expectProblem(bad, 400, 'validation-failed');
        expect(JSON.stringify(bad.body)).toContain('path');
      }
      expect(posts(since, '/runliveresponse')).toEqual([]);
    });

    it("fails as live-response-session-busy when someone else's session is open, with Microsoft's message", async () => {
      device(FIN).online = false;
      const other = await sim.journal.lastSeq();
      simActions().push({
        id: '0f0e0d0c-0b0a-4909-8807-060504030201',
        type: 'LiveResponse',
        scope: null,
        requestor: 'analyst@contoso.example',
        requestorComment: 'portal triage',
        machineId: FIN,
        computerDnsName: 'fin-laptop-07.contoso.example',
        relatedFileInfo: null,
        permission: 'Machine.LiveResponse',
        createdMs: sim.clock.nowMs(),
        liveResponse: [{ index: 0, type: 'GetFile', params: [{ key: 'Path', value: 'C:\\x' }] }],
      });
      const busy = await waitFinal((await act(responder, FIN, 'collect-file', { path: EVIL, reason: 'INC-9' })).body.id);
      expect(busy).toMatchObject({
        status: 'failed',
        steps: [{ error: { code: 'live-response-session-busy', microsoftCode: 'ActiveRequestAlreadyExists' } }],
      });
      expect(busy.error.message).toContain('Action is already in progress');
      expect(busy.error.message).toContain('portal triage');
      expect(posts(other, '/runliveresponse').map((p) => p.status)).toEqual([400]);
      device(FIN).online = true;
    });

    it('waits for capacity when Defender answers 429 for the session limit, then runs', async () => {
      const since = sim.journal.lastSeq();
      const body = { error: { code: 'TooManyRequests', message: 'The number of concurrent live response sessions (25) is exceeded.', target: 'x' } };
      sim.faults.add({
        host: 'defender',
        method: 'POST',
        pathPattern: `/api/machines/${WS1}/runliveresponse`,
        times: 2,
        status: 429,
        headers: { 'Retry-After': '1' },
        body,
      });
      const done = await waitFinal((await act(responder, WS1, 'collect-file', { path: EVIL, reason: 'INC-9' })).body.id);
      expect(done.status).toBe('succeeded');
      expect(posts(since, '/runliveresponse').map((p) => p.status)).toEqual([429, 429, 201]);
    });

    it('run-script: refused until the policy lists the script; a responder needs a second responder; the output is evidence', async () => {
      const since = sim.journal.lastSeq();
      const refused = await act(responder, WS2, 'run-script', { script: 'collect-triage.ps1', reason: 'INC-9' });
      expectProblem(refused, 409, 'live-response-script-not-allowed');
      expect(refused.body.detail).toContain('liveResponseScripts');
      await setPolicy({ liveResponseScripts: ['collect-triage.ps1', 'not-in-library.ps1'] });
      expectProblem(await act(responder, WS2, 'run-script', { script: 'other.ps1', reason: 'INC-9' }), 409, 'live-response-script-not-allowed');
      expectProblem(await act(responder, WS2, 'run-script', { script: '..\\evil.ps1', reason: 'INC-9' }), 400, 'validation-failed');
      expectProblem(await act(auditor, WS2, 'run-script', { script: 'collect-triage.ps1', reason: 'INC-9' }), 403, 'forbidden');

      const asked = await act(responder, WS2, 'run-script', { script: 'COLLECT-TRIAGE.ps1', args: '-Quick', reason: 'INC-9 triage' });
      expect(asked.body.status).toBe('awaiting_approval');
      expect(posts(since, '/runliveresponse')).toEqual([]);
      expectProblem(await t.http.post(`/v1/actions/${asked.body.id}/approve`).set(bearer(responder)), 403, 'self-approval');
      await t.http.post(`/v1/actions/${asked.body.id}/approve`).set(bearer(responder2)).expect(202);
      const done = await waitFinal(asked.body.id);
      expect(done.status).toBe('succeeded');
      expect(done.result.scriptResult).toMatchObject({ scriptName: 'collect-triage.ps1', exitCode: 0, truncated: false, errors: '' });
      expect(done.result.scriptResult.output).toContain('Args: -Quick');
      expect(done.result.scriptResult.sha256).toMatch(/^[0-9a-f]{64}$/);
      const sent = posts(since, '/runliveresponse');
      expect(JSON.parse(sent[0].body!).Commands).toEqual([
        {
          type: 'RunScript',
          params: [
            { key: 'ScriptName', value: 'COLLECT-TRIAGE.ps1' },
            { key: 'Args', value: '-Quick' },
          ],
        },
      ]);

      // Allowed by the policy but not in Defender's library: Microsoft's command error.
      await setPolicy({ liveResponseScripts: ['collect-triage.ps1', 'not-in-library.ps1'], runScriptApproval: 'policy' });
      const ran = await act(responder, WS2, 'run-script', { script: 'not-in-library.ps1', reason: 'INC-9' });
      expect(ran.body.status).not.toBe('awaiting_approval');
      const failed = await waitFinal(ran.body.id);
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'live-response-command-failed' } });
      expect(failed.error.message).toContain('not-in-library.ps1 was not found in the live response library');
      // An analyst still needs a responder's approval; a dry run sends nothing.
      expect((await act(analyst, WS2, 'run-script', { script: 'collect-triage.ps1', reason: 'INC-9' })).body.status).toBe('awaiting_approval');
      const before = posts(since, '/runliveresponse').length;
      const plan = await act(responder, WS2, 'run-script', { script: 'collect-triage.ps1', reason: 'INC-9', dryRun: true });
      expect(plan.body.result.plan[0].wouldChange).toContain('RunScript collect-triage.ps1');
      expect(posts(since, '/runliveresponse')).toHaveLength(before);
      await setPolicy({});
    });

    it('reports live-response as a capability', async () => {
      const caps = await t.http.get(`/v1/tenants/${contoso}/capabilities`).set(bearer(t.adminKey)).expect(200);
      const byName = Object.fromEntries(caps.body.capabilities.map((c: any) => [c.capability, c.status]));
      expect(byName).toMatchObject({ 'live-response': 'available', 'device-tags': 'available', 'defender-actions': 'available' });
    });
  });
});
