import { randomUUID } from 'node:crypto';
import { isLoopbackAddress } from '../src/control';
import { globToRegExp } from '../src/faults';
import { Router } from '../src/router';
import { startSimulator, type RunningSimulator } from '../src/index';
import { SimError, type SimRequest } from '../src/types';
import { appToken, client, request } from './helpers';

/** The core: routing, host error shapes, headers, faults, journal, clock, control routes, requireToken. */

let sim: RunningSimulator;
let http: ReturnType<typeof client>;
const contoso = () => sim.tenants[0];

beforeAll(async () => {
  sim = await startSimulator({ quiet: true });
  http = client(sim);
});
afterAll(() => sim.stop());
afterEach(async () => {
  await http.del(`${sim.baseUrls.login}/_sim/faults`);
});

describe('router', () => {
  const h = () => ({ status: 200 });
  const router = new Router([
    { host: 'graph', method: 'GET', pattern: '/v1.0/users/:id', handler: h },
    { host: 'graph', method: 'GET', pattern: '/v1.0/users/delta', handler: h },
    { host: 'graph', method: 'PATCH', pattern: '/v1.0/users/:id', handler: h },
    { host: 'graph', method: 'GET', pattern: '/files/*', handler: h },
  ]);
  it('matches literals case-insensitively and decodes parameters', () => {
    expect(router.match('graph', 'GET', '/V1.0/Users/alice%40contoso.com')).toMatchObject({ kind: 'found', params: { id: 'alice@contoso.com' } });
  });
  it('prefers the more literal pattern', () => {
    const m = router.match('graph', 'GET', '/v1.0/users/delta');
    expect(m.kind === 'found' && m.route.pattern).toBe('/v1.0/users/delta');
  });
  it('tells a wrong method from an unknown path, and captures a rest segment', () => {
    expect(router.match('graph', 'DELETE', '/v1.0/users/x')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'PATCH'] });
    expect(router.match('graph', 'GET', '/v1.0/groups')).toEqual({ kind: 'not-found' });
    expect(router.match('manage', 'GET', '/v1.0/users/x')).toEqual({ kind: 'not-found' });
    expect(router.match('graph', 'GET', '/files/a/b%20c')).toMatchObject({ params: { '*': 'a/b c' } });
  });
});

describe('host error shapes and headers', () => {
  it('answers unknown paths with 404 in each host’s shape', async () => {
    const graph = await http.get(`${sim.baseUrls.graph}/nothing-here`, { headers: { 'client-request-id': 'my-id' } });
    expect(graph.status).toBe(404);
    expect(graph.json.error).toEqual({
      code: expect.any(String),
      message: expect.any(String),
      innerError: {
        date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/),
        'request-id': graph.headers['request-id'],
        'client-request-id': 'my-id',
      },
    });
    expect(graph.headers['client-request-id']).toBe('my-id');
    const manage = await http.get(`${sim.baseUrls.manage}/nothing-here`);
    expect(manage.status).toBe(404);
    expect(Object.keys(manage.json.error)).toEqual(['code', 'message']);
    const mde = await http.get(`${sim.baseUrls.defender}/nothing-here`);
    expect(mde.status).toBe(404);
    expect(mde.json.error).toEqual({ code: expect.any(String), message: expect.any(String), target: expect.any(String) });
    const login = await http.get(`${sim.baseUrls.login}/nothing/here/at/all`);
    expect(login.status).toBe(404);
    expect(login.json).toMatchObject({
      error: expect.any(String),
      error_codes: [expect.any(Number)],
      error_description: expect.stringMatching(/^AADSTS\d+: /),
    });
  });

  it('sends Date from the simulated clock, JSON with charset, and Graph’s request-id headers', async () => {
    const before = sim.clock.now();
    const res = await http.get(`${sim.baseUrls.login}/common/discovery/v2.0/keys`);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Math.abs(Date.parse(res.headers.date as string) - before.getTime())).toBeLessThan(5000);
    expect(res.headers['request-id']).toBeUndefined();
    const g = await http.get(`${sim.baseUrls.graph}/v1.0/users`);
    expect(g.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(g.headers['client-request-id']).toBe(g.headers['request-id']);
  });
});

describe('fault injection', () => {
  it('answers the next N matching calls with a canned response, then routes normally', async () => {
    const add = await http.post(`${sim.baseUrls.manage}/_sim/faults`, {
      body: {
        host: 'login',
        method: 'GET',
        pathPattern: '/common/discovery/*',
        times: 2,
        status: 503,
        headers: { 'Retry-After': '7' },
        body: { error: { code: 'ServiceUnavailable', message: 'try later' } },
      },
    });
    expect(add.status).toBe(201);
    const url = `${sim.baseUrls.login}/common/discovery/v2.0/keys`;
    const a = await http.get(url);
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('7');
    expect(a.json).toEqual({ error: { code: 'ServiceUnavailable', message: 'try later' } });
    expect((await http.get(url)).status).toBe(503);
    expect((await http.get(url)).status).toBe(200);
    expect((await http.get(`${sim.baseUrls.login}/_sim/faults`)).json.faults).toEqual([]);
  });

  it('matches regular expressions and hosts, and leaves other hosts alone', async () => {
    const added = await http.post(`${sim.baseUrls.login}/_sim/faults`, {
      body: { host: 'graph', pathPattern: '^/v1\\.0/users', status: 429, headers: { 'retry-after': '1' }, times: 0 },
    });
    expect((await http.get(`${sim.baseUrls.graph}/v1.0/users/x`)).status).toBe(429);
    expect((await http.get(`${sim.baseUrls.graph}/V1.0/USERS`)).status).toBe(429);
    expect((await http.get(`${sim.baseUrls.graph}/v1.0/users`)).status).toBe(429); // until removed
    expect((await http.del(`${sim.baseUrls.login}/_sim/faults/${added.json.faults[0].id}`)).status).toBe(204);
    expect((await http.get(`${sim.baseUrls.graph}/v1.0/users`)).status).not.toBe(429);
    expect((await http.get(`${sim.baseUrls.login}/common/discovery/v2.0/keys`)).status).toBe(200);
  });

  it('adds latency', async () => {
    sim.faults.add({ host: 'login', pathPattern: '/common/discovery/v2.0/keys', latencyMs: 300 });
    const started = Date.now();
    const res = await http.get(`${sim.baseUrls.login}/common/discovery/v2.0/keys`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection', async () => {
    sim.faults.add({ pathPattern: '/common/discovery/*', drop: true });
    await expect(http.get(`${sim.baseUrls.login}/common/discovery/v2.0/keys`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.journal.list({ path: '/common/discovery' }).pop()).toMatchObject({ status: 0, fault: 'drop' });
  });

  it('rejects invalid fault specs with 400', async () => {
    expect((await http.post(`${sim.baseUrls.login}/_sim/faults`, { body: { pathPattern: '/x' } })).status).toBe(400);
    expect((await http.post(`${sim.baseUrls.login}/_sim/faults`, { body: { status: 500 } })).status).toBe(400);
  });

  it('globs: * spans segments, ? one character, everything else literal', () => {
    expect(globToRegExp('/api/*/x?z').test('/API/a/b/xyz')).toBe(true);
    expect(globToRegExp('/a.b').test('/aXb')).toBe(false);
  });
});

describe('journal', () => {
  it('records requests with the authorization header reduced to scheme, aud and appid', async () => {
    await http.del(`${sim.baseUrls.graph}/_sim/journal`);
    const token = await appToken(sim, 'https://manage.office.com/.default');
    await http.get(`${sim.baseUrls.manage}/api/v1.0/${contoso().tenantId}/activity/feed/subscriptions/list?PublisherIdentifier=${contoso().tenantId}`, {
      token,
      headers: { prefer: 'x', 'client-request-id': 'c-1' },
    });
    const res = await http.get(`${sim.baseUrls.defender}/_sim/journal?host=manage&method=GET&path=subscriptions`);
    const entry = res.json.entries.at(-1);
    expect(entry).toMatchObject({
      host: 'manage',
      method: 'GET',
      path: `/api/v1.0/${contoso().tenantId}/activity/feed/subscriptions/list`,
      query: `PublisherIdentifier=${contoso().tenantId}`,
      status: 200,
      headers: { authorization: `Bearer (aud=https://manage.office.com, appid=${contoso().clientId})`, prefer: 'x', 'client-request-id': 'c-1' },
    });
    expect(JSON.stringify(res.json)).not.toContain(token);
    const token2 = await appToken(sim, 'https://graph.microsoft.com/.default');
    const login = (await http.get(`${sim.baseUrls.login}/_sim/journal?host=login`)).json.entries.at(-1);
    expect(login.body).toContain('client_secret=(redacted)');
    expect(login.body).not.toContain(contoso().clientSecret);
    expect(token2).toBeTruthy();
    const since = (await http.get(`${sim.baseUrls.login}/_sim/journal?since=${res.json.lastSeq}`)).json.entries;
    expect(since.every((e: { seq: number }) => e.seq > res.json.lastSeq)).toBe(true);
    expect((await http.del(`${sim.baseUrls.login}/_sim/journal`)).status).toBe(204);
    expect((await http.get(`${sim.baseUrls.login}/_sim/journal`)).json.entries).toEqual([]);
  });
});

describe('clock and state control routes', () => {
  it('advances the simulated clock', async () => {
    const before = (await http.get(`${sim.baseUrls.graph}/_sim/clock`)).json;
    const after = (await http.post(`${sim.baseUrls.graph}/_sim/clock/advance`, { body: { seconds: 90 } })).json;
    expect(after.offsetMs - before.offsetMs).toBe(90_000);
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(90_000);
    expect((await http.post(`${sim.baseUrls.graph}/_sim/clock/advance`, { body: { ms: -1 } })).status).toBe(400);
  });

  it('reads and patches users by id or UPN', async () => {
    const t = contoso().tenantId;
    const byUpn = await http.get(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/users/ALICE@contoso.example`);
    expect(byUpn.json).toMatchObject({ displayName: 'Alice Example', accountEnabled: true });
    const patched = await http.patch(`${sim.baseUrls.graph}/_sim/state/tenants/contosodemo.onmicrosoft.com/users/${byUpn.json.id}`, {
      body: { accountEnabled: false },
    });
    expect(patched.json.accountEnabled).toBe(false);
    expect(sim.context.findTenant(t)!.users.find((u) => u.id === byUpn.json.id)!.accountEnabled).toBe(false);
    await http.patch(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/users/${byUpn.json.id}`, { body: { accountEnabled: true } });
    expect((await http.patch(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/users/${byUpn.json.id}`, { body: { id: 'x' } })).status).toBe(400);
    expect((await http.get(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/users/nobody@x`)).status).toBe(404);
  });

  it('reads devices by id or name; an ambiguous name is a 409', async () => {
    const t = contoso().tenantId;
    expect((await http.get(`${sim.baseUrls.defender}/_sim/state/tenants/${t}/devices/ws-001.contoso.example`)).json.id).toBe(
      '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
    );
    const d = await http.patch(`${sim.baseUrls.defender}/_sim/state/tenants/${t}/devices/6ea0b4c2d968cc2ce57b7e87d96dc57ad9c5bb5c`, { body: { online: true } });
    expect(d.json.online).toBe(true);
    await http.post(`${sim.baseUrls.defender}/_sim/state/tenants/${t}/records`, { body: { devices: [{ computerDnsName: 'ws-001.contoso.example' }] } });
    expect((await http.get(`${sim.baseUrls.defender}/_sim/state/tenants/${t}/devices/ws-001.contoso.example`)).status).toBe(409);
  });

  it('adds records at runtime', async () => {
    const t = contoso().tenantId;
    const before = sim.context.findTenant(t)!.alerts.length;
    const res = await http.post(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/records`, {
      body: { alerts: [{ id: 'new-alert' }], auditRecords: [{ Id: randomUUID(), CreationTime: '2025-01-01T00:00:00' }] },
    });
    expect(res.status).toBe(201);
    expect(res.json.added).toEqual({ alerts: 1, auditRecords: 1 });
    expect(sim.context.findTenant(t)!.alerts.length).toBe(before + 1);
    expect((await http.post(`${sim.baseUrls.graph}/_sim/state/tenants/${t}/records`, { body: { nonsense: [] } })).status).toBe(400);
  });

  it('serves control routes only to loopback callers', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', 'fe80::1', '', undefined]) expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('requireToken', () => {
  const fakeReq = (token?: string): SimRequest => ({
    host: 'graph',
    method: 'GET',
    path: '/x',
    query: new URLSearchParams(),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    rawBody: Buffer.alloc(0),
    body: undefined,
    params: {},
    remoteAddress: '127.0.0.1',
    baseUrl: '',
    requestId: 'req-1',
  });
  const thrown = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof SimError) return e.response as { status: number; body: { error: Record<string, unknown> }; headers?: Record<string, string> };
      throw e;
    }
    throw new Error('did not throw');
  };

  it('Graph: 401 InvalidAuthenticationToken; missing role 403 Authorization_RequestDenied', async () => {
    const r = thrown(() => sim.context.requireToken(fakeReq(), 'graph'));
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token is empty.', innerError: { 'request-id': 'req-1' } });
    expect(r.headers?.['www-authenticate']).toMatch(/^Bearer /);
    const manageToken = await appToken(sim, 'https://manage.office.com/.default');
    expect(thrown(() => sim.context.requireToken(fakeReq(manageToken), 'graph')).body.error.message).toMatch(/Invalid audience/);
    const graphToken = await appToken(sim, 'https://graph.microsoft.com/.default');
    const ok = sim.context.requireToken(fakeReq(graphToken), 'graph', ['User.Read.All', 'User.ReadWrite.All']);
    expect(ok.app?.clientId).toBe(contoso().clientId);
    const denied = thrown(() => sim.context.requireToken(fakeReq(graphToken), 'graph', ['Directory.ReadWrite.All']));
    expect(denied).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
    });
    const sim2Url = `${sim.baseUrls.graph}/.default`;
    expect(sim.context.requireToken(fakeReq(await appToken(sim, sim2Url)), 'graph').audience).toBe(sim.baseUrls.graph);
  });

  it('Defender: a token for another audience (incl. api.security.microsoft.com) is a 403, not a 401 (microsoft-notes M16)', async () => {
    const xdr = await appToken(sim, 'https://api.security.microsoft.com/.default');
    expect(thrown(() => sim.context.requireToken(fakeReq(xdr), 'defender'))).toMatchObject({
      status: 403,
      body: { error: { code: 'Forbidden', target: 'req-1' } },
    });
    expect(thrown(() => sim.context.requireToken(fakeReq('garbage'), 'defender'))).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized' } } });
    const mde = await appToken(sim, 'https://api.securitycenter.microsoft.com/.default');
    expect(sim.context.requireToken(fakeReq(mde), 'defender', ['Machine.Isolate']).roles).toContain('Machine.Isolate');
    expect(thrown(() => sim.context.requireToken(fakeReq(mde), 'defender', ['Ti.ReadWrite']))).toMatchObject({
      status: 403,
      body: { error: { code: 'Forbidden' } },
    });
  });

  it('rejects expired tokens against the simulated clock, and tampered signatures', async () => {
    const graphToken = await appToken(sim, 'https://graph.microsoft.com/.default');
    const [h, p] = graphToken.split('.');
    const other = (await appToken(sim, 'https://manage.office.com/.default')).split('.')[2];
    expect(thrown(() => sim.context.requireToken(fakeReq(`${h}.${p}.${other}`), 'graph')).status).toBe(401);
    sim.clock.advance(3600 * 1000);
    expect(thrown(() => sim.context.requireToken(fakeReq(graphToken), 'graph')).body.error.message).toBe('Lifetime validation failed, the token is expired.');
  });

  it('accepts user (delegated) tokens with their roles and scopes', () => {
    const user = sim.mintUserToken({ tenantId: contoso().tenantId, audience: 'https://graph.microsoft.com', scp: 'User.Read.All' });
    const v = sim.context.requireToken(fakeReq(user.access_token), 'graph', ['User.Read.All']);
    expect(v.app).toBeUndefined();
  });
});

describe('control routes over HTTP', () => {
  it('GET /_sim/info tells base URLs and tenants', async () => {
    const res = await request(sim.caCertPem, `${sim.baseUrls.manage}/_sim/info`);
    expect(res.json).toMatchObject({
      baseUrls: sim.baseUrls,
      caCertPath: sim.caCertPath,
      tenants: [{ tenantId: contoso().tenantId }, { displayName: 'Fabrikam Basic' }],
    });
  });
});
