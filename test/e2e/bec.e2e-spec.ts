import { DataSource } from 'typeorm';
import type { RunningSimulator } from '../m365-simulator/src';
import { DEMO, DEMO_BEC, DEMO_GROUP_CONTAINMENT } from '../m365-simulator/src/demo-scenario';
import { graphWrites, registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const CONTOSO_CLIENT = 'a1f0c3d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f';
const PASSWORD_METHOD = '28c10230-6103-485e-b985-444c60001490';
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

/** A BEC suite: its own demo simulator (the victim's persistence fresh), Cordon, Contoso and Fabrikam registered. */
function becSuite() {
  const s = { logLines: [] as string[] } as {
    sim: RunningSimulator;
    t: TestApp;
    contoso: string;
    fabrikam: string;
    responder: string;
    analyst: string;
    auditor: string;
    logLines: string[];
  };
  beforeAll(async () => {
    s.sim = await startDemoSimulator();
    s.t = await startTestApp({ ...simEnv(s.sim), CORDON_ACTION_LEASE_S: '5' }, [], { logLines: s.logLines });
    s.contoso = await registerSimTenant(s.t, s.sim, 'Contoso Demo');
    s.fabrikam = await registerSimTenant(s.t, s.sim, 'Fabrikam Basic');
    s.responder = (await createKey(s.t, ['responder'])).key;
    s.analyst = (await createKey(s.t, ['analyst'])).key;
    s.auditor = (await createKey(s.t, ['auditor'])).key;
  });
  afterAll(async () => {
    await s.t?.close();
    await s.sim?.stop();
  });
  const tenant = () => s.sim.context.tenants.get(CONTOSO_TID)!;
  const alice = () => tenant().users.find((u) => u.id === DEMO_BEC.userId)!;
  const act = (verb: string, body: Record<string, unknown>, opts: { key?: string; tenant?: string; path?: string; headers?: Record<string, string> } = {}) =>
    s.t.http
      .post(`/v1/tenants/${opts.tenant ?? s.contoso}/${opts.path ?? `users/${DEMO_BEC.userPrincipalName}`}/${verb}`)
      .set({ ...bearer(opts.key ?? s.responder), Prefer: 'wait=30', ...(opts.headers ?? {}) })
      .send({ reason: 'INC-77: BEC, forwarding to an outside address', ...body });
  const final = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const res = await s.t.http.get(`/v1/actions/${id}`).set(bearer(s.t.adminKey));
      if (FINAL.includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`action ${id} did not finish`);
  };
  const read = (what: string, key = s.responder, user: string = DEMO_BEC.userPrincipalName) =>
    s.t.http.get(`/v1/tenants/${s.contoso}/users/${encodeURIComponent(user)}/${what}`).set(bearer(key));
  return { s, tenant, alice, act, final, read };
}

describe('evicting BEC persistence: reads and single actions (against the simulator)', () => {
  const { s, tenant, alice, act, final, read } = becSuite();

  it('lists inbox rules with risk flags, and says hidden rules are out of sight', async () => {
    const res = await read('inbox-rules');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: DEMO_BEC.userId, userPrincipalName: DEMO_BEC.userPrincipalName });
    expect(res.body.rules.map((r: { id: string }) => r.id)).toEqual([DEMO_BEC.forwardingRuleId, DEMO_BEC.newslettersRuleId]);
    const forwarding = res.body.rules[0];
    expect(forwarding.risk).toEqual({
      forwards: [{ address: DEMO_BEC.externalAddress, via: 'forwardTo', external: true }],
      deletes: false,
      hides: true,
      external: true,
      risky: true,
    });
    expect(res.body.verifiedDomains).toEqual(expect.arrayContaining(['contoso.example']));
    expect(res.body.note).toMatch(/hidden/i);
    expect((await read('inbox-rules', s.auditor)).status).toBe(403);
    expect((await read('inbox-rules', s.analyst)).status).toBe(200);
    expectProblem(await read('inbox-rules', s.responder, 'nobody@contoso.example'), 404, 'target-not-found');
  });

  it('lists consents with the app, its publisher and whether it is verified; methods masked, no secret', async () => {
    const consents = await read('app-consents');
    expect(consents.status).toBe(200);
    const malicious = consents.body.consents.find((c: { appId: string }) => c.appId === DEMO_BEC.maliciousAppId);
    expect(malicious).toMatchObject({ kind: 'delegated', appDisplayName: 'Mail Helper Pro', verifiedPublisher: false, grantedAt: null });
    expect(malicious.scopes).toEqual(['Mail.ReadWrite', 'offline_access', 'User.Read']);
    const trusted = consents.body.consents.find((c: { appId: string }) => c.appId === DEMO_BEC.trustedAppId);
    expect(trusted).toMatchObject({ kind: 'appRole', verifiedPublisher: true, publisherName: 'Fabrikam, Inc.', scopes: ['Docs.Editor'] });
    expect(trusted.grantedAt).toEqual(expect.any(String));

    const methods = await read('auth-methods');
    expect(methods.status).toBe(200);
    const types = methods.body.methods.map((m: { type: string }) => m.type).sort();
    expect(types).toEqual(['microsoftAuthenticator', 'password', 'phone']);
    const phone = methods.body.methods.find((m: { type: string }) => m.type === 'phone');
    expect(phone).toMatchObject({ id: DEMO_BEC.phoneMethodId, createdDateTime: null, removable: true });
    expect(phone.detail.phoneNumber).toMatch(/^[^0-9]*(?:[^0-9]+)43$/);
    expect(JSON.stringify(methods.body)).not.toContain('8015550143');
    expect(methods.body.methods.find((m: { type: string }) => m.type === 'password').removable).toBe(false);
  });

  it('refuses a tenant whose app lacks the permission: capability-unavailable names it, nothing recorded at Microsoft', async () => {
    const since = s.sim.journal.lastSeq();
    const res = await act('remove-inbox-rules', { risky: true }, { tenant: s.fabrikam, path: `users/gina@${DEMO.fabrikam.domain}` });
    expectProblem(res, 409, 'capability-unavailable');
    expect(JSON.stringify(res.body)).toContain('MailboxSettings.ReadWrite');
    expect(graphWrites(s.sim, since)).toEqual([]);
  });

  it('refuses bad input with 400 and records nothing', async () => {
    const before = (await s.t.http.get('/v1/actions?limit=200').set(bearer(s.t.adminKey))).body.items.length;
    expectProblem(await act('remove-inbox-rules', {}), 400, 'validation-failed');
    expectProblem(await act('remove-inbox-rules', { ruleIds: ['a'], risky: true }), 400, 'validation-failed');
    expectProblem(await act('remove-inbox-rules', { risky: true, mode: 'shred' }), 400, 'validation-failed');
    expectProblem(await act('revoke-app-consents', {}), 400, 'validation-failed');
    expectProblem(await act('remove-auth-methods', { addedAfter: 'yesterday' }), 400, 'validation-failed');
    expectProblem(await act('contain-bec', { lookbackDays: 400 }), 400, 'validation-failed');
    const after = (await s.t.http.get('/v1/actions?limit=200').set(bearer(s.t.adminKey))).body.items.length;
    expect(after).toBe(before);
  });

  it('dry run of remove-inbox-rules plans, changes nothing; the real one disables the risky rules and keeps their JSON', async () => {
    const since = s.sim.journal.lastSeq();
    const dry = await act('remove-inbox-rules', { risky: true, dryRun: true });
    expect(dry.status).toBe(200);
    expect(JSON.stringify(dry.body.plan ?? dry.body)).toContain(DEMO_BEC.externalAddress);
    expect(graphWrites(s.sim, since)).toEqual([]);
    expect(alice().inboxRules!.every((r) => r.isEnabled)).toBe(true);

    const headers = { 'Idempotency-Key': 'bec-rules-1' };
    const res = await act('remove-inbox-rules', { risky: true }, { headers });
    expect([200, 202]).toContain(res.status);
    const done = await final(res.body.id);
    expect(done.status).toBe('succeeded');
    const step = done.steps[0];
    expect(step.detail.verified).toBe(true);
    expect(step.detail.evidence.map((r: { id: string }) => r.id)).toEqual([DEMO_BEC.forwardingRuleId, DEMO_BEC.newslettersRuleId]);
    expect(step.detail.evidence[0].actions.forwardTo[0].emailAddress.address).toBe(DEMO_BEC.externalAddress);
    const rules = alice().inboxRules!;
    expect(rules.find((r) => r.id === DEMO_BEC.forwardingRuleId)!.isEnabled).toBe(false);
    expect(rules.find((r) => r.id === DEMO_BEC.hiddenRuleId)!.isEnabled).toBe(true); // Graph cannot see it
    const writes = graphWrites(s.sim, since);
    expect(writes.map((w) => `${w.method} ${w.status}`)).toEqual(['PATCH 200', 'PATCH 200']);

    // replay: the same answer, nothing new at Microsoft
    const mark = s.sim.journal.lastSeq();
    const replay = await act('remove-inbox-rules', { risky: true }, { headers });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(res.body.id);
    expect(graphWrites(s.sim, mark)).toEqual([]);

    // the release counterpart, from the evidence
    const back = await act('enable-inbox-rules', { ruleIds: [DEMO_BEC.newslettersRuleId] });
    expect((await final(back.body.id)).status).toBe('succeeded');
    expect(alice().inboxRules!.find((r) => r.id === DEMO_BEC.newslettersRuleId)!.isEnabled).toBe(true);
  });

  it('an unknown rule, app or method id fails with target-not-found naming it', async () => {
    for (const [verb, body, name] of [
      ['remove-inbox-rules', { ruleIds: ['AQAAAnope='] }, 'AQAAAnope='],
      ['revoke-app-consents', { clientIds: ['00000000-0000-4000-8000-00000000beef'] }, '00000000-0000-4000-8000-00000000beef'],
      ['remove-auth-methods', { methodIds: ['00000000-0000-4000-8000-00000000cafe'] }, '00000000-0000-4000-8000-00000000cafe'],
    ] as const) {
      const res = await act(verb, body);
      const done = await final(res.body.id);
      expect(done.status).toBe('failed');
      expect(done.steps[0].error).toMatchObject({ code: 'target-not-found' });
      expect(done.steps[0].error.message).toContain(name);
    }
  });

  it('revokes the consent to the named app (by appId) and removes the phone method; the trusted app stays', async () => {
    const res = await act('revoke-app-consents', { clientIds: [DEMO_BEC.maliciousAppId] });
    const done = await final(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0].detail.evidence).toEqual([expect.objectContaining({ consentType: 'Principal', principalId: DEMO_BEC.userId })]);
    expect(tenant().oauth2PermissionGrants.filter((g) => g.principalId === DEMO_BEC.userId)).toEqual([]);
    expect(tenant().appRoleAssignments.filter((a) => a.principalId === DEMO_BEC.userId)).toHaveLength(1);

    const methods = await act('remove-auth-methods', { methodIds: [DEMO_BEC.phoneMethodId] });
    const removed = await final(methods.body.id);
    expect(removed.status).toBe('succeeded');
    expect(
      alice()
        .authMethods!.map((m) => m.id)
        .sort(),
    ).toEqual([PASSWORD_METHOD, DEMO_BEC.authenticatorMethodId].sort());
    expect(JSON.stringify(removed)).not.toContain('8015550143');
  });

  it('resets the password: a weak one fails with Microsoft’s reason, and no password is kept anywhere', async () => {
    const weak = 'password1';
    const res = await act('reset-password', { password: weak }, { headers: { 'Idempotency-Key': 'bec-pw-1' } });
    const done = await final(res.body.id);
    expect(done.status).toBe('failed');
    expect(done.steps[0].error.code).toBe('password-rejected');
    expect(done.steps[0].error.message).toMatch(/complexity/i);
    expect(done.params ?? {}).not.toHaveProperty('password');

    const strong = 'Tr0ub4dor&3-horse-Battery!';
    const ok = await act('reset-password', { password: strong });
    const set = await final(ok.body.id);
    expect(set.status).toBe('succeeded');
    expect(set.steps[0].detail).toMatchObject({ generated: false, forceChangePasswordNextSignIn: true });
    const random = await final((await act('reset-password', {})).body.id);
    expect(random.status).toBe('succeeded');
    expect(random.steps[0].detail.generated).toBe(true);
    expect(alice().lastPasswordChangeDateTime).toEqual(expect.any(String));

    // neither password is in any answer, audit entry, export or database row
    const audit = await s.t.http.get('/v1/audit-log/export?format=ndjson').set(bearer(s.t.adminKey));
    const answers = JSON.stringify([done, set, random, audit.text]);
    for (const secret of [weak, strong]) expect(answers).not.toContain(secret);
    const ds = s.t.app.get(DataSource);
    const tables: Array<{ table_name: string }> = await ds.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    );
    for (const { table_name } of tables) {
      const rows: unknown[] = await ds.query(`SELECT * FROM "${table_name}"`);
      const text = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
      for (const secret of [weak, strong]) expect({ table: table_name, found: text.includes(secret) }).toEqual({ table: table_name, found: false });
    }
    expect(s.logLines.length).toBeGreaterThan(0);
    for (const secret of [weak, strong]) expect(s.logLines.filter((l) => l.includes(secret))).toEqual([]);
    // the simulator's journal keeps no password either (microsoft-notes M38)
    expect(s.sim.journal.list({ host: 'graph' }).some((e) => JSON.stringify(e.body ?? '').includes(strong))).toBe(false);
  });

  it('names the directory roles when Microsoft refuses to reset a privileged account’s password', async () => {
    const res = await act('reset-password', {}, { path: 'users/adele.vance@contoso.example' });
    const done = await final(res.body.id);
    expect(done.status).toBe('failed');
    expect(done.steps[0].error).toMatchObject({ code: 'privileged-target', microsoftCode: 'Authorization_RequestDenied', status: 403 });
    expect(done.steps[0].error.message).toMatch(/Security Administrator, User Administrator/);
  });

  it('adds to and removes from the containment group named by the policy; without one, 409', async () => {
    expectProblem(await act('add-to-containment-group', {}), 409, 'containment-group-not-set');
    await s.t.http
      .put(`/v1/tenants/${s.contoso}/policy`)
      .set(bearer(s.t.adminKey))
      .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {}, containmentGroupId: DEMO_GROUP_CONTAINMENT })
      .expect(200);
    const added = await final((await act('add-to-containment-group', {})).body.id);
    expect(added.status).toBe('succeeded');
    expect(alice().memberOf).toContain(DEMO_GROUP_CONTAINMENT);
    const again = await final((await act('add-to-containment-group', {})).body.id);
    expect(again.steps[0].detail.changed).toBe(false);
    const removed = await final((await act('remove-from-containment-group', {})).body.id);
    expect(removed.status).toBe('succeeded');
    expect(alice().memberOf).not.toContain(DEMO_GROUP_CONTAINMENT);
  });

  it("disables and re-enables an enterprise app; refuses Cordon's own app", async () => {
    const sp = () => tenant().servicePrincipals.find((x) => x.appId === DEMO_BEC.maliciousAppId)!;
    const off = await final((await act('disable', {}, { path: `service-principals/${DEMO_BEC.maliciousAppId}` })).body.id);
    expect(off.status).toBe('succeeded');
    expect(off.target).toMatchObject({ id: DEMO_BEC.maliciousServicePrincipalId });
    expect(sp().accountEnabled).toBe(false);
    const on = await final((await act('enable', {}, { path: `service-principals/${DEMO_BEC.maliciousServicePrincipalId}` })).body.id);
    expect(on.status).toBe('succeeded');
    expect(sp().accountEnabled).toBe(true);
    expectProblem(await act('disable', {}, { path: `service-principals/${CONTOSO_CLIENT}` }), 409, 'protected-target');
    const unknown = await final((await act('disable', {}, { path: 'service-principals/00000000-0000-4000-8000-0000000000aa' })).body.id);
    expect(unknown.status).toBe('failed');
  });

  it("an analyst's request waits for a responder's approval", async () => {
    const res = await act('remove-auth-methods', { allExceptPassword: true }, { key: s.analyst });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('awaiting_approval');
    expect((await act('remove-auth-methods', { allExceptPassword: true }, { key: s.auditor })).status).toBe(403);
    expect(alice().authMethods!.length).toBeGreaterThan(1);
  });
});

describe('user.contain-bec on the seeded victim (against the simulator)', () => {
  const { s, tenant, alice, act, final } = becSuite();

  it('dry run plans every step and changes nothing', async () => {
    const since = s.sim.journal.lastSeq();
    const res = await act('contain-bec', { dryRun: true });
    expect(res.status).toBe(200);
    expect(graphWrites(s.sim, since)).toEqual([]);
    expect(res.body.steps.map((x: { name: string }) => x.name)).toEqual([
      'disable-sign-in',
      'revoke-sessions',
      'reset-password',
      'remove-inbox-rules',
      'revoke-app-consents',
      'remove-auth-methods',
      'add-to-containment-group',
    ]);
  });

  it('leaves Graph showing none of the persistence; what is older than the window stays', async () => {
    await s.t.http
      .put(`/v1/tenants/${s.contoso}/policy`)
      .set(bearer(s.t.adminKey))
      .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {}, containmentGroupId: DEMO_GROUP_CONTAINMENT })
      .expect(200);
    const res = await act('contain-bec', { lookbackDays: 30 });
    const done = await final(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((x: { status: string }) => x.status)).toEqual(Array(7).fill('succeeded'));
    const victim = alice();
    expect(victim.accountEnabled).toBe(false);
    expect(victim.signInSessionsValidFromDateTime).toEqual(expect.any(String));
    expect(victim.lastPasswordChangeDateTime).toEqual(expect.any(String));
    expect(victim.inboxRules!.find((r) => r.id === DEMO_BEC.forwardingRuleId)!.isEnabled).toBe(false);
    expect(tenant().oauth2PermissionGrants.filter((g) => g.principalId === DEMO_BEC.userId)).toEqual([]);
    // the verified app assigned 300 days ago is not persistence: it stays
    expect(tenant().appRoleAssignments.filter((a) => a.principalId === DEMO_BEC.userId)).toHaveLength(1);
    // the phone registered yesterday goes; the authenticator from 200 days ago stays
    expect(victim.authMethods!.map((m) => m.id).sort()).toEqual([PASSWORD_METHOD, DEMO_BEC.authenticatorMethodId].sort());
    expect(victim.memberOf).toContain(DEMO_GROUP_CONTAINMENT);
    const rulesStep = done.steps.find((x: { name: string }) => x.name === 'remove-inbox-rules');
    expect(rulesStep.detail.evidence.map((r: { id: string }) => r.id)).toContain(DEMO_BEC.forwardingRuleId);
  });

  it('skips what the tenant cannot do, with the reason, and still reports the rest', async () => {
    const res = await act('contain-bec', { resetPassword: false, removeInboxRules: false }, { tenant: s.fabrikam, path: `users/gina@${DEMO.fabrikam.domain}` });
    const done = await final(res.body.id);
    expect(done.status).toBe('succeeded');
    const byName = Object.fromEntries(done.steps.map((x: { name: string; status: string; detail?: { summary?: string } }) => [x.name, x]));
    expect(byName['disable-sign-in'].status).toBe('succeeded');
    expect(byName['revoke-app-consents'].status).toBe('skipped');
    expect(JSON.stringify(byName['revoke-app-consents'])).toContain('DelegatedPermissionGrant.ReadWrite.All');
    expect(byName['reset-password']).toBeUndefined();
  });
});
