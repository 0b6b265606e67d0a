import { PassThrough } from 'node:stream';
import { demoScenario, startSimulator, type RunningSimulator } from '../../test/m365-simulator/src';
import { CapturingLogger } from '../../test/support/capturing-logger';
import type { JournalEntry } from '../../test/m365-simulator/src/journal';
import { Clouds, ForeignHostError } from './clouds';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { HttpsTransport } from './https-transport';
import { MicrosoftHttp, type MicrosoftHttpOptions } from './microsoft-http';
import { MicrosoftApiError } from './microsoft-errors';
import type { TenantCredentials } from './tenant-credentials';
import { TokenProvider } from './token-provider';

/**
 * MicrosoftHttp against the simulator's Management Activity and Defender APIs over real HTTPS:
 * retries and their waits (recorded by an injected sleep), token refresh, errors, the follow-URL
 * rule, the concurrency limit, and logs free of secrets.
 */

const NOW = Date.parse('2026-03-04T10:00:00Z');
const DEVICE = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07'; // ws-001 in the demo tenant

let sim: RunningSimulator;
let clouds: Clouds;
let transport: HttpsTransport;
let tenant: TenantCredentials;
const logger = new CapturingLogger();
const issuedTokens: string[] = [];

beforeAll(async () => {
  const scenario = demoScenario();
  scenario.manage = { ...scenario.manage, pageSize: 2 };
  sim = await startSimulator({ quiet: true, scenario });
  clouds = new Clouds(sim.baseUrls);
  transport = new HttpsTransport({ caPem: sim.caCertPem });
  const demo = sim.tenants[0];
  tenant = { tenantId: demo.tenantId, clientId: demo.clientId, cloud: 'global', credential: { type: 'secret', secret: demo.clientSecret! } };
});
afterAll(async () => {
  transport.close();
  await sim.stop();
});
afterEach(() => sim.faults.clear());

interface Harness {
  http: MicrosoftHttp;
  sleeps: number[];
  tokens: TokenProvider;
  limiter: ConcurrencyLimiter;
}

function harness(over: Partial<MicrosoftHttpOptions> & { concurrency?: number } = {}): Harness {
  const sleeps: number[] = [];
  const tokens = new TokenProvider({ clouds, transport, timeoutMs: 5000, logger });
  const original = tokens.getToken.bind(tokens);
  tokens.getToken = async (t, r) => {
    const token = await original(t, r);
    issuedTokens.push(token);
    return token;
  };
  const limiter = new ConcurrencyLimiter(over.concurrency ?? 4);
  const http = new MicrosoftHttp({
    clouds,
    tokens,
    transport,
    limiter,
    timeoutMs: 5000,
    maxRetries: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
    now: () => NOW,
    logger,
    ...over,
  });
  return { http, sleeps, tokens, limiter };
}

const feed = (op: string) => `/api/v1.0/${tenant.tenantId}/activity/feed/${op}`;
const PUBLISHER = { PublisherIdentifier: '0f0e0d0c-0b0a-4909-8807-060504030201' };
const since = () => sim.journal.lastSeq();
const apiRequests = (from: number, host?: string) => sim.journal.list({ since: from, host }).filter((e) => e.host !== 'login');
const tokenRequests = (from: number) => sim.journal.list({ since: from, host: 'login', method: 'POST' });

async function failure<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe('MicrosoftHttp', () => {
  it('calls the Management Activity API with a manage token and returns body and request id', async () => {
    const { http } = harness();
    const from = since();
    const response = await http.request({ tenant, resource: 'manage', url: feed('subscriptions/list'), query: PUBLISHER });
    expect(response.status).toBe(200);
    expect(Array.isArray(response.body)).toBe(true);
    expect(response.requestId).toEqual(expect.any(String));
    const [entry] = apiRequests(from);
    expect(entry).toMatchObject({ host: 'manage', method: 'GET', query: `PublisherIdentifier=${PUBLISHER.PublisherIdentifier}` });
    expect(entry.headers.authorization).toBe(`Bearer (aud=${sim.baseUrls.manage}, appid=${tenant.clientId})`);
    expect(entry.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('follows NextPageUri verbatim (/api/v1/, microsoft-notes §2.2) and adds only missing query parameters', async () => {
    const { http } = harness();
    await http.request({
      tenant,
      resource: 'manage',
      method: 'POST',
      url: feed('subscriptions/start'),
      query: { contentType: 'Audit.AzureActiveDirectory', ...PUBLISHER },
    });
    const first = await http.request<unknown[]>({
      tenant,
      resource: 'manage',
      url: feed('subscriptions/content'),
      query: { contentType: 'Audit.AzureActiveDirectory', ...PUBLISHER },
    });
    expect(first.body).toHaveLength(2);
    expect(first.nextPageUri).toMatch(new RegExp(`^${sim.baseUrls.manage}/api/v1/`));
    const from = since();
    const second = await http.request<unknown[]>({ tenant, resource: 'manage', url: first.nextPageUri!, query: PUBLISHER });
    expect(second.status).toBe(200);
    const [entry] = apiRequests(from);
    expect(`${sim.baseUrls.manage}${entry.path}?${entry.query}`).toBe(first.nextPageUri);
  });

  it('keeps Microsoft error codes and request ids (Management AF20022, Defender ActiveRequestAlreadyExists)', async () => {
    const { http } = harness();
    const af = await failure(
      http.request({ tenant, resource: 'manage', url: feed('subscriptions/content'), query: { contentType: 'DLP.All', ...PUBLISHER } }),
      MicrosoftApiError,
    );
    expect(af).toMatchObject({ kind: 'bad-request', status: 400, code: 'AF20022', resource: 'manage', attempts: 1 });

    const isolate = {
      tenant,
      resource: 'defender' as const,
      method: 'POST' as const,
      url: `/api/machines/${DEVICE}/isolate`,
      body: { Comment: 'IR-1 containment', IsolationType: 'Full' },
    };
    expect((await http.request(isolate)).status).toBe(201);
    const again = await failure(http.request(isolate), MicrosoftApiError);
    expect(again).toMatchObject({ kind: 'bad-request', status: 400, code: 'ActiveRequestAlreadyExists', attempts: 1 });
    expect(again.requestId).toMatch(/^[0-9a-f-]{36}$/); // Defender's `target` (microsoft-notes §5.5)
    expect(again.message).toContain('Action is already in progress');
  });

  it('refreshes the token once on 401 and tries again', async () => {
    const { http } = harness();
    await http.request({ tenant, resource: 'defender', url: '/api/machines' });
    sim.clock.advance(2 * 3600_000); // the simulator now sees our cached token as expired
    const from = since();
    const response = await http.request({ tenant, resource: 'defender', url: '/api/machines' });
    expect(response.status).toBe(200);
    expect(apiRequests(from).map((e) => e.status)).toEqual([401, 200]);
    expect(tokenRequests(from)).toHaveLength(1);
  });

  it('gives up with unauthorized when the fresh token is refused too', async () => {
    const { http, sleeps } = harness();
    sim.faults.add({ host: 'defender', pathPattern: '/api/machines', status: 401, times: 2, body: { error: { code: 'Unauthorized', message: 'nope' } } });
    const from = since();
    const error = await failure(http.request({ tenant, resource: 'defender', url: '/api/machines' }), MicrosoftApiError);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, code: 'Unauthorized', attempts: 2 });
    expect(apiRequests(from)).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('renews a token older than a minute once on 403 (it may predate a grant), but not a fresh one', async () => {
    let tokenNow = NOW;
    const { http } = harness({ tokens: new TokenProvider({ clouds, transport, timeoutMs: 5000, logger, now: () => tokenNow }) });
    await http.request({ tenant, resource: 'defender', url: '/api/machines' }); // cached now
    const denied = { host: 'defender' as const, pathPattern: '/api/machines', status: 403, times: 1, body: { error: { code: 'Forbidden', message: 'no' } } };
    sim.faults.add(denied);
    let from = since();
    const fresh = await failure(http.request({ tenant, resource: 'defender', url: '/api/machines' }), MicrosoftApiError);
    expect(fresh).toMatchObject({ kind: 'forbidden', status: 403, attempts: 1 });
    expect(tokenRequests(from)).toHaveLength(0);

    tokenNow += 90_000;
    sim.faults.add(denied);
    from = since();
    const response = await http.request({ tenant, resource: 'defender', url: '/api/machines' });
    expect(response.status).toBe(200);
    expect(apiRequests(from).map((e) => e.status)).toEqual([403, 200]);
    expect(tokenRequests(from)).toHaveLength(1);
  });

  it('honours Retry-After in seconds on a Defender 429 (microsoft-notes §5.5)', async () => {
    const { http, sleeps } = harness();
    sim.faults.add({
      host: 'defender',
      pathPattern: '/api/machines',
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { error: { code: 'TooManyRequests', message: 'slow down' } },
    });
    const from = since();
    expect((await http.request({ tenant, resource: 'defender', url: '/api/machines' })).status).toBe(200);
    expect(sleeps).toEqual([7000]);
    expect(apiRequests(from).map((e) => e.status)).toEqual([429, 200]);
  });

  it('honours Retry-After as an HTTP-date on a 503, and caps a long one at 120 s', async () => {
    const { http, sleeps } = harness();
    sim.faults.add({ host: 'manage', pathPattern: '*/subscriptions/list', status: 503, headers: { 'Retry-After': new Date(NOW + 30_000).toUTCString() } });
    sim.faults.add({ host: 'manage', pathPattern: '*/subscriptions/list', status: 503, headers: { 'Retry-After': '3600' } });
    expect((await http.request({ tenant, resource: 'manage', url: feed('subscriptions/list'), query: PUBLISHER })).status).toBe(200);
    expect(sleeps).toEqual([30_000, 120_000]);
  });

  it('backs off on AF429 sent as HTTP 403 without Retry-After (microsoft-notes §2.5, M3)', async () => {
    const { http, sleeps } = harness();
    sim.faults.add({
      host: 'manage',
      pathPattern: '*/subscriptions/list',
      status: 403,
      times: 2,
      body: { error: { code: 'AF429', message: 'Too many requests. Method=ListSubscriptions, PublisherId=x' } },
    });
    const from = since();
    expect((await http.request({ tenant, resource: 'manage', url: feed('subscriptions/list'), query: PUBLISHER })).status).toBe(200);
    expect(sleeps).toEqual([500, 1000]); // exponential back-off, jitter fixed at 0
    expect(apiRequests(from).map((e) => e.status)).toEqual([403, 403, 200]);
  });

  it('gives up after the retry cap with a typed error', async () => {
    const { http, sleeps } = harness();
    sim.faults.add({
      host: 'defender',
      pathPattern: '/api/machines',
      status: 503,
      times: 0,
      headers: { 'Retry-After': '2' },
      body: { error: { code: 'ServiceUnavailable', message: 'down' } },
    });
    const from = since();
    const error = await failure(http.request({ tenant, resource: 'defender', url: '/api/machines' }), MicrosoftApiError);
    expect(error).toMatchObject({ kind: 'server', status: 503, code: 'ServiceUnavailable', retryAfterSeconds: 2, attempts: 4 });
    expect(error.transient).toBe(true);
    expect(sleeps).toEqual([2000, 2000, 2000]);
    expect(apiRequests(from)).toHaveLength(4);
  });

  it('does not repeat a POST action after a 504 or a dropped connection, but does after a 429', async () => {
    const { http, sleeps } = harness();
    const scan = {
      tenant,
      resource: 'defender' as const,
      method: 'POST' as const,
      url: `/api/machines/${DEVICE}/runAntiVirusScan`,
      body: { Comment: 'IR-2', ScanType: 'Quick' },
    };
    sim.faults.add({ host: 'defender', method: 'POST', pathPattern: '*/runAntiVirusScan', status: 504 });
    let from = since();
    expect(await failure(http.request(scan), MicrosoftApiError)).toMatchObject({ kind: 'server', status: 504, attempts: 1 });
    sim.faults.add({ host: 'defender', method: 'POST', pathPattern: '*/runAntiVirusScan', drop: true });
    expect(await failure(http.request(scan), MicrosoftApiError)).toMatchObject({ kind: 'network', status: 0, attempts: 1 });
    expect(apiRequests(from)).toHaveLength(2);
    expect(sleeps).toEqual([]);

    sim.faults.add({ host: 'defender', method: 'POST', pathPattern: '*/runAntiVirusScan', status: 429, headers: { 'Retry-After': '1' } });
    from = since();
    expect((await http.request(scan)).status).toBe(201);
    expect(apiRequests(from).map((e) => e.status)).toEqual([429, 201]);
    expect(sleeps).toEqual([1000]);
  });

  it('retries a GET after a dropped connection and a timeout', async () => {
    const { http, sleeps } = harness({ timeoutMs: 300 });
    sim.faults.add({ host: 'defender', pathPattern: '/api/machines', drop: true });
    sim.faults.add({ host: 'defender', pathPattern: '/api/machines', latencyMs: 1000 });
    const from = since();
    expect((await http.request({ tenant, resource: 'defender', url: '/api/machines' })).status).toBe(200);
    expect(sleeps).toEqual([500, 1000]); // after the drop, then after the timeout
    // The slow request is journaled only when the simulator finishes it, after our third attempt.
    expect(apiRequests(from)[0]).toMatchObject({ fault: 'drop' });
  });

  it('reports a timeout once the retries are spent', async () => {
    const { http } = harness({ timeoutMs: 200, maxRetries: 1 });
    sim.faults.add({ host: 'defender', pathPattern: '/api/machines', latencyMs: 600, times: 2 });
    const error = await failure(http.request({ tenant, resource: 'defender', url: '/api/machines' }), MicrosoftApiError);
    expect(error).toMatchObject({ kind: 'timeout', status: 0, attempts: 2 });
  });

  describe('follow-URL rule', () => {
    it.each([
      ['a foreign host', 'https://evil.example/api/v1/x/activity/feed/subscriptions/content?nextPage=1'],
      ['the right host over http', 'http://localhost/api/v1/x/activity/feed/subscriptions/content'],
    ])('refuses a NextPageUri on %s before any request', async (_what, url) => {
      const { http } = harness();
      const from = since();
      const error = await failure(http.request({ tenant, resource: 'manage', url }), ForeignHostError);
      expect(error.host).toMatch(/^(evil\.example:443|localhost:80)$/);
      expect(sim.journal.list({ since: from })).toHaveLength(0);
      expect(logger.lines.at(-1)).toContain(error.host);
    });

    it('refuses a URL on another Microsoft API of the same cloud (a Graph port for a manage token)', async () => {
      const { http } = harness();
      const from = since();
      await failure(http.request({ tenant, resource: 'manage', url: `${sim.baseUrls.graph}/v1.0/users` }), ForeignHostError);
      expect(sim.journal.list({ since: from })).toHaveLength(0);
    });
  });

  describe('concurrency limit per tenant and API', () => {
    /**
     * Most requests that reached the simulator within any 100 ms: each takes at least 150 ms (latency
     * fault), so with a limit of n no more than n can arrive that close together.
     */
    const peak = (entries: JournalEntry[]) => {
      const arrivals = entries.map((e) => Date.parse(e.time)).sort((a, b) => a - b);
      return Math.max(...arrivals.map((at) => arrivals.filter((other) => other >= at && other < at + 100).length));
    };

    const burst = async (concurrency: number) => {
      const { http, limiter } = harness({ concurrency });
      await http.request({ tenant, resource: 'defender', url: '/api/machines' }); // token in cache
      sim.faults.add({ host: 'defender', pathPattern: '/api/machineactions', latencyMs: 150, times: 0 });
      const from = since();
      let observed = 0;
      const calls = Array.from({ length: 6 }, () =>
        http.request({ tenant, resource: 'defender', url: '/api/machineactions' }).then(() => {
          observed = Math.max(observed, limiter.active(`global|${tenant.tenantId}|${tenant.clientId}|defender`));
        }),
      );
      await Promise.all(calls);
      sim.faults.clear();
      return { peak: peak(apiRequests(from, 'defender')), observed };
    };

    it('holds at the configured number of requests in flight', async () => {
      const limited = await burst(2);
      expect(limited.peak).toBe(2);
      expect(limited.observed).toBeLessThanOrEqual(2);
      const wide = await burst(6);
      expect(wide.peak).toBeGreaterThan(2); // the measurement does see more when more are allowed
    });
  });

  describe('stream (bodies read as they arrive)', () => {
    const lane = () => `global|${tenant.tenantId}|${tenant.clientId}|manage`;
    const read = async (body: AsyncIterable<Buffer>) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      return Buffer.concat(chunks);
    };
    const firstBlob = async (http: MicrosoftHttp) => {
      await http
        .request({ tenant, resource: 'manage', method: 'POST', url: feed('subscriptions/start'), query: { contentType: 'Audit.Exchange', ...PUBLISHER } })
        .catch((e: MicrosoftApiError) => {
          if (e.code !== 'AF20024') throw e; // started by an earlier test
        });
      const listed = await http.request<Array<{ contentUri: string }>>({
        tenant,
        resource: 'manage',
        url: feed('subscriptions/content'),
        query: { contentType: 'Audit.Exchange', ...PUBLISHER },
      });
      return listed.body[0].contentUri;
    };

    it('retries the status line like request (AF429), then hands over the same body, holding its slot until the body is read', async () => {
      const { http, sleeps, limiter } = harness();
      const uri = await firstBlob(http);
      const whole = await http.request({ tenant, resource: 'manage', url: uri, query: PUBLISHER });
      sim.faults.add({
        host: 'manage',
        pathPattern: '*/audit/*',
        status: 403,
        body: { error: { code: 'AF429', message: 'Too many requests. Method=GetBlob' } },
      });
      const from = since();
      const streamed = await http.stream({ tenant, resource: 'manage', url: uri, query: PUBLISHER });
      expect(streamed).toMatchObject({ status: 200, requestId: expect.any(String) });
      expect(sleeps).toEqual([500]);
      expect(apiRequests(from).map((e) => e.status)).toEqual([403, 200]);
      expect(limiter.active(lane())).toBe(1); // the body is still on the wire
      expect(JSON.parse((await read(streamed.body)).toString('utf8'))).toEqual(whole.body);
      expect(limiter.active(lane())).toBe(0);
      streamed.close(); // harmless after the end
      expect(limiter.active(lane())).toBe(0);
    });

    it('maps an error answer like request, without retrying what request would not', async () => {
      const { http, limiter } = harness();
      const uri = await firstBlob(http);
      sim.faults.add({
        host: 'manage',
        pathPattern: '*/audit/*',
        status: 400,
        body: { error: { code: 'AF20051', message: 'Content requested with the key x has already expired.' } },
      });
      const error = await failure(http.stream({ tenant, resource: 'manage', url: uri, query: PUBLISHER }), MicrosoftApiError);
      expect(error).toMatchObject({ kind: 'bad-request', status: 400, code: 'AF20051', attempts: 1 });
      expect(limiter.active(lane())).toBe(0);
    });

    it('releases the slot when the caller closes early', async () => {
      const { http, limiter } = harness();
      const uri = await firstBlob(http);
      const streamed = await http.stream({ tenant, resource: 'manage', url: uri, query: PUBLISHER });
      expect(limiter.active(lane())).toBe(1);
      streamed.close();
      await new Promise((r) => setImmediate(r)); // the limiter hands the slot on in a microtask
      expect(limiter.active(lane())).toBe(0);
      expect((await http.request({ tenant, resource: 'manage', url: uri, query: PUBLISHER })).status).toBe(200); // the agent still works
    });

    /** A transport whose answer's body the test writes (the simulator sends bodies whole). */
    const scriptedTransport = (body: PassThrough) =>
      ({ open: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body }) }) as unknown as HttpsTransport;

    it('fails a body that stalls while the caller waits for it with timeout, but not while the caller is busy', async () => {
      const body = new PassThrough();
      const { http, limiter } = harness({ transport: scriptedTransport(body), timeoutMs: 150 });
      const streamed = await http.stream({ tenant, resource: 'manage', url: feed('subscriptions/list') });
      const chunks = streamed.body[Symbol.asyncIterator]();
      body.write('[1,');
      expect((await chunks.next()).value.toString()).toBe('[1,');
      await new Promise((r) => setTimeout(r, 300)); // the caller busy (storing): not a stall
      body.write('2');
      expect((await chunks.next()).value.toString()).toBe('2');
      const error = await failure(chunks.next(), MicrosoftApiError); // now nothing comes
      expect(error).toMatchObject({ kind: 'timeout', status: 200, resource: 'manage' });
      expect(body.destroyed).toBe(true);
      expect(limiter.active(lane())).toBe(0);
    });

    it('fails a body that breaks off with network', async () => {
      const body = new PassThrough();
      const { http, limiter } = harness({ transport: scriptedTransport(body) });
      const streamed = await http.stream({ tenant, resource: 'manage', url: feed('subscriptions/list') });
      body.write('[{"a":');
      setTimeout(() => body.destroy(new Error('aborted')), 20);
      const error = await failure(read(streamed.body), MicrosoftApiError);
      expect(error).toMatchObject({ kind: 'network', status: 200 });
      expect(error.message).toContain('aborted');
      expect(limiter.active(lane())).toBe(0);
    });
  });

  it('never logs secrets or tokens', () => {
    expect(logger.lines.length).toBeGreaterThan(5);
    const everything = logger.lines.join('\n');
    expect(everything).not.toContain((tenant.credential as { secret: string }).secret);
    expect(issuedTokens.length).toBeGreaterThan(0);
    for (const token of issuedTokens) expect(everything).not.toContain(token);
  });
});
