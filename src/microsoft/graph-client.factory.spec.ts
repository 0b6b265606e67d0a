import { CapturingLogger } from '../../test/support/capturing-logger';
import { startSimulator, type RunningSimulator } from '../../test/m365-simulator/src';
import { Clouds, ForeignHostError } from './clouds';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { GraphClientFactory, type TenantGraphClient } from './graph-client.factory';
import { HttpsTransport } from './https-transport';
import { MicrosoftApiError, MicrosoftAuthError } from './microsoft-errors';
import type { TenantCredentials } from './tenant-credentials';
import { TokenProvider } from './token-provider';

/** Graph through the factory, against the simulator's Graph over real HTTPS. */

interface User {
  id: string;
  userPrincipalName: string;
}

let sim: RunningSimulator;
let clouds: Clouds;
let transport: HttpsTransport;
let tenant: TenantCredentials;
let tokens: TokenProvider;
let graph: TenantGraphClient;
let sleeps: number[];
const logger = new CapturingLogger();

beforeAll(async () => {
  sim = await startSimulator({ quiet: true });
  clouds = new Clouds(sim.baseUrls);
  transport = new HttpsTransport({ caPem: sim.caCertPem });
  const demo = sim.tenants[0];
  tenant = { tenantId: demo.tenantId, clientId: demo.clientId, cloud: 'global', credential: { type: 'secret', secret: demo.clientSecret! } };
});
afterAll(async () => {
  transport.close();
  await sim.stop();
});
beforeEach(() => {
  sleeps = [];
  tokens = new TokenProvider({ clouds, transport, timeoutMs: 5000, logger });
  const factory = new GraphClientFactory({
    clouds,
    tokens,
    transport,
    limiter: new ConcurrencyLimiter(4),
    timeoutMs: 5000,
    maxRetries: 2,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
    logger,
  });
  graph = factory.forTenant(tenant);
});
afterEach(() => sim.faults.clear());

const since = () => sim.journal.lastSeq();
const graphRequests = (from: number) => sim.journal.list({ since: from, host: 'graph' });
/** Requests to the Microsoft APIs (a token fetched from the login host goes nowhere else). */
const apiRequests = (from: number) => sim.journal.list({ since: from }).filter((e) => e.host !== 'login');

async function failure<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe('GraphClientFactory', () => {
  it('gets a user from the tenant cloud’s Graph with a Graph token', async () => {
    const from = since();
    const user = await graph.get<User>('/users/alice@contoso.example', { query: { $select: 'id,userPrincipalName,accountEnabled' } });
    expect(user).toMatchObject({ id: '0b7c1e2d-0003-4a00-8000-000000000003', userPrincipalName: 'alice@contoso.example', accountEnabled: true });
    const [entry] = graphRequests(from);
    expect(entry).toMatchObject({ method: 'GET', path: '/v1.0/users/alice@contoso.example' });
    expect(entry.headers.authorization).toBe(`Bearer (aud=${sim.baseUrls.graph}, appid=${tenant.clientId})`);
    expect(entry.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('follows @odata.nextLink through every page', async () => {
    const from = since();
    const users = await graph.all<User>('/users', { query: { $top: 3 } });
    expect(users).toHaveLength(10);
    expect(new Set(users.map((u) => u.id)).size).toBe(10);
    const requests = graphRequests(from);
    expect(requests).toHaveLength(4);
    expect(requests.slice(1).every((e) => /\$skiptoken=/i.test(decodeURIComponent(e.query)))).toBe(true);
  });

  it.each([
    ['a foreign host', 'https://evil.example/v1.0/users?$skiptoken=abc', 'evil.example:443'],
    ['another API of the same cloud (a port that is not Graph)', 'MANAGE/v1.0/users?$skiptoken=abc', 'MANAGE'],
  ])('refuses a nextLink to %s before any request', async (_what, link, host) => {
    const manage = new URL(sim.baseUrls.manage).host;
    const nextLink = link.replace('MANAGE', sim.baseUrls.manage);
    sim.faults.add({ host: 'graph', pathPattern: '/v1.0/users', status: 200, body: { value: [{ id: 'u1' }], '@odata.nextLink': nextLink } });
    const from = since();
    const pages = graph.pages<{ id: string }>('/users');
    expect((await pages.next()).value).toEqual([{ id: 'u1' }]);
    const error = await failure(pages.next(), ForeignHostError);
    expect(error.host).toBe(host.replace('MANAGE', manage));
    expect(apiRequests(from)).toHaveLength(1);
    expect(logger.lines.at(-1)).toContain(error.host);
  });

  it('refuses an absolute URL off the tenant cloud’s Graph before any request', async () => {
    const from = since();
    const error = await failure(graph.get(`${sim.baseUrls.defender}/v1.0/users`), ForeignHostError);
    expect(error.host).toBe(new URL(sim.baseUrls.defender).host);
    expect(apiRequests(from)).toHaveLength(0);
  });

  it('keeps one client-request-id across the retries of a call when the caller gives one', async () => {
    sim.faults.add({
      host: 'graph',
      pathPattern: '/v1.0/users/*',
      status: 503,
      headers: { 'Retry-After': '0' },
      body: { error: { code: 'serviceNotAvailable', message: 'Try later.' } },
    });
    const from = since();
    await graph.get('/users/alice@contoso.example', { clientRequestId: '5f0c2a4e-0000-4000-8000-000000000001' });
    expect(graphRequests(from).map((e) => [e.status, e.headers['client-request-id'], e.headers['retry-attempt']])).toEqual([
      [503, '5f0c2a4e-0000-4000-8000-000000000001', undefined],
      [200, '5f0c2a4e-0000-4000-8000-000000000001', '1'],
    ]);
  });

  it('maps Graph errors, keeping code and innerError request-id (microsoft-notes §6.1)', async () => {
    const missing = await failure(graph.get('/users/nobody@contoso.example'), MicrosoftApiError);
    expect(missing).toMatchObject({ kind: 'not-found', status: 404, code: 'Request_ResourceNotFound', resource: 'graph' });
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.url).toBe(`${sim.baseUrls.graph}/v1.0/users/nobody@contoso.example`);

    // microsoft-notes M13: disabling a Global Administrator needs a directory role the app does not hold.
    const denied = await failure(graph.patch(`/users/breakglass@contosodemo.onmicrosoft.com`, { accountEnabled: false }), MicrosoftApiError);
    expect(denied).toMatchObject({ kind: 'forbidden', status: 403, code: 'Authorization_RequestDenied' });
  });

  it('refreshes the token once on 401', async () => {
    await graph.get('/users/alice@contoso.example');
    sim.clock.advance(2 * 3600_000);
    const from = since();
    await graph.get('/users/alice@contoso.example');
    expect(graphRequests(from).map((e) => e.status)).toEqual([401, 200]);
    expect(sim.journal.list({ since: from, host: 'login', method: 'POST' })).toHaveLength(1);
  });

  it('retries a 429 after Retry-After, then reports throttling when it gives up', async () => {
    sim.faults.add({
      host: 'graph',
      pathPattern: '/v1.0/users/*',
      status: 429,
      headers: { 'Retry-After': '0' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    });
    let from = since();
    await graph.get('/users/alice@contoso.example');
    expect(graphRequests(from).map((e) => [e.status, e.headers['retry-attempt']])).toEqual([
      [429, undefined],
      [200, '1'],
    ]);

    sim.faults.add({
      host: 'graph',
      pathPattern: '/v1.0/users/*',
      status: 429,
      times: 0,
      headers: { 'Retry-After': '0' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    });
    from = since();
    const error = await failure(graph.get('/users/alice@contoso.example'), MicrosoftApiError);
    expect(error).toMatchObject({ kind: 'throttled', status: 429, code: 'TooManyRequests', retryAfterSeconds: 0 });
    expect(graphRequests(from)).toHaveLength(3); // first try + maxRetries (2)
  });

  it('does not repeat a POST after a 504', async () => {
    sim.faults.add({
      host: 'graph',
      method: 'POST',
      pathPattern: '*/revokeSignInSessions',
      status: 504,
      body: { error: { code: 'GatewayTimeout', message: 'timeout' } },
    });
    const from = since();
    const error = await failure(graph.post('/users/bob@contoso.example/revokeSignInSessions', {}), MicrosoftApiError);
    expect(error).toMatchObject({ kind: 'server', status: 504 });
    expect(graphRequests(from)).toHaveLength(1);
  });

  it("retries a GET after a dropped connection (the SDK's RetryHandler did not; microsoft-notes M23)", async () => {
    sim.faults.add({ host: 'graph', pathPattern: '/v1.0/users/*', drop: true });
    const from = since();
    const user = await graph.get<User>('/users/alice@contoso.example');
    expect(user.userPrincipalName).toBe('alice@contoso.example');
    expect(sleeps).toEqual([1000]); // GRAPH_BACKOFF, without jitter here
    expect(graphRequests(from).map((e) => e.fault ?? e.status)).toEqual(['drop', 200]);
  });

  it('reports a refused credential as MicrosoftAuthError, without retrying or calling Graph', async () => {
    const factory = new GraphClientFactory({
      clouds,
      tokens,
      transport,
      limiter: new ConcurrencyLimiter(4),
      timeoutMs: 5000,
      maxRetries: 2,
      sleep: async (ms) => void sleeps.push(ms),
      logger,
    });
    const wrong = factory.forTenant({ ...tenant, credential: { type: 'secret', secret: 'wrong-secret' } });
    const from = since();
    const error = await failure(wrong.get('/users/alice@contoso.example'), MicrosoftAuthError);
    expect(error.codes).toEqual([7000215]);
    expect(sleeps).toEqual([]);
    expect(apiRequests(from)).toHaveLength(0);
  });

  it('never logs the secret', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toContain((tenant.credential as { secret: string }).secret);
  });
});
