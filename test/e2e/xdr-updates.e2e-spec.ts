/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { DataSource } from 'typeorm';
import type { RunningSimulator } from '../m365-simulator/src';
import type { RawRecord } from '../m365-simulator/src/types';
import { graphWrites, registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Closing the loop in Defender XDR against the simulator: alert.update, incident.update, alert.comment and
 * incident.comment as actions of the engine — Microsoft's side read back, Cordon's copy updated, roles,
 * dry run, idempotency, validation of what Cordon sends, and Microsoft's refusals as step errors.
 */

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
/** The demo tenant's alerts (demo-telemetry.ts): n ⇒ `da6387{1000000+n}_-{123456789+n}`. */
const alertId = (n: number) => `da6387${1000000 + n}_-${123456789 + n}`;
const RANSOMWARE = alertId(0); // incident 4711, status new
const SIGN_IN = alertId(1); // incident 4711
const EMAIL = alertId(2); // incident 4711
const BRUTE_FORCE = alertId(3); // incident 4712, inProgress

describe('Defender XDR updates and comments (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;
  let analyst: string;
  let auditor: string;

  beforeAll(async () => {
    sim = await startDemoSimulator();
    // The webhook test's receiver is a closed loopback port: the deliveries are recorded, never delivered.
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5', CORDON_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1:9' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
    auditor = (await createKey(t, ['auditor'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  /** Microsoft's side, as the simulator holds it. */
  const simAlert = (id: string): RawRecord => sim.context.tenants.get(CONTOSO_TID)!.alerts.find((a) => a.id === id)!;
  const simIncident = (id: string): RawRecord => sim.context.tenants.get(CONTOSO_TID)!.incidents.find((i) => String(i.id) === id)!;
  const patchAlert = (key: string, id: string, body: Record<string, unknown>, headers: Record<string, string> = { Prefer: 'wait=10' }) =>
    t.http
      .patch(`/v1/tenants/${contoso}/alerts/${encodeURIComponent(id)}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const patchIncident = (key: string, id: string, body: Record<string, unknown>, headers: Record<string, string> = { Prefer: 'wait=10' }) =>
    t.http
      .patch(`/v1/tenants/${contoso}/incidents/${id}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const comment = (kind: 'alerts' | 'incidents', id: string, body: Record<string, unknown>, headers: Record<string, string> = { Prefer: 'wait=10' }) =>
    t.http
      .post(`/v1/tenants/${contoso}/${kind}/${encodeURIComponent(id)}/comments`)
      .set({ ...bearer(responder), ...headers })
      .send(body);
  /** Cordon's stored copy, through the read API. */
  const cordonAlert = async (id: string) =>
    (await t.http.get(`/v1/alerts?tenantId=${contoso}&limit=1000`).set(bearer(responder)).expect(200)).body.items.find((a: any) => a.id === id);
  const cordonIncident = async (id: string) =>
    (await t.http.get(`/v1/incidents?tenantId=${contoso}&limit=1000`).set(bearer(responder)).expect(200)).body.items.find((i: any) => i.id === id);
  /** Graph writes since `since`, bodies parsed (the journal keeps them as sent). */
  const writes = (since: number) => graphWrites(sim, since).map((w) => ({ ...w, body: typeof w.body === 'string' ? JSON.parse(w.body) : w.body }));
  /** This suite's kind of actions on its tenant (the database may be shared with other suites). */
  const actionCount = async () =>
    Number(
      (
        await t.app
          .get(DataSource)
          .query(`SELECT count(*)::int AS n FROM actions WHERE tenant_id = $1 AND (type LIKE 'alert.%' OR type LIKE 'incident.%')`, [contoso])
      )[0].n,
    );

  it('registers the write capabilities from the token roles', async () => {
    const caps = (await t.http.get(`/v1/tenants/${contoso}/capabilities`).set(bearer(t.adminKey)).expect(200)).body.capabilities;
    const status = (name: string) => caps.find((c: any) => c.capability === name)?.status;
    expect(status('alert-actions')).toBe('available');
    expect(status('incident-actions')).toBe('available');
  });

  it('updates an alert as responder: only the changed fields are sent, read back, and Cordon’s copy shows them', async () => {
    const since = sim.journal.lastSeq();
    const res = await patchAlert(responder, RANSOMWARE, {
      reason: 'INC-20: ransomware contained',
      ticket: 'INC-20',
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      assignedTo: 'soc@contoso.example',
    });
    expect(res.status).toBe(200);
    expect(res.headers.location).toBe(`/v1/actions/${res.body.id}`);
    expect(res.body.steps[0]).toMatchObject({
      name: 'update-alert',
      status: 'succeeded',
      attempts: 1,
      detail: { verified: true, changed: true, storedCopy: true },
    });
    expect(res.body).toMatchObject({
      type: 'alert.update',
      status: 'succeeded',
      target: { requested: RANSOMWARE, id: RANSOMWARE, display: 'Ransomware behavior detected in the file system' },
      ticket: 'INC-20',
    });
    expect(res.body.steps[0].detail.changes).toEqual({
      status: { before: 'new', after: 'resolved' },
      classification: { before: null, after: 'truePositive' },
      determination: { before: null, after: 'malware' },
      assignedTo: { before: null, after: 'soc@contoso.example' },
    });
    // Microsoft's side
    expect(simAlert(RANSOMWARE)).toMatchObject({
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      assignedTo: 'soc@contoso.example',
    });
    expect(writes(since)).toEqual([
      {
        method: 'PATCH',
        path: `/v1.0/security/alerts_v2/${RANSOMWARE}`,
        status: 200,
        body: { status: 'resolved', classification: 'truePositive', determination: 'malware', assignedTo: 'soc@contoso.example' },
      },
    ]);
    // Cordon's copy, without a collection run
    expect(await cordonAlert(RANSOMWARE)).toMatchObject({ status: 'resolved', classification: 'truePositive', determination: 'malware' });
    const events = (await t.http.get(`/v1/audit-log?actionId=${res.body.id}&limit=100`).set(bearer(t.adminKey))).body.items.map((e: any) => e.event);
    expect(events).toEqual(['action.requested', 'action.accepted', 'action.step.started', 'action.step.succeeded', 'action.succeeded']);

    // Again with what Microsoft already holds: nothing is sent.
    const before = sim.journal.lastSeq();
    const again = await patchAlert(responder, RANSOMWARE, { reason: 'INC-20 again', status: 'resolved', assignedTo: 'soc@contoso.example' });
    expect(again.body).toMatchObject({ status: 'succeeded', steps: [{ status: 'succeeded', detail: { changed: false, verified: true } }] });
    expect(graphWrites(sim, before)).toEqual([]);
  });

  it('updates an incident with its own status enum and custom tags; Cordon’s copy shows it', async () => {
    const since = sim.journal.lastSeq();
    const res = await patchIncident(responder, '4712', {
      reason: 'INC-21: brute force was a pen test',
      status: 'resolved',
      classification: 'informationalExpectedActivity',
      determination: 'securityTesting',
      customTags: ['cordon', 'pentest'],
    });
    expect(res.status).toBe(200);
    expect(res.body.steps[0]).toMatchObject({ name: 'update-incident', status: 'succeeded', detail: { verified: true, changed: true } });
    expect(res.body).toMatchObject({
      type: 'incident.update',
      status: 'succeeded',
      target: { id: '4712', display: 'Credential access incident involving one user' },
    });
    expect(simIncident('4712')).toMatchObject({
      status: 'resolved',
      classification: 'informationalExpectedActivity',
      determination: 'securityTesting',
      customTags: ['cordon', 'pentest'],
    });
    // assignedTo was not asked for: not sent
    expect(writes(since)).toEqual([
      {
        method: 'PATCH',
        path: '/v1.0/security/incidents/4712',
        status: 200,
        body: { status: 'resolved', classification: 'informationalExpectedActivity', determination: 'securityTesting', customTags: ['cordon', 'pentest'] },
      },
    ]);
    expect(await cordonIncident('4712')).toMatchObject({
      status: 'resolved',
      classification: 'informationalExpectedActivity',
      determination: 'securityTesting',
    });
    // the same tags in another order are the same tags
    const before = sim.journal.lastSeq();
    const again = await patchIncident(responder, '4712', { reason: 'tags again', customTags: ['pentest', 'cordon'] });
    expect(again.body.steps[0].detail.changed).toBe(false);
    expect(graphWrites(sim, before)).toEqual([]);
  });

  it('enforces roles: an analyst waits for approval, an auditor is refused', async () => {
    const since = sim.journal.lastSeq();
    expectProblem(await patchAlert(auditor, SIGN_IN, { reason: 'x', status: 'inProgress' }), 403, 'forbidden');
    expectProblem(await comment('alerts', SIGN_IN, { reason: 'x', comment: 'x' }).set(bearer(auditor)), 403, 'forbidden');
    const requested = await patchAlert(analyst, SIGN_IN, { reason: 'INC-22: looking at it', status: 'inProgress' });
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('awaiting_approval');
    expect(graphWrites(sim, since)).toEqual([]);
    expect(simAlert(SIGN_IN).status).toBe('new');
    const approved = await t.http.post(`/v1/actions/${requested.body.id}/approve`).set({ ...bearer(responder), Prefer: 'wait=10' });
    expect(approved.body.status).toBe('succeeded');
    expect(simAlert(SIGN_IN).status).toBe('inProgress');
  });

  it('dry run plans `field old → new` without changing anything, and keeps a status Microsoft added that Cordon does not know', async () => {
    simAlert(EMAIL).status = 'awaitingTriage'; // a member newer than Cordon, as Microsoft may send it
    const since = sim.journal.lastSeq();
    const res = await patchAlert(responder, EMAIL, { reason: 'what would happen?', dryRun: true, status: 'resolved', classification: 'falsePositive' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      status: 'succeeded',
      result: { plan: [{ step: 'update-alert', changes: true, wouldChange: 'status awaitingTriage → resolved, classification null → falsePositive' }] },
    });
    expect(graphWrites(sim, since)).toEqual([]);
    expect(simAlert(EMAIL).status).toBe('awaitingTriage');
    simAlert(EMAIL).status = 'new';
    const noop = await patchAlert(responder, EMAIL, { reason: 'no-op', dryRun: true, status: 'new' });
    expect(noop.body.result.plan[0]).toMatchObject({ changes: false });
  });

  it('replays a request with the same Idempotency-Key without sending anything new', async () => {
    const headers = { 'Idempotency-Key': 'xdr-playbook-1', Prefer: 'wait=10' };
    const since = sim.journal.lastSeq();
    const first = await patchIncident(responder, '4711', { reason: 'INC-23', status: 'inProgress', assignedTo: 'tier2@contoso.example' }, headers);
    expect(first.body.status).toBe('succeeded');
    const replay = await patchIncident(responder, '4711', { reason: 'INC-23', status: 'inProgress', assignedTo: 'tier2@contoso.example' }, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(graphWrites(sim, since)).toHaveLength(1);
    expectProblem(await patchIncident(responder, '4711', { reason: 'INC-23', status: 'resolved' }, headers), 409, 'idempotency-key-reused');
    expect(graphWrites(sim, since)).toHaveLength(1);
  });

  it('refuses values Microsoft does not document, and an update without a change, with 400 naming the field; nothing is recorded or sent', async () => {
    const since = sim.journal.lastSeq();
    const count = await actionCount();
    const wrongStatus = await patchAlert(responder, SIGN_IN, { reason: 'x', status: 'active' }); // an incident status, not an alert's
    expectProblem(wrongStatus, 400, 'validation-failed');
    expect(wrongStatus.body.errors).toEqual([expect.objectContaining({ field: 'status', message: expect.stringContaining('inProgress') })]);
    const wrongDetermination = await patchIncident(responder, '4711', { reason: 'x', determination: 'clean' });
    expectProblem(wrongDetermination, 400, 'validation-failed');
    expect(wrongDetermination.body.errors.map((e: any) => e.field)).toEqual(['determination']);
    const sentinel = await patchIncident(responder, '4711', { reason: 'x', classification: 'unknownFutureValue' });
    expect(sentinel.body.errors.map((e: any) => e.field)).toEqual(['classification']);
    const alertTags = await patchAlert(responder, SIGN_IN, { reason: 'x', customTags: ['a'] }); // alerts have no custom tags
    expect(alertTags.body.errors.map((e: any) => e.field)).toEqual(['customTags']);
    const noChange = await patchAlert(responder, SIGN_IN, { reason: 'x' });
    expectProblem(noChange, 400, 'validation-failed');
    expect(noChange.body.errors[0].message).toMatch(/at least one of status, classification, determination, assignedTo/);
    expectProblem(await comment('incidents', '4711', { reason: 'x', comment: '' }), 400, 'validation-failed');
    expect(await actionCount()).toBe(count);
    expect(graphWrites(sim, since)).toEqual([]);
  });

  it('fails an unknown alert or incident with target-not-found naming it', async () => {
    const res = await patchAlert(responder, 'da000000000_-1', { reason: 'x', status: 'resolved' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'failed', steps: [{ name: 'resolve-target', status: 'failed', error: { code: 'target-not-found' } }] });
    expect(res.body.steps[0].error.message).toContain('da000000000_-1');
    const incident = await comment('incidents', '999999', { reason: 'x', comment: 'hello' });
    expect(incident.body).toMatchObject({ status: 'failed', error: { code: 'target-not-found', message: expect.stringContaining('999999') } });
  });

  it('names the write permission when Microsoft refuses the change', async () => {
    sim.faults.add({
      host: 'graph',
      method: 'PATCH',
      pathPattern: `/v1.0/security/alerts_v2/${BRUTE_FORCE}`,
      times: 2, // a missing permission refuses the renewed token too (MicrosoftHttp renews a token older than a minute once on 403)
      status: 403,
      body: { error: { code: 'Forbidden', message: 'Missing role SecurityAlert.ReadWrite.All' } },
    });
    const res = await patchAlert(responder, BRUTE_FORCE, { reason: 'x', status: 'resolved' });
    sim.faults.clear();
    expect(res.body.status).toBe('failed');
    expect(res.body.steps[0].error).toMatchObject({ code: 'permission-missing', status: 403, message: expect.stringContaining('SecurityAlert.ReadWrite.All') });
    expect(simAlert(BRUTE_FORCE).status).toBe('inProgress');
  });

  it("notifies the tenant's webhook of the version it stored, as a collection run would", async () => {
    const hook = `/v1/tenants/${contoso}/webhook`;
    await t.http
      .put(hook)
      .set(bearer(t.adminKey))
      .send({ url: 'http://127.0.0.1:9/hook', secret: 'xdr-updates-webhook-secret-1234', minSeverity: 'informational' })
      .expect(200);
    try {
      const res = await patchAlert(responder, EMAIL, { reason: 'INC-24: phish removed', status: 'resolved', determination: 'phishing' });
      expect(res.body.status).toBe('succeeded');
      const items = (await t.http.get(`${hook}/deliveries?limit=1000`).set(bearer(t.adminKey)).expect(200)).body.items as any[];
      // `alert.created` when no collection run had stored the alert yet
      expect(items.filter((d) => d.objectId === EMAIL).map((d) => d.event)).toEqual([expect.stringMatching(/^alert\.(updated|created)$/)]);
    } finally {
      await t.http.delete(hook).set(bearer(t.adminKey));
    }
  });

  it('comments on an alert and an incident once each, with the action marker, and Cordon’s copy carries them', async () => {
    const since = sim.journal.lastSeq();
    const res = await comment('alerts', RANSOMWARE, { reason: 'INC-20', comment: 'Contained by Cordon: device isolated.' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'alert.comment',
      status: 'succeeded',
      steps: [{ name: 'comment-alert', status: 'succeeded', detail: { verified: true, posted: true } }],
    });
    const text = `Contained by Cordon: device isolated. [cordon:${res.body.id}]`;
    expect((simAlert(RANSOMWARE).comments as RawRecord[]).map((c) => c.comment)).toEqual([text]);
    const inc = await comment('incidents', '4711', { reason: 'INC-20', comment: 'Closed by Cordon.' });
    expect(inc.body.status).toBe('succeeded');
    expect((simIncident('4711').comments as RawRecord[]).map((c) => c.comment)).toEqual([`Closed by Cordon. [cordon:${inc.body.id}]`]);
    expect(graphWrites(sim, since).map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([
      `POST /v1.0/security/alerts_v2/${RANSOMWARE}/comments 200`,
      'POST /v1.0/security/incidents/4711/comments 200',
    ]);
    expect((await cordonAlert(RANSOMWARE)).raw.comments.map((c: any) => c.comment)).toEqual([text]);
    // dry run: nothing posted
    const before = sim.journal.lastSeq();
    const planned = await comment('alerts', RANSOMWARE, { reason: 'x', comment: 'maybe', dryRun: true });
    expect(planned.body.result.plan[0]).toMatchObject({ step: 'comment-alert', changes: true, wouldChange: expect.stringContaining('maybe [cordon:') });
    expect(graphWrites(sim, before)).toEqual([]);
  });
});
