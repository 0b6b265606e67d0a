/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { DataSource } from 'typeorm';
import type { RunningSimulator } from '../m365-simulator/src';
import { indicatorsOf, type IndicatorRecord } from '../m365-simulator/src/defender';
import { registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Defender for Endpoint custom indicators against the simulator: indicator.submit, indicator.import and
 * indicator.remove as actions of the engine, and the live list — Defender's side read back from the
 * simulator's indicator store, roles, dry run, idempotency, validation, the tenant's limit and Microsoft's
 * refusals (microsoft-notes §13).
 */

const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const SHA256 = '275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F';
const SHA1 = '220e7d15b011d7fac48f2bd61114db1022197f7f';
const DAY = 86_400_000;
/** Cordon's limit of active indicators in this suite (CORDON_DEFENDER_INDICATOR_LIMIT). */
const LIMIT = 10;

describe('Defender indicators (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;
  let analyst: string;
  let auditor: string;

  beforeAll(async () => {
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5', CORDON_DEFENDER_INDICATOR_LIMIT: String(LIMIT) });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = (await createKey(t, ['responder'])).key;
    analyst = (await createKey(t, ['analyst'])).key;
    auditor = (await createKey(t, ['auditor'])).key;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  /** Defender's side, as the simulator holds it. */
  const store = (): IndicatorRecord[] => indicatorsOf(sim.context.tenants.get(CONTOSO_TID)!);
  const held = (type: string, value: string) => store().filter((i) => i.indicatorType === type && i.indicatorValue.toLowerCase() === value.toLowerCase());
  const wait = { Prefer: 'wait=10' };
  const submit = (key: string, body: Record<string, unknown>, headers: Record<string, string> = wait) =>
    t.http
      .post(`/v1/tenants/${contoso}/indicators`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const importing = (key: string, body: Record<string, unknown>, headers: Record<string, string> = wait) =>
    t.http
      .post(`/v1/tenants/${contoso}/indicators/import`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  const remove = (key: string, id: string, body: Record<string, unknown> = { reason: 'INC-30: false positive' }, headers: Record<string, string> = wait) =>
    t.http
      .delete(`/v1/tenants/${contoso}/indicators/${id}`)
      .set({ ...bearer(key), ...headers })
      .send(body);
  /** Defender writes since `since` (method and path). */
  const writes = (since: number) =>
    sim.journal
      .list({ host: 'defender', since })
      .filter((e) => e.method !== 'GET')
      .map((e) => `${e.method} ${e.path}`);
  const actionCount = async () =>
    Number((await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM actions WHERE tenant_id = $1 AND type LIKE 'indicator.%'`, [contoso]))[0].n);
  const block = (overrides: Record<string, unknown> = {}) => ({
    reason: 'INC-30: dropper seen on ws-001',
    ticket: 'INC-30',
    type: 'FileSha256',
    value: SHA256,
    action: 'Block',
    title: 'INC-30 dropper',
    ...overrides,
  });

  it('registers the indicators capability from the token roles', async () => {
    const caps = (await t.http.get(`/v1/tenants/${contoso}/capabilities`).set(bearer(t.adminKey)).expect(200)).body.capabilities;
    expect(caps.find((c: any) => c.capability === 'indicators')).toMatchObject({ status: 'available' });
  });

  it('submits an indicator as responder; the same type and value again updates that one indicator', async () => {
    const since = sim.journal.lastSeq();
    const res = await submit(responder, block({ severity: 'High' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'indicator.submit',
      status: 'succeeded',
      target: { requested: `FileSha256:${SHA256.toLowerCase()}`, display: `FileSha256 ${SHA256.toLowerCase()}` },
      steps: [{ name: 'submit-indicator', status: 'succeeded', detail: { verified: true, created: true } }],
    });
    const id = res.body.result.indicator.id;
    expect(res.body.result.indicator).toMatchObject({ id: expect.stringMatching(/^\d+$/), created: true, action: 'Block' });
    const [indicator] = held('FileSha256', SHA256);
    expect(indicator).toMatchObject({
      id,
      indicatorValue: SHA256.toLowerCase(),
      action: 'Block',
      severity: 'High',
      title: 'INC-30 dropper',
      description: 'INC-30: dropper seen on ws-001',
      application: 'Cordon',
    });
    // 90 days by default (microsoft-notes M46)
    expect(Math.abs(Date.parse(indicator.expirationTime!) - (Date.now() + 90 * DAY))).toBeLessThan(60_000);
    expect(writes(since)).toEqual(['POST /api/indicators']);

    const again = await submit(responder, block({ value: SHA256.toLowerCase(), action: 'Warn', expiresAt: new Date(Date.now() + 7 * DAY).toISOString() }));
    expect(again.body).toMatchObject({ status: 'succeeded', target: { id }, result: { indicator: { id, created: false, action: 'Warn' } } });
    expect(again.body.steps[0].detail.summary).toContain(`updated indicator ${id}`);
    expect(held('FileSha256', SHA256)).toEqual([expect.objectContaining({ id, action: 'Warn' })]);
  });

  it('enforces roles: an analyst waits for approval, an auditor is refused; nothing reaches Defender before the approval', async () => {
    const since = sim.journal.lastSeq();
    expectProblem(await submit(auditor, block({ type: 'DomainName', value: 'evil.example' })), 403, 'forbidden');
    expectProblem(await importing(auditor, { reason: 'x', indicators: [block()] }), 403, 'forbidden');
    expectProblem(await remove(auditor, '1'), 403, 'forbidden');
    const requested = await submit(analyst, block({ type: 'DomainName', value: 'bücher.example', action: 'Warn' }));
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('awaiting_approval');
    expect(writes(since)).toEqual([]);
    expect(held('DomainName', 'xn--bcher-kva.example')).toEqual([]);
    const approved = await t.http.post(`/v1/actions/${requested.body.id}/approve`).set({ ...bearer(responder), ...wait });
    expect(approved.body.status).toBe('succeeded');
    // An IDN domain goes to Defender in punycode.
    expect(held('DomainName', 'xn--bcher-kva.example')).toEqual([expect.objectContaining({ action: 'Warn' })]);
  });

  it('dry run plans the indicator and changes nothing', async () => {
    const since = sim.journal.lastSeq();
    const count = store().length;
    const res = await submit(responder, block({ type: 'Url', value: 'https://evil.example/payload', dryRun: true }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, result: { plan: [{ step: 'submit-indicator', changes: true }] } });
    expect(res.body.result.plan[0].wouldChange).toMatch(/^creates a Block indicator for Url https:\/\/evil\.example\/payload/);
    expect(writes(since)).toEqual([]);
    expect(store()).toHaveLength(count);
  });

  it('replays a request with the same Idempotency-Key without sending anything new', async () => {
    const headers = { 'Idempotency-Key': 'indicator-playbook-1', ...wait };
    const since = sim.journal.lastSeq();
    const body = block({ type: 'IpAddress', value: '203.0.113.66', action: 'Block', generateAlert: true });
    const first = await submit(responder, body, headers);
    expect(first.body.status).toBe('succeeded');
    const replay = await submit(responder, body, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(writes(since)).toEqual(['POST /api/indicators']);
    expectProblem(await submit(responder, { ...body, action: 'Warn' }, headers), 409, 'idempotency-key-reused');
    expect(writes(since)).toEqual(['POST /api/indicators']);
  });

  it('refuses bad values per type, retired actions and bad expiries with 400 naming the field; nothing is recorded or sent', async () => {
    const since = sim.journal.lastSeq();
    const count = await actionCount();
    const badValues: Array<[string, string]> = [
      ['FileSha1', SHA256],
      ['FileSha256', 'z'.repeat(64)],
      ['FileMd5', 'abc'],
      ['CertificateThumbprint', '12345'],
      ['IpAddress', '203.0.113.0/24'],
      ['IpAddress', '10.0.0.5'],
      ['IpAddress', '300.1.1.1'],
      ['DomainName', 'https://evil.example/'],
      ['Url', 'ftp://evil.example/x'],
    ];
    for (const [type, value] of badValues) {
      const res = await submit(responder, block({ type, value }));
      expectProblem(res, 400, 'validation-failed');
      expect({ type, value, fields: res.body.errors.map((e: any) => e.field) }).toEqual({ type, value, fields: ['value'] });
    }
    const alert = await submit(responder, block({ action: 'AlertAndBlock' }));
    expect(alert.body.errors).toEqual([{ field: 'action', message: expect.stringContaining('`Block` with `generateAlert: true`') }]);
    const audit = await submit(responder, block({ action: 'Audit' }));
    expect(audit.body.errors.map((e: any) => e.field)).toEqual(['generateAlert']);
    const past = await submit(responder, block({ expiresAt: '2020-01-01T00:00:00Z' }));
    expect(past.body.errors).toEqual([{ field: 'expiresAt', message: 'must be in the future' }]);
    const far = await submit(responder, block({ expiresAt: new Date(Date.now() + 400 * DAY).toISOString() }));
    expect(far.body.errors.map((e: any) => e.field)).toEqual(['expiresAt']);
    expectProblem(await submit(responder, block({ severity: 'Critical' })), 400, 'validation-failed');
    const badItem = await importing(responder, {
      reason: 'x',
      indicators: [
        { type: 'FileSha1', value: SHA1, action: 'Block', title: 'ok' },
        { type: 'FileSha1', value: SHA1, action: 'Block', title: 'twice' },
        { type: 'FileSha1', value: SHA1, action: 'Block', title: 'ok' },
        { type: 'Url', value: 'javascript:alert(1)', action: 'Block', title: 'bad' },
      ],
    });
    expectProblem(badItem, 400, 'validation-failed');
    expect(badItem.body.errors.map((e: any) => e.field)).toEqual(['indicators[3].value']);
    const duplicate = await importing(responder, {
      reason: 'x',
      indicators: [
        { type: 'FileSha1', value: SHA1, action: 'Block', title: 'a' },
        { type: 'FileSha1', value: SHA1.toUpperCase(), action: 'Warn', title: 'b' },
      ],
    });
    expect(duplicate.body.errors).toEqual([{ field: 'indicators[1].value', message: expect.stringContaining('repeats indicators[0]') }]);
    const tooMany = await importing(responder, { reason: 'x', indicators: Array.from({ length: 501 }, () => ({})) });
    expect(tooMany.body.errors.map((e: any) => e.field)).toEqual(['indicators']);
    expect(await actionCount()).toBe(count);
    expect(writes(since)).toEqual([]);
  });

  it('imports a batch in one call and reports each item: created, updated, or failed with Microsoft’s reason', async () => {
    // Defender holds fewer than Cordon allows: its own limit refuses the second new item inside the 200.
    const tenant = sim.context.tenants.get(CONTOSO_TID)!;
    tenant.indicatorLimit = store().length + 1;
    const since = sim.journal.lastSeq();
    const res = await importing(responder, {
      reason: 'INC-31: IOCs from the sandbox',
      indicators: [
        { type: 'FileSha256', value: SHA256, action: 'Block', title: 'update' },
        { type: 'FileSha1', value: SHA1, action: 'Audit', generateAlert: true, title: 'new one' },
        { type: 'Url', value: 'https://evil.example/stage2', action: 'Block', title: 'over the limit' },
      ],
    });
    delete tenant.indicatorLimit;
    expect(res.status).toBe(200);
    // A failed item is not hidden: the action is partially_succeeded (verified false).
    expect(res.body.status).toBe('partially_succeeded');
    expect(writes(since)).toEqual(['POST /api/indicators/import']);
    expect(res.body.result.indicators).toEqual([
      { type: 'FileSha256', value: SHA256.toLowerCase(), outcome: 'updated', id: held('FileSha256', SHA256)[0].id },
      { type: 'FileSha1', value: SHA1, outcome: 'created', id: held('FileSha1', SHA1)[0].id },
      { type: 'Url', value: 'https://evil.example/stage2', outcome: 'failed', id: null, failureReason: expect.stringContaining('limit') },
    ]);
    expect(res.body.steps[0].detail).toMatchObject({ verified: false, created: 1, updated: 1, failed: 1 });
    expect(held('FileSha256', SHA256)[0].action).toBe('Block');
    expect(held('Url', 'https://evil.example/stage2')).toEqual([]);
  });

  it('lists the indicators live from Defender, keyset-paged, filtered by type, action and expiry', async () => {
    expectProblem(await t.http.get(`/v1/tenants/${contoso}/indicators`).set(bearer(auditor)), 403, 'forbidden');
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.http
        .get(`/v1/tenants/${contoso}/indicators?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(analyst))
        .expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.map((i) => i.id)).toEqual(store().map((i) => i.id));
    expect(all[0]).toMatchObject({ type: 'FileSha256', value: SHA256.toLowerCase(), action: 'Block', expired: false, title: 'update' });

    const ips = await t.http.get(`/v1/tenants/${contoso}/indicators?type=IpAddress`).set(bearer(analyst)).expect(200);
    expect(ips.body.items.map((i: any) => i.value)).toEqual(['203.0.113.66']);
    const warn = await t.http.get(`/v1/tenants/${contoso}/indicators?action=Warn`).set(bearer(analyst)).expect(200);
    expect(warn.body.items.map((i: any) => i.type)).toEqual(['DomainName']);

    // One expires (Defender's side): the expiry filter follows expirationTime.
    held('IpAddress', '203.0.113.66')[0].expirationTime = new Date(Date.now() - 60_000).toISOString();
    const expired = await t.http.get(`/v1/tenants/${contoso}/indicators?expired=true`).set(bearer(responder)).expect(200);
    expect(expired.body.items.map((i: any) => [i.value, i.expired])).toEqual([['203.0.113.66', true]]);
    const live = await t.http.get(`/v1/tenants/${contoso}/indicators?expired=false&limit=100`).set(bearer(responder)).expect(200);
    expect(live.body.items).toHaveLength(store().length - 1);
    expectProblem(await t.http.get(`/v1/tenants/${contoso}/indicators?expired=maybe`).set(bearer(analyst)), 400, 'validation-failed');
  });

  it('removes an indicator as responder; a 404 when the step runs counts as already removed', async () => {
    const [ip] = held('IpAddress', '203.0.113.66');
    const since = sim.journal.lastSeq();
    const res = await remove(responder, ip.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'indicator.remove',
      status: 'succeeded',
      target: { id: ip.id, display: 'IpAddress 203.0.113.66' },
      steps: [{ name: 'remove-indicator', status: 'succeeded', detail: { alreadyRemoved: false } }],
    });
    expect(writes(since)).toEqual([`DELETE /api/indicators/${ip.id}`]);
    expect(store().find((i) => i.id === ip.id)).toBeUndefined();
    // Gone already: the resolution says so, nothing is sent.
    const unknown = await remove(responder, ip.id);
    expect(unknown.body).toMatchObject({ status: 'failed', error: { code: 'target-not-found' } });

    // An analyst's removal waits for approval; someone deletes the indicator in the portal meanwhile.
    const [domain] = held('DomainName', 'xn--bcher-kva.example');
    const requested = await remove(analyst, domain.id);
    expect(requested.body.status).toBe('awaiting_approval');
    store().splice(store().indexOf(domain), 1);
    const approved = await t.http.post(`/v1/actions/${requested.body.id}/approve`).set({ ...bearer(responder), ...wait });
    expect(approved.body).toMatchObject({ status: 'succeeded', steps: [{ detail: { alreadyRemoved: true } }] });
    expect(approved.body.steps[0].detail.summary).toContain('already removed: Defender answered 404');
    expectProblem(await remove(responder, 'abc'), 400, 'validation-failed');
  });

  it('refuses a new indicator when the tenant is at its limit, before calling Defender; updates still go through', async () => {
    const missing = LIMIT - store().length;
    const fill = Array.from({ length: missing }, (_, i) => ({ type: 'FileMd5', value: i.toString(16).padStart(32, '0'), action: 'Block', title: `fill ${i}` }));
    const filled = await importing(responder, { reason: 'INC-32: fill', indicators: fill });
    expect(filled.body.status).toBe('succeeded');
    expect(store()).toHaveLength(LIMIT);
    const since = sim.journal.lastSeq();
    const refused = await submit(responder, block({ type: 'DomainName', value: 'one-too-many.example' }));
    expect(refused.body).toMatchObject({ status: 'failed', error: { code: 'indicator-limit-reached' } });
    expect(refused.body.error.message).toContain(`limit of ${LIMIT}`);
    const batch = await importing(responder, { reason: 'x', indicators: [{ type: 'DomainName', value: 'one-too-many.example', action: 'Block', title: 'x' }] });
    expect(batch.body).toMatchObject({ status: 'failed', error: { code: 'indicator-limit-reached' } });
    const plan = await submit(responder, block({ type: 'DomainName', value: 'one-too-many.example', dryRun: true }));
    expect(plan.body.result.plan[0]).toMatchObject({ changes: false, wouldChange: expect.stringContaining('limit') });
    expect(writes(since)).toEqual([]);
    expect(store()).toHaveLength(LIMIT);
    const update = await submit(responder, block({ action: 'Allowed' }));
    expect(update.body.status).toBe('succeeded');
    expect(held('FileSha256', SHA256)[0].action).toBe('Allowed');
  });

  it('surfaces Microsoft’s refusal with its code and reason', async () => {
    sim.faults.add({
      host: 'defender',
      method: 'POST',
      pathPattern: '/api/indicators',
      times: 2, // a missing permission refuses the renewed token too (MicrosoftHttp renews a token older than a minute once on 403)
      status: 403,
      body: { error: { code: 'Forbidden', message: 'The application does not have any of the required application roles', target: 'x' } },
    });
    const res = await submit(responder, block({ action: 'Warn' }));
    sim.faults.clear();
    expect(res.body.status).toBe('failed');
    expect(res.body.steps[0].error).toMatchObject({ code: 'permission-missing', status: 403, message: expect.stringContaining('Ti.ReadWrite.All') });
    expect(held('FileSha256', SHA256)[0].action).toBe('Allowed');
  });
});
