import { DataSource } from 'typeorm';
import type { RunningSimulator } from '../m365-simulator/src';
import { graphWrites, registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp, waitFor } from './support/test-app';

const ALICE = '0b7c1e2d-0003-4a00-8000-000000000003';
const BOB = '0b7c1e2d-0004-4a00-8000-000000000004';
const CAROL = '0b7c1e2d-0005-4a00-8000-000000000005';
const DAN = '0b7c1e2d-0006-4a00-8000-000000000006';
const ERIN = '0b7c1e2d-0007-4a00-8000-000000000007';
const BREAKGLASS = '0b7c1e2d-0001-4a00-8000-000000000001';
const FINANCE = 'f1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b';

describe('response actions on users (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let fabrikam: string;
  let responder: string;
  let responder2: string;
  let analyst: string;
  const contosoTid = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';

  beforeAll(async () => {
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    fabrikam = await registerSimTenant(t, sim, 'Fabrikam Basic');
    responder = (await createKey(t, ['responder'])).key;
    responder2 = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const user = (id: string) => sim.context.tenants.get(contosoTid)!.users.find((u) => u.id === id)!;
  const act = (
    key: string,
    tenant: string,
    target: string,
    verb: string,
    body: Record<string, unknown> = { reason: 'INC-1: suspicious sign-ins' },
    headers: Record<string, string> = {},
  ) =>
    t.http
      .post(`/v1/tenants/${tenant}/users/${encodeURIComponent(target)}/${verb}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const waitFinal = async (id: string, tries = 100) => {
    for (let i = 0; i < tries; i++) {
      const res = await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey));
      if (['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'].includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`action ${id} did not finish`);
  };

  it('isolates a user: disabled, sessions revoked, marked compromised, each step audited, exact Graph calls', async () => {
    const since = sim.journal.lastSeq();
    const before = user(ALICE).signInSessionsValidFromDateTime;
    // Graph keeps the time to the second: a revocation within the second of the previous value leaves it
    // as it was (tested below), so this one happens a second later.
    sim.clock.advance(1000);
    const res = await act(
      responder,
      contoso,
      'alice@contoso.example',
      'isolate',
      { reason: 'INC-1: impossible travel', ticket: 'INC-1' },
      { Prefer: 'wait=10' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.location).toBe(`/v1/actions/${res.body.id}`);
    // steps first: when one is not as expected, the failure shows which and why
    for (const step of res.body.steps)
      expect(step).toMatchObject({ status: 'succeeded', attempts: 1, microsoftRequestId: expect.any(String), detail: { verified: true } });
    expect(res.body.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['disable-sign-in', 'succeeded'],
      ['revoke-sessions', 'succeeded'],
      ['confirm-compromised', 'succeeded'],
    ]);
    expect(res.body).toMatchObject({
      type: 'user.isolate',
      status: 'succeeded',
      tenantId: contoso,
      target: { requested: 'alice@contoso.example', id: ALICE, display: 'alice@contoso.example' },
      reason: 'INC-1: impossible travel',
      ticket: 'INC-1',
    });
    expect(res.body.result.notes[0]).toMatch(/Access tokens already issued stay valid until they expire/);
    expect(user(ALICE).accountEnabled).toBe(false);
    expect(Date.parse(user(ALICE).signInSessionsValidFromDateTime)).toBeGreaterThan(Date.parse(before));
    expect(user(ALICE).riskState).toBe('confirmedCompromised');
    expect(graphWrites(sim, since).map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([
      `PATCH /v1.0/users/${ALICE} 204`,
      `POST /v1.0/users/${ALICE}/revokeSignInSessions 200`,
      'POST /v1.0/identityProtection/riskyUsers/confirmCompromised 204',
    ]);
    const audit = (await t.http.get(`/v1/audit-log?actionId=${res.body.id}&limit=100`).set(bearer(t.adminKey))).body.items.map(
      (e: { event: string }) => e.event,
    );
    expect(audit).toEqual([
      'action.requested',
      'action.accepted',
      // what Alice looked like before the first change (GET /v1/actions/{id}/evidence)
      'action.snapshot',
      'action.step.started',
      'action.step.succeeded',
      'action.step.started',
      'action.step.succeeded',
      'action.step.started',
      'action.step.succeeded',
      'action.succeeded',
    ]);
    // The answer comes from what the executor recorded, not from a read: it must be the stored action, to the millisecond.
    expect((await t.http.get(`/v1/actions/${res.body.id}`).set(bearer(t.adminKey))).body).toEqual(res.body);
  });

  it('treats an already disabled account as success and releases it again', async () => {
    const again = await act(responder, contoso, ALICE, 'disable', undefined, { Prefer: 'wait=10' });
    expect(again.body.steps[0]).toMatchObject({ status: 'succeeded', detail: { changed: false } });
    const release = await act(responder, contoso, ALICE, 'release', undefined, { Prefer: 'wait=10' });
    expect(release.body.status).toBe('succeeded');
    expect(user(ALICE).accountEnabled).toBe(true);
  });

  it('answers 202 with Location without Prefer: wait, and the action finishes on its own', async () => {
    const res = await act(responder, contoso, CAROL, 'revoke-sessions');
    expect(res.status).toBe(202);
    expect(['queued', 'running', 'succeeded']).toContain(res.body.status);
    expect((await waitFinal(res.body.id)).status).toBe('succeeded');
  });

  it('enforces roles: auditor and admin alone cannot act, analyst waits for approval', async () => {
    const auditor = (await createKey(t, ['auditor'])).key;
    expectProblem(await act(auditor, contoso, CAROL, 'disable'), 403, 'forbidden');
    expectProblem(await act(t.adminKey, contoso, CAROL, 'disable'), 403, 'forbidden');
    const since = sim.journal.lastSeq();
    const requested = await act(analyst, contoso, CAROL, 'disable');
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('awaiting_approval');
    expect(graphWrites(sim, since)).toEqual([]);
    expectProblem(await t.http.post(`/v1/actions/${requested.body.id}/approve`).set(bearer(analyst)), 403, 'forbidden');
    const approved = await t.http.post(`/v1/actions/${requested.body.id}/approve`).set({ ...bearer(responder), Prefer: 'wait=10' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'succeeded', approvedBy: { type: 'apiKey' } });
    expect(user(CAROL).accountEnabled).toBe(false);
    await act(responder, contoso, CAROL, 'enable', undefined, { Prefer: 'wait=10' });
  });

  it("refuses self-approval, runs on another responder's approval, and records rejections", async () => {
    await t.http
      .put(`/v1/tenants/${contoso}/policy`)
      .set(bearer(t.adminKey))
      .send({ protectedUsers: ['breakglass@contosodemo.onmicrosoft.com'], protectedGroups: [], approvalRequired: ['user.disable'], hourlyLimits: {} })
      .expect(200);
    try {
      const requested = await act(responder, contoso, ERIN, 'disable');
      expect(requested.body.status).toBe('awaiting_approval');
      expectProblem(await t.http.post(`/v1/actions/${requested.body.id}/approve`).set(bearer(responder)), 403, 'self-approval');
      const approved = await t.http.post(`/v1/actions/${requested.body.id}/approve`).set({ ...bearer(responder2), Prefer: 'wait=10' });
      expect(approved.body.status).toBe('succeeded');
      expect((await t.http.get(`/v1/actions/${requested.body.id}`).set(bearer(t.adminKey))).body).toEqual(approved.body);
      const other = await act(responder, contoso, ERIN, 'disable');
      const rejected = await t.http.post(`/v1/actions/${other.body.id}/reject`).set(bearer(responder2)).send({ reason: 'not needed' }).expect(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', decisionReason: 'not needed' });
      expectProblem(await t.http.post(`/v1/actions/${other.body.id}/approve`).set(bearer(responder2)), 409, 'action-not-awaiting-approval');
    } finally {
      await t.http
        .put(`/v1/tenants/${contoso}/policy`)
        .set(bearer(t.adminKey))
        .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
        .expect(200);
      await act(responder, contoso, ERIN, 'enable', undefined, { Prefer: 'wait=10' });
    }
  });

  it('refuses protected users and members of protected groups with 409, calling nothing that changes', async () => {
    await t.http
      .put(`/v1/tenants/${contoso}/policy`)
      .set(bearer(t.adminKey))
      .send({ protectedUsers: ['BreakGlass@contosodemo.onmicrosoft.com'], protectedGroups: [FINANCE], approvalRequired: [], hourlyLimits: {} })
      .expect(200);
    try {
      const since = sim.journal.lastSeq();
      const byUpn = await act(responder, contoso, 'breakglass@contosodemo.onmicrosoft.com', 'isolate');
      expectProblem(byUpn, 409, 'protected-target');
      expect(byUpn.body.detail).toMatch(/protected user/);
      const byId = await act(responder, contoso, BREAKGLASS, 'disable');
      expectProblem(byId, 409, 'protected-target');
      const member = await act(responder, contoso, BOB, 'disable');
      expectProblem(member, 409, 'protected-target');
      expect(member.body.detail).toContain(FINANCE);
      expect(graphWrites(sim, since)).toEqual([]);
      const refused = await t.http.get(`/v1/actions/${member.body.actionId}`).set(bearer(t.adminKey));
      expect(refused.body).toMatchObject({ status: 'rejected', error: { code: 'protected-target' } });
    } finally {
      await t.http
        .put(`/v1/tenants/${contoso}/policy`)
        .set(bearer(t.adminKey))
        .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
        .expect(200);
    }
  });

  it('refuses an unknown, out-of-scope or disabled tenant before recording or calling anything', async () => {
    const since = sim.journal.lastSeq();
    const count = async () => Number((await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM actions'))[0].n);
    const before = await count();
    expectProblem(await act(responder, '00000000-0000-4000-8000-000000000000', BOB, 'disable'), 404, 'not-found');
    const scoped = (await createKey(t, ['responder'], { tenantIds: [fabrikam] })).key;
    expectProblem(await act(scoped, contoso, BOB, 'disable'), 404, 'not-found');
    await t.http.patch(`/v1/tenants/${fabrikam}`).set(bearer(t.adminKey)).send({ enabled: false }).expect(200);
    try {
      expectProblem(await act(responder, fabrikam, 'gina@fabrikambasic.onmicrosoft.com', 'disable'), 409, 'tenant-disabled');
    } finally {
      await t.http.patch(`/v1/tenants/${fabrikam}`).set(bearer(t.adminKey)).send({ enabled: true }).expect(200);
    }
    expect(await count()).toBe(before);
    expect(sim.journal.list({ since, host: 'graph' })).toEqual([]);
  });

  it('names the missing directory role when Microsoft refuses to disable a privileged account', async () => {
    const res = await act(responder, contoso, BREAKGLASS, 'disable', undefined, { Prefer: 'wait=10' });
    expect(res.body.status).toBe('failed');
    expect(res.body.steps[0].error).toMatchObject({ code: 'privileged-target', microsoftCode: 'Authorization_RequestDenied', status: 403 });
    expect(res.body.steps[0].error.message).toMatch(/Global Administrator.*Privileged Authentication Administrator/);
    expect(user(BREAKGLASS).accountEnabled).toBe(true);
  });

  it('fails an unknown user with target-not-found', async () => {
    const res = await act(responder, contoso, 'nobody@contoso.example', 'disable', undefined, { Prefer: 'wait=10' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'failed', steps: [{ name: 'resolve-target', status: 'failed', error: { code: 'target-not-found' } }] });
  });

  it('skips confirm-compromised without Identity Protection and still succeeds', async () => {
    const res = await act(responder, fabrikam, 'gina@fabrikambasic.onmicrosoft.com', 'isolate', undefined, { Prefer: 'wait=10' });
    expect(res.body.status).toBe('succeeded');
    expect(res.body.steps[2]).toMatchObject({ name: 'confirm-compromised', status: 'skipped', detail: { summary: expect.stringMatching(/unlicensed.*P2/) } });
    expectProblem(await act(responder, fabrikam, 'gina@fabrikambasic.onmicrosoft.com', 'confirm-compromised'), 409, 'capability-unavailable');
    await act(responder, fabrikam, 'gina@fabrikambasic.onmicrosoft.com', 'enable', undefined, { Prefer: 'wait=10' });
  });

  it('dry run resolves, checks and plans without changing anything', async () => {
    const since = sim.journal.lastSeq();
    const res = await act(responder, contoso, BOB, 'isolate', { reason: 'what would happen?', dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      status: 'succeeded',
      result: {
        dryRun: true,
        plan: [
          { step: 'disable-sign-in', changes: true, wouldChange: 'accountEnabled true → false' },
          { step: 'revoke-sessions' },
          { step: 'confirm-compromised' },
        ],
      },
    });
    expect(graphWrites(sim, since)).toEqual([]);
    expect(user(BOB).accountEnabled).toBe(true);
  });

  it('replays an idempotent request, refuses a changed body, and makes one action of concurrent duplicates', async () => {
    const since = sim.journal.lastSeq();
    const headers = { 'Idempotency-Key': 'playbook-run-1', Prefer: 'wait=10' };
    const first = await act(responder, contoso, CAROL, 'revoke-sessions', { reason: 'replay test' }, headers);
    const replay = await act(responder, contoso, CAROL, 'revoke-sessions', { reason: 'replay test' }, headers);
    expect(replay.status).toBe(first.status);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(graphWrites(sim, since)).toHaveLength(1);
    expectProblem(await act(responder, contoso, CAROL, 'revoke-sessions', { reason: 'a different reason' }, headers), 409, 'idempotency-key-reused');
    // another principal's same key is its own key
    const other = await act(responder2, contoso, CAROL, 'revoke-sessions', { reason: 'replay test' }, headers);
    expect(other.body.id).not.toBe(first.body.id);

    const before = sim.journal.lastSeq();
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => act(responder, contoso, CAROL, 'revoke-sessions', { reason: 'concurrent' }, { 'Idempotency-Key': 'concurrent-1' })),
    );
    const ids = new Set(concurrent.filter((r) => r.status === 202 || r.status === 200).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    for (const r of concurrent.filter((x) => x.status === 409)) expect(r.body.type).toBe('/problems/request-in-progress');
    await waitFinal([...ids][0]);
    expect(graphWrites(sim, before)).toHaveLength(1);
  });

  it('verifies a revocation made in the same second as the one before (Graph keeps the time to the second)', async () => {
    const first = await act(responder, contoso, CAROL, 'revoke-sessions', undefined, { Prefer: 'wait=10' }).expect(200);
    const second = await act(responder, contoso, CAROL, 'revoke-sessions', undefined, { Prefer: 'wait=10' }).expect(200);
    for (const res of [first, second]) {
      expect(res.body.steps[0]).toMatchObject({ name: 'revoke-sessions', status: 'succeeded', detail: { verified: true } });
      expect(res.body.status).toBe('succeeded');
    }
  });

  it('retries Graph throttling within the action', async () => {
    sim.faults.add({
      host: 'graph',
      method: 'PATCH',
      pathPattern: `/v1.0/users/${ERIN}`,
      times: 1,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Too many requests' } },
    });
    const res = await act(responder, contoso, ERIN, 'disable', undefined, { Prefer: 'wait=20' });
    expect(res.body.status).toBe('succeeded');
    expect(user(ERIN).accountEnabled).toBe(false);
    await act(responder, contoso, ERIN, 'enable', undefined, { Prefer: 'wait=10' });
  });

  it('caps actions per hour with 429 and Retry-After', async () => {
    await t.http
      .put(`/v1/tenants/${fabrikam}/policy`)
      .set(bearer(t.adminKey))
      .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: { 'user.revoke-sessions': 2 } })
      .expect(200);
    const one = await act(responder, fabrikam, 'hank@fabrikambasic.onmicrosoft.com', 'revoke-sessions').expect(202);
    const two = await act(responder, fabrikam, 'hank@fabrikambasic.onmicrosoft.com', 'revoke-sessions').expect(202);
    await waitFinal(one.body.id);
    await waitFinal(two.body.id);
    const third = await act(responder, fabrikam, 'hank@fabrikambasic.onmicrosoft.com', 'revoke-sessions');
    expectProblem(third, 429, 'action-rate-limited');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(3000);
  });

  it('fails closed: when the request cannot be audited, 503 and no Graph call at all', async () => {
    const db = t.app.get(DataSource);
    const since = sim.journal.lastSeq();
    await db.query(`ALTER TABLE audit_pending ADD CONSTRAINT e2e_no_requests CHECK (event <> 'action.requested') NOT VALID`);
    try {
      expectProblem(await act(responder, contoso, ERIN, 'disable'), 503, 'audit-log-unavailable');
    } finally {
      await db.query('ALTER TABLE audit_pending DROP CONSTRAINT e2e_no_requests');
    }
    expect(sim.journal.list({ host: 'graph', since }).filter((e) => e.path.includes(ERIN) || e.path.includes('erin@'))).toEqual([]);
    expect(user(ERIN).accountEnabled).toBe(true);
  });

  it("lists and filters actions, newest first, within the caller's tenants", async () => {
    const all = await t.http.get(`/v1/actions?tenantId=${contoso}&type=user.isolate&limit=1000`).set(bearer(t.adminKey)).expect(200);
    expect(all.body.items.length).toBeGreaterThanOrEqual(1);
    expect(all.body.items.every((a: { type: string }) => a.type === 'user.isolate')).toBe(true);
    const byTarget = await t.http.get(`/v1/actions?target=alice@contoso.example`).set(bearer(t.adminKey)).expect(200);
    expect(byTarget.body.items.length).toBeGreaterThanOrEqual(1);
    const paged = await t.http.get('/v1/actions?limit=2').set(bearer(t.adminKey)).expect(200);
    expect(paged.body.nextCursor).toEqual(expect.any(String));
    const next = await t.http.get(`/v1/actions?limit=2&cursor=${paged.body.nextCursor}`).set(bearer(t.adminKey)).expect(200);
    expect(next.body.items[0].id).not.toBe(paged.body.items[0].id);
    const scoped = (await createKey(t, ['auditor'], { tenantIds: [fabrikam] })).key;
    const mine = await t.http.get('/v1/actions?limit=1000').set(bearer(scoped)).expect(200);
    expect(mine.body.items.every((a: { tenantId: string }) => a.tenantId === fabrikam)).toBe(true);
    expectProblem(await t.http.get(`/v1/actions/${all.body.items[0].id}`).set(bearer(scoped)), 404, 'not-found');
  });

  const eventsOf = async (actionId: string) =>
    (await t.http.get(`/v1/audit-log?actionId=${actionId}&limit=100`).set(bearer(t.adminKey))).body.items.map(
      (e: { event: string; data: { step?: string } }) => `${e.event}${e.data.step ? ` ${e.data.step}` : ''}`,
    );

  /** Sends the request with the target's resolution slowed, cancels the action meanwhile, and answers the request's response. */
  const cancelWhileResolving = async (key: string, reason: string) => {
    sim.faults.add({ host: 'graph', method: 'GET', pathPattern: `/v1.0/users/${CAROL}`, times: 1, latencyMs: 2000 });
    const request = act(key, contoso, CAROL, 'disable', { reason }, { Prefer: 'wait=10' }).then((r) => r); // sent now
    const queued = await waitFor(
      async () =>
        (await t.http.get(`/v1/actions?target=${CAROL}&status=queued`).set(bearer(t.adminKey))).body.items.find((a: { reason: string }) => a.reason === reason),
      (found) => found !== undefined,
      5000,
    );
    await t.http.post(`/v1/actions/${queued.id}/cancel`).set(bearer(responder2)).send({ reason: 'wrong user' }).expect(200);
    return { id: queued.id as string, answer: await request };
  };

  it.each([
    ["a responder's action (admitted and started in one statement)", () => responder],
    ["an analyst's action (admitted to wait for approval)", () => analyst],
  ])('a cancel that lands while the target is being resolved wins: %s stays cancelled, nothing is changed', async (what, key) => {
    const since = sim.journal.lastSeq();
    const { id, answer } = await cancelWhileResolving(key(), `INC-4: cancel race (${what})`);
    expect(answer.body).toMatchObject({ id, status: 'cancelled', decisionReason: 'wrong user' });
    expect((await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey))).body.status).toBe('cancelled');
    expect(graphWrites(sim, since)).toEqual([]);
    expect(user(CAROL).accountEnabled).toBe(true);
    expect(await eventsOf(id)).toEqual(['action.requested', 'action.cancelled']);
  });

  it('a cancel that lands before a policy refusal stands: the caller hears the refusal, the record stays cancelled', async () => {
    await t.http
      .put(`/v1/tenants/${contoso}/policy`)
      .set(bearer(t.adminKey))
      .send({ protectedUsers: [CAROL], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
      .expect(200);
    try {
      const { id, answer } = await cancelWhileResolving(responder, 'INC-5: cancel before refusal');
      expectProblem(answer, 409, 'protected-target');
      expect((await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey))).body).toMatchObject({ status: 'cancelled', decisionReason: 'wrong user' });
      expect(await eventsOf(id)).toEqual(['action.requested', 'action.cancelled']);
    } finally {
      await t.http
        .put(`/v1/tenants/${contoso}/policy`)
        .set(bearer(t.adminKey))
        .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
        .expect(200);
    }
  });

  it("cancelled while a step is at Microsoft: that step's outcome is recorded, the next step never starts", async () => {
    const since = sim.journal.lastSeq();
    sim.faults.add({ host: 'graph', method: 'PATCH', pathPattern: `/v1.0/users/${DAN}`, times: 1, latencyMs: 1500 });
    const started = await act(responder, contoso, DAN, 'isolate').expect(202);
    for (let i = 0; i < 50 && !sim.journal.list({ host: 'graph', since }).some((e) => e.method === 'GET' && e.query.includes('accountEnabled')); i++)
      await new Promise((r) => setTimeout(r, 20));
    const cancelled = await t.http.post(`/v1/actions/${started.body.id}/cancel`).set(bearer(responder2)).send({ reason: 'wrong user' }).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 2500)); // the PATCH answers after 1.5 s
    const final = (await t.http.get(`/v1/actions/${started.body.id}`).set(bearer(t.adminKey))).body;
    expect(final.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['disable-sign-in', 'succeeded'],
      ['revoke-sessions', 'pending'],
      ['confirm-compromised', 'pending'],
    ]);
    expect(final.status).toBe('cancelled');
    expect(graphWrites(sim, since).map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /v1.0/users/${DAN}`]);
    expect(await eventsOf(started.body.id)).toEqual([
      'action.requested',
      'action.accepted',
      'action.snapshot',
      'action.step.started disable-sign-in',
      'action.cancelled',
      'action.step.succeeded disable-sign-in',
    ]);
    await act(responder, contoso, DAN, 'enable', undefined, { Prefer: 'wait=10' }).expect(200);
  });

  it('fails closed between steps: no audit entry for the next start, no call; the action resumes once the log can be written', async () => {
    const db = t.app.get(DataSource);
    const since = sim.journal.lastSeq();
    await db.query(
      `ALTER TABLE audit_pending ADD CONSTRAINT e2e_no_revoke_start CHECK (event <> 'action.step.started' OR data->>'step' <> 'revoke-sessions') NOT VALID`,
    );
    let id: string;
    try {
      id = (await act(responder, contoso, DAN, 'isolate').expect(202)).body.id;
      await new Promise((r) => setTimeout(r, 1500));
      // the disable step's outcome and the next start are one record: neither is written, nothing else is sent
      expect(graphWrites(sim, since).map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /v1.0/users/${DAN}`]);
      const stuck = (await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey))).body;
      expect(stuck.status).toBe('running');
      expect(stuck.steps.map((s: { status: string }) => s.status)).toEqual(['running', 'pending', 'pending']);
    } finally {
      await db.query('ALTER TABLE audit_pending DROP CONSTRAINT e2e_no_revoke_start');
    }
    // the lease (5 s here) lapses and the recovery sweep resumes it: disable is read back as done, not sent again
    const final = await waitFinal(id, 200);
    expect(final.status).toBe('succeeded');
    expect(graphWrites(sim, since).map((w) => `${w.method} ${w.path}`)).toEqual([
      `PATCH /v1.0/users/${DAN}`,
      `POST /v1.0/users/${DAN}/revokeSignInSessions`,
      'POST /v1.0/identityProtection/riskyUsers/confirmCompromised',
    ]);
    expect(final.steps.map((s: { name: string; attempts: number }) => [s.name, s.attempts])).toEqual([
      ['disable-sign-in', 2],
      ['revoke-sessions', 1],
      ['confirm-compromised', 1],
    ]);
    await act(responder, contoso, DAN, 'release', undefined, { Prefer: 'wait=10' }).expect(200);
  });
});
