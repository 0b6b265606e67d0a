/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { DEMO, demoScenario, startSimulator, type RunningSimulator } from '../m365-simulator/src';
import { DEMO_PHISH } from '../m365-simulator/src/demo-scenario';
import type { Scenario, SimMailMessage } from '../m365-simulator/src/types';
import { graphWrites, registerSimTenant, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * email.remediate against the simulator: route A (Defender for Office 365 analyzedEmails/remediate) on the
 * demo phish in Contoso Demo, route B (per mailbox) in Fabrikam Basic, which has no Defender for Office 365 and
 * only Mail.ReadWrite — the mailboxes read back from the simulator; roles, dry run, Idempotency-Key replay,
 * bad input, a refusal when neither route is available, and Microsoft's own error words.
 */
describe('email remediation (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let fabrikam: string;
  let responder: string;
  let analyst: string;
  let auditor: string;

  beforeAll(async () => {
    const scenario = demoScenario() as Scenario;
    // The remediation shows at the next read: the verification step sees it at once.
    scenario.graph = { ...(scenario.graph ?? {}), ...UNTHROTTLED_GRAPH, mail: { remediationDelayMs: 0 } };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    fabrikam = await registerSimTenant(t, sim, 'Fabrikam Basic');
    responder = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
    auditor = (await createKey(t, ['auditor'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  /** Microsoft's side: a recipient's copy of a message, as the simulator's mailbox holds it. */
  const copy = (tid: string, upn: string, networkMessageId: string): SimMailMessage =>
    sim.context.tenants
      .get(tid)!
      .users.find((u) => u.userPrincipalName === upn)!
      .messages!.find((m) => m.networkMessageId === networkMessageId)!;
  const phishA = (upn: string) => copy(DEMO.contoso.tenantId, upn, DEMO_PHISH.contoso.networkMessageId);
  const phishB = (upn: string) => copy(DEMO.fabrikam.tenantId, upn, DEMO_PHISH.fabrikam.networkMessageId);
  const contosoCopies = DEMO_PHISH.contoso.recipients.map((recipient) => ({ networkMessageId: DEMO_PHISH.contoso.networkMessageId, recipient }));
  const remediate = (tenant: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = { Prefer: 'wait=20' }) =>
    t.http
      .post(`/v1/tenants/${tenant}/emails/remediate`)
      .set({ ...bearer(key), ...headers })
      .send(body);

  it('route A: one Defender for Office 365 call soft-deletes the phish for its three recipients, verified by latestDelivery', async () => {
    const since = sim.journal.lastSeq();
    const res = await remediate(contoso, responder, { reason: 'INC-9: payroll phish', ticket: 'INC-9', action: 'softDelete', messages: contosoCopies });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'email.remediate', status: 'succeeded', result: { route: 'defender-for-office' } });
    expect(res.body.result.actionCenter).toMatch(/^https:\/\/security\.microsoft\.com\/action-center\/history/);
    expect(res.body.result.routeNote).toContain("the sender's copy is not touched");
    const verify = res.body.steps.find((s: any) => s.name === 'verify');
    expect(verify.detail.messages.every((m: any) => m.verified && m.latestDelivery === 'deletedFolder')).toBe(true);
    for (const upn of DEMO_PHISH.contoso.recipients) expect(phishA(upn).folder).toBe('recoverableitemsdeletions');
    // The newsletter in the same mailboxes is untouched.
    expect(
      sim.context.tenants.get(DEMO.contoso.tenantId)!.users.find((u) => u.userPrincipalName === DEMO_PHISH.contoso.recipients[0])!.messages![0].folder,
    ).toBe('inbox');
    const writes = graphWrites(sim, since);
    expect(writes).toEqual([expect.objectContaining({ method: 'POST', path: '/v1.0/security/collaboration/analyzedEmails/remediate', status: 202 })]);
    const sent = JSON.parse(writes[0].body!);
    expect(sent).toMatchObject({ action: 'softDelete', remediateSendersCopy: false, severity: 'medium' });
    expect(sent.analyzedEmails).toHaveLength(3);
    expect(sim.context.tenants.get(DEMO.contoso.tenantId)!.emailRemediations).toHaveLength(1);
  });

  it('replays a request with the same Idempotency-Key without a second remediation at Microsoft (moveToInbox undoes the soft delete)', async () => {
    const headers = { 'Idempotency-Key': 'email-undo-1', Prefer: 'wait=20' };
    const body = { reason: 'INC-9: false positive after all', action: 'moveToInbox', messages: contosoCopies };
    const since = sim.journal.lastSeq();
    const first = await remediate(contoso, responder, body, headers);
    expect(first.body.status).toBe('succeeded');
    for (const upn of DEMO_PHISH.contoso.recipients) expect(phishA(upn).folder).toBe('inbox');
    const replay = await remediate(contoso, responder, body, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(graphWrites(sim, since)).toHaveLength(1);
    expect(sim.context.tenants.get(DEMO.contoso.tenantId)!.emailRemediations).toHaveLength(2);
  });

  it('a dry run of hardDelete says it cannot be undone and changes nothing', async () => {
    const since = sim.journal.lastSeq();
    const res = await remediate(contoso, responder, { reason: 'what would a purge do?', action: 'hardDelete', dryRun: true, messages: contosoCopies });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, status: 'succeeded' });
    const plan = res.body.result.plan;
    expect(plan[0]).toMatchObject({ step: 'remediate', changes: true });
    expect(plan[0].wouldChange).toContain('cannot be undone');
    expect(plan[0].wouldChange).toContain('inbox_folder');
    expect(graphWrites(sim, since)).toEqual([]);
    for (const upn of DEMO_PHISH.contoso.recipients) expect(phishA(upn).folder).toBe('inbox');
  });

  it('enforces roles: an auditor is refused, an analyst waits for approval and nothing is sent', async () => {
    const since = sim.journal.lastSeq();
    const body = { reason: 'INC-10', action: 'moveToJunk', messages: contosoCopies };
    expectProblem(await remediate(contoso, auditor, body), 403, 'forbidden');
    const requested = await remediate(contoso, analyst, body);
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('awaiting_approval');
    expect(graphWrites(sim, since)).toEqual([]);
    expect(phishA(DEMO_PHISH.contoso.recipients[0]).folder).toBe('inbox');
    await t.http.post(`/v1/actions/${requested.body.id}/reject`).set(bearer(responder)).send({ reason: 'not needed' });
  });

  it('refuses bad input with 400 naming the field; nothing is recorded or sent', async () => {
    const since = sim.journal.lastSeq();
    const unknown = await remediate(contoso, responder, { reason: 'x', action: 'purge', messages: contosoCopies });
    expectProblem(unknown, 400, 'validation-failed');
    expect(unknown.body.errors.map((e: any) => e.field)).toEqual(['action']);
    const recipient = await remediate(contoso, responder, {
      reason: 'x',
      action: 'softDelete',
      messages: [{ networkMessageId: DEMO_PHISH.contoso.networkMessageId, recipient: 'bob' }],
    });
    expect(recipient.status).toBe(400);
    expect(recipient.body.errors.map((e: any) => e.field)).toEqual(['messages.0.recipient']);
    const empty = await remediate(contoso, responder, { reason: 'x', action: 'softDelete', messages: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors.map((e: any) => e.field)).toEqual(['messages']);
    const nmid = await remediate(contoso, responder, {
      reason: 'x',
      action: 'softDelete',
      messages: [{ networkMessageId: 'x', recipient: 'bob@contoso.example' }],
    });
    expect(nmid.body.errors.map((e: any) => e.field)).toEqual(['messages.0.networkMessageId']);
    expect(graphWrites(sim, since)).toEqual([]);
  });

  it('route B: without Defender for Office 365 each copy is moved in its mailbox with immutable ids, and read back', async () => {
    const [gina, hank] = DEMO_PHISH.fabrikam.recipients;
    const since = sim.journal.lastSeq();
    const res = await remediate(fabrikam, responder, {
      reason: 'INC-11: invoice phish',
      action: 'moveToJunk',
      messages: [
        { networkMessageId: DEMO_PHISH.fabrikam.networkMessageId, recipient: gina, internetMessageId: DEMO_PHISH.fabrikam.internetMessageId },
        { networkMessageId: DEMO_PHISH.fabrikam.networkMessageId, recipient: hank, internetMessageId: DEMO_PHISH.fabrikam.internetMessageId },
        { networkMessageId: DEMO_PHISH.fabrikam.networkMessageId, recipient: `admin@${DEMO.fabrikam.domain}` },
      ],
    });
    // The copy without an internetMessageId cannot be found per mailbox: the action is only partly verified.
    expect(res.body).toMatchObject({ status: 'partially_succeeded', result: { route: 'mailbox' } });
    expect(res.body.result.routeNote).toContain('no Action center entry');
    expect(res.body.result.mailbox.map((m: any) => m.outcome)).toEqual(['remediated', 'remediated', 'needs-internet-message-id']);
    expect(phishB(gina).folder).toBe('junkemail');
    expect(phishB(hank).folder).toBe('junkemail');
    const verify = res.body.steps.find((s: any) => s.name === 'verify');
    expect(verify.detail.messages.slice(0, 2).every((m: any) => m.verified)).toBe(true);
    const moves = sim.journal.list({ host: 'graph', since }).filter((e) => e.method === 'POST');
    expect(moves).toHaveLength(2);
    for (const m of moves) {
      expect(m.path).toMatch(/\/move$/);
      expect(m.headers.prefer).toBe('IdType="ImmutableId"');
      expect(m.status).toBe(201);
    }
    // Nothing went to Defender for Office 365 for this tenant.
    expect(sim.context.tenants.get(DEMO.fabrikam.tenantId)!.emailRemediations ?? []).toHaveLength(0);
  });

  it("route B: Microsoft's refusal surfaces with its own words", async () => {
    const res = await remediate(fabrikam, responder, {
      reason: 'INC-12',
      action: 'softDelete',
      messages: [{ networkMessageId: DEMO_PHISH.fabrikam.networkMessageId, recipient: `nobody@${DEMO.fabrikam.domain}`, internetMessageId: '<x@y>' }],
    });
    expect(res.body.status).toBe('failed');
    expect(JSON.stringify(res.body.steps[0].error)).toContain('ErrorInvalidUser');
  });

  it('refuses with 409 naming both capabilities when neither route is available', async () => {
    const app = sim.context.tenants.get(DEMO.fabrikam.tenantId)!.apps[0];
    const granted = [...app.permissions.graph];
    app.permissions.graph = granted.filter((p) => p !== 'Mail.ReadWrite');
    try {
      await t.http.post(`/v1/tenants/${fabrikam}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
      const since = sim.journal.lastSeq();
      const res = await remediate(fabrikam, responder, {
        reason: 'INC-13',
        action: 'softDelete',
        messages: [{ networkMessageId: DEMO_PHISH.fabrikam.networkMessageId, recipient: DEMO_PHISH.fabrikam.recipients[0] }],
      });
      expectProblem(res, 409, 'capability-unavailable');
      expect(res.body.detail).toContain('SecurityAnalyzedMessage.ReadWrite.All');
      expect(res.body.detail).toContain('Mail.ReadWrite');
      expect(graphWrites(sim, since)).toEqual([]);
    } finally {
      app.permissions.graph = granted;
      await t.http.post(`/v1/tenants/${fabrikam}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
    }
  });
});
