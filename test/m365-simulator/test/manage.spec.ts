import { startSimulator, type RunningSimulator } from '../src/index';
import { formatCreationTime } from '../src/manage-options';
import { client, request, type HttpResult } from './helpers';

/** Office 365 Management Activity API (microsoft-notes §2, M1–M7). */

const T = 'a0a0a0a0-0000-4000-8000-000000000001';
const OFF = 'a0a0a0a0-0000-4000-8000-000000000002';
const APP = 'c0c0c0c0-0000-4000-8000-000000000001';
const NOPERM = 'c0c0c0c0-0000-4000-8000-000000000002';
const OFF_APP = 'c0c0c0c0-0000-4000-8000-000000000003';
const PUB = 'e0e0e0e0-0000-4000-8000-000000000009';
const SECRET = 'secret';
const HOUR = 3_600_000;

let sim: RunningSimulator;
let http: ReturnType<typeof client>;
let root: string;
let token: string;
let t0: number;

async function tokenFor(s: RunningSimulator, tenant: string, clientId: string, scope = 'https://manage.office.com/.default') {
  const res = await request(s.caCertPem, `${s.baseUrls.login}/${tenant}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials', client_id: clientId, client_secret: SECRET, scope },
  });
  return res.json.access_token as string;
}
const err = (res: HttpResult) => res.json?.error?.code;
const iso = (ms: number) => formatCreationTime(ms).slice(0, 16); // YYYY-MM-DDTHH:MM

beforeAll(async () => {
  t0 = Date.now();
  sim = await startSimulator({
    quiet: true,
    generateAudit: 3000,
    seed: 7,
    scenario: {
      manage: { pageSize: 5, duplicateBlobEvery: 3, throttlePerMinute: 100_000, throttleSharedPerMinute: 100_000 },
      tenants: [
        {
          tenantId: T,
          apps: [
            { clientId: APP, clientSecrets: [SECRET] },
            { clientId: NOPERM, clientSecrets: [SECRET], permissions: { graph: [], manage: [], defender: [] } },
          ],
          auditRecords: [
            // Served exactly as given: numbers as strings, IP with port, no Z; `_sim*` fields are stripped.
            {
              CreationTime: formatCreationTime(t0 - 3 * HOUR),
              Id: 'rec-verbatim',
              RecordType: '15',
              UserType: '0',
              Workload: 'AzureActiveDirectory',
              Operation: 'UserLoggedIn',
              OrganizationId: T,
              UserId: 'x@y',
              ClientIP: '203.0.113.9:443',
              _simNote: 'hidden',
            },
            {
              CreationTime: formatCreationTime(t0 - 2 * HOUR),
              Id: 'rec-late',
              RecordType: 15,
              Workload: 'AzureActiveDirectory',
              Operation: 'UserLoggedIn',
              OrganizationId: T,
              UserId: 'x@y',
              _simDelayMs: 3 * 24 * HOUR,
            },
            {
              CreationTime: formatCreationTime(t0),
              Id: 'rec-fresh',
              RecordType: 15,
              Workload: 'AzureActiveDirectory',
              Operation: 'UserLoginFailed',
              OrganizationId: T,
              UserId: 'x@y',
              ClientIP: null,
            },
            {
              CreationTime: formatCreationTime(t0 - 4 * HOUR),
              Id: 'rec-future-type',
              RecordType: 424242,
              Workload: 'SomethingNew',
              Operation: 'Whatever',
              OrganizationId: T,
              UserId: 'x@y',
            },
          ],
        },
        { tenantId: OFF, licences: { unifiedAuditLog: false }, apps: [{ clientId: OFF_APP, clientSecrets: [SECRET] }] },
      ],
    },
  });
  http = client(sim);
  root = `${sim.baseUrls.manage}/api/v1.0/${T}/activity/feed`;
  token = await tokenFor(sim, T, APP);
});
afterAll(() => sim.stop());

const start = (ct: string, body?: object) => http.post(`${root}/subscriptions/start?contentType=${ct}&PublisherIdentifier=${PUB}`, { token, body });
const listContent = (ct: string, extra = '') => http.get(`${root}/subscriptions/content?contentType=${ct}&PublisherIdentifier=${PUB}${extra}`, { token });

async function allBlobs(firstUrl: string) {
  const blobs: Array<Record<string, string>> = [];
  const pages: HttpResult[] = [];
  let url: string | undefined = firstUrl;
  while (url) {
    const res = await http.get(url, { token });
    expect(res.status).toBe(200);
    pages.push(res);
    blobs.push(...res.json);
    url = res.headers.nextpageuri as string | undefined;
  }
  return { blobs, pages };
}

describe('subscriptions', () => {
  it('lists content only after /start; /start twice is AF20024; /stop disables (AF20023)', async () => {
    expect(err(await listContent('Audit.Exchange'))).toBe('AF20022');
    expect(err(await http.post(`${root}/subscriptions/stop?contentType=Audit.Exchange`, { token }))).toBe('AF20022');
    const started = await start('Audit.Exchange');
    expect(started.status).toBe(200);
    expect(started.json).toEqual({ contentType: 'Audit.Exchange', status: 'enabled', webhook: null });
    const again = await start('Audit.Exchange');
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: { code: 'AF20024', message: 'The subscription is already enabled. No property change.' } });
    expect((await http.post(`${root}/subscriptions/stop?contentType=Audit.Exchange`, { token })).status).toBe(200);
    expect(err(await listContent('Audit.Exchange'))).toBe('AF20023');
    const list = await http.get(`${root}/subscriptions/list?PublisherIdentifier=${PUB}`, { token });
    expect(list.json).toEqual([{ contentType: 'Audit.Exchange', status: 'disabled', webhook: null }]);
    expect((await start('Audit.Exchange')).status).toBe(200);
    for (const ct of ['Audit.AzureActiveDirectory', 'Audit.SharePoint', 'Audit.General', 'DLP.All']) expect((await start(ct)).status).toBe(200);
  });

  it('validates webhooks (AF20021 not https, AF20003 expiration in the past)', async () => {
    expect(
      err(await http.post(`${root}/subscriptions/start?contentType=Audit.General`, { token, body: { webhook: { address: 'http://x.example/hook' } } })),
    ).toBe('AF20021');
    expect(
      err(
        await http.post(`${root}/subscriptions/start?contentType=Audit.General`, {
          token,
          body: { webhook: { address: 'https://x.example/hook', expiration: '2001-01-01T00:00:00Z' } },
        }),
      ),
    ).toBe('AF20003');
    const ok = await http.post(`${root}/subscriptions/start?contentType=Audit.General`, {
      token,
      body: { webhook: { address: 'https://x.example/hook', authId: 'abc', expiration: '' } },
    });
    expect(ok.json).toEqual({
      contentType: 'Audit.General',
      status: 'enabled',
      webhook: { status: 'enabled', address: 'https://x.example/hook', authId: 'abc', expiration: null },
    });
  });
});

describe('AF error codes (microsoft-notes §2.6)', () => {
  it.each([
    ['AF20001 missing contentType', () => http.post(`${root}/subscriptions/start`, { token }), 'AF20001'],
    ['AF20020 invalid contentType', () => start('Audit.Nope'), 'AF20020'],
    ['AF20013 tenant not a GUID', () => http.get(`${sim.baseUrls.manage}/api/v1.0/contoso.com/activity/feed/subscriptions/list`, { token }), 'AF20013'],
    ['AF20010 URL tenant ≠ token tenant', () => http.get(`${sim.baseUrls.manage}/api/v1.0/${OFF}/activity/feed/subscriptions/list`, { token }), 'AF20010'],
    ['AF20002 PublisherIdentifier not a GUID', () => http.get(`${root}/subscriptions/list?PublisherIdentifier=acme`, { token }), 'AF20002'],
    ['AF20002 unreadable startTime', () => listContent('Audit.Exchange', '&startTime=03/03/2025&endTime=03/04/2025'), 'AF20002'],
    ['AF20031 invalid nextPage', () => listContent('Audit.Exchange', '&nextPage=garbage'), 'AF20031'],
    ['AF20052 invalid content id', () => http.get(`${root}/audit/not-a-content-id`, { token }), 'AF20052'],
    [
      'AF20050 content that does not exist',
      () => http.get(`${root}/audit/20200101000000000000000$20200101001500000000000$audit_exchange$Audit_Exchange$sim0000`, { token }),
      'AF20050',
    ],
    ['AF20053 two languages', () => http.get(`${root}/resources/dlpSensitiveTypes`, { token, headers: { 'accept-language': 'en-US, fr-FR' } }), 'AF20053'],
    ['AF20054 bad Accept-Language', () => http.get(`${root}/resources/dlpSensitiveTypes`, { token, headers: { 'accept-language': '!!' } }), 'AF20054'],
  ])('%s', async (_n, call, code) => {
    const res = await call();
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('AF10001 when the token lacks ActivityFeed.Read', async () => {
    const res = await http.get(`${root}/subscriptions/list`, { token: await tokenFor(sim, T, NOPERM) });
    expect(res.status).toBe(403);
    expect(err(res)).toBe('AF10001');
  });

  it('401 without a token, with an expired one, or with a Graph token', async () => {
    expect((await http.get(`${root}/subscriptions/list`)).status).toBe(401);
    const graph = await tokenFor(sim, T, APP, 'https://graph.microsoft.com/.default');
    const res = await http.get(`${root}/subscriptions/list`, { token: graph });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toEqual(expect.any(String));
  });

  it('answers the misleading "Tenant … does not exist" when unified audit logging is off (microsoft-notes M6)', async () => {
    const res = await http.post(`${sim.baseUrls.manage}/api/v1.0/${OFF}/activity/feed/subscriptions/start?contentType=Audit.General`, {
      token: await tokenFor(sim, OFF, OFF_APP),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toMatch(/^StartSubscription \[.*TenantId=a0a0a0a0-0000-4000-8000-000000000002.*\] failed\. Exception$/);
    expect(res.json.error.message).toContain(`DataServiceException: Tenant ${OFF} does not exist.`);
  });
});

describe('time window rules (microsoft-notes §2.2, M1)', () => {
  const now = () => sim.clock.nowMs();
  it.each([
    ['only startTime', () => `&startTime=${iso(now() - HOUR)}`],
    ['wider than 24 h', () => `&startTime=${iso(now() - 25 * HOUR)}&endTime=${iso(now())}`],
    ['exactly 24 h', () => `&startTime=${iso(now() - 24 * HOUR)}&endTime=${iso(now())}`],
    ['start more than 7 days back', () => `&startTime=${iso(now() - 8 * 24 * HOUR)}&endTime=${iso(now() - 8 * 24 * HOUR + HOUR)}`],
    ['end before start', () => `&startTime=${iso(now())}&endTime=${iso(now() - HOUR)}`],
  ])('%s ⇒ AF20030', async (_n, q) => {
    const res = await listContent('Audit.AzureActiveDirectory', q());
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({ code: 'AF20030', message: expect.stringContaining('less than or equal to 24 hours apart') });
  });

  it('filters on contentCreated: startTime inclusive, endTime exclusive; no times ⇒ last 24 h', async () => {
    const all = (await allBlobs(`${root}/subscriptions/content?contentType=Audit.AzureActiveDirectory&PublisherIdentifier=${PUB}`)).blobs;
    expect(all.length).toBeGreaterThan(0);
    const first = all[0].contentCreated;
    const startMs = Date.parse(first);
    const inclusive = await listContent(
      'Audit.AzureActiveDirectory',
      `&startTime=${new Date(startMs).toISOString().slice(0, 19)}&endTime=${new Date(startMs + HOUR).toISOString().slice(0, 19)}`,
    );
    expect(inclusive.json[0].contentCreated).toBe(first);
    const exclusive = await listContent(
      'Audit.AzureActiveDirectory',
      `&startTime=${new Date(startMs - HOUR).toISOString().slice(0, 19)}&endTime=${new Date(startMs).toISOString().slice(0, 19)}`,
    );
    expect(exclusive.json.map((b: Record<string, string>) => b.contentCreated)).not.toContain(first);
  });
});

describe('content listing and blobs', () => {
  it('pages with NextPageUri (/api/v1/, verbatim) to the end, in contentCreated order', async () => {
    const end = sim.clock.nowMs();
    const q = `&startTime=${iso(end - 23 * HOUR)}&endTime=${iso(end)}`;
    const { blobs, pages } = await allBlobs(`${root}/subscriptions/content?contentType=Audit.Exchange&PublisherIdentifier=${PUB}${q}`);
    expect(pages.length).toBeGreaterThan(3);
    for (const p of pages.slice(0, -1)) {
      const next = p.headers.nextpageuri as string;
      expect(next).toMatch(new RegExp(`^${sim.baseUrls.manage}/api/v1/${T}/activity/feed/subscriptions/content\\?`));
      expect(next).toContain(`PublisherIdentifier=${PUB}`);
      expect(next).toMatch(/nextPage=\d{14}R\d{9}/);
      expect(p.json).toHaveLength(5);
    }
    expect(pages.at(-1)!.headers.nextpageuri).toBeUndefined();
    expect(new Set(blobs.map((b) => b.contentId)).size).toBe(blobs.length);
    const times = blobs.map((b) => Date.parse(b.contentCreated));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const b = blobs[0];
    expect(b).toEqual({
      contentType: 'Audit.Exchange',
      contentId: expect.stringMatching(/^\d{23}\$\d{23}\$audit_exchange\$Audit_Exchange\$(sim|dup)\d{4}$/),
      contentUri: `${root}/audit/${b.contentId}`,
      contentCreated: expect.any(String),
      contentExpiration: new Date(Date.parse(b.contentCreated) + 7 * 24 * HOUR).toISOString(),
    });
    const encoded = await http.get(b.contentUri.replace(/\$/g, '%24'), { token });
    expect(encoded.json.error.code).toBe('AF20052'); // use contentUri verbatim (microsoft-notes §2.2)
    const records = await http.get(`${b.contentUri}?PublisherIdentifier=${PUB}`, { token });
    expect(records.status).toBe(200);
    expect(Array.isArray(records.json)).toBe(true);
    for (const r of records.json)
      expect(r).toMatchObject({
        Workload: 'Exchange',
        OrganizationId: T,
        Id: expect.any(String),
        CreationTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/),
      });
  });

  it('re-delivers some blobs under a new contentId (duplicates, microsoft-notes §2.7)', async () => {
    const end = sim.clock.nowMs();
    const { blobs } = await allBlobs(
      `${root}/subscriptions/content?contentType=Audit.SharePoint&PublisherIdentifier=${PUB}&startTime=${iso(end - 23 * HOUR)}&endTime=${iso(end)}`,
    );
    // A duplicate keeps the bucket start (first 23 digits) of its original and is listed later.
    const pair = blobs
      .filter((b) => b.contentId.endsWith('dup0001'))
      .map((dup) => ({ dup, original: blobs.find((b) => b.contentId.endsWith('sim0000') && b.contentId.slice(0, 23) === dup.contentId.slice(0, 23)) }))
      .find((p) => p.original);
    expect(pair).toBeDefined();
    expect(Date.parse(pair!.dup.contentCreated)).toBeGreaterThan(Date.parse(pair!.original!.contentCreated));
    const ids = async (uri: string) => ((await http.get(uri, { token })).json as Array<{ Id: string }>).map((r) => r.Id);
    expect(await ids(pair!.dup.contentUri)).toEqual(await ids(pair!.original!.contentUri));
  });

  it('serves records exactly as given (minus _sim fields) and routes unknown record types to Audit.General', async () => {
    // Look only in the hour around the record's availability (CreationTime + 30 min latency).
    const find = async (ct: string, id: string, fromMs: number, toMs = fromMs + HOUR) => {
      const { blobs } = await allBlobs(
        `${root}/subscriptions/content?contentType=${ct}&PublisherIdentifier=${PUB}&startTime=${new Date(fromMs).toISOString().slice(0, 19)}&endTime=${new Date(toMs).toISOString().slice(0, 19)}`,
      );
      for (const b of blobs) {
        const recs = (await http.get(b.contentUri, { token })).json as Array<Record<string, unknown>>;
        const r = recs.find((x) => x.Id === id);
        if (r) return r;
      }
      return undefined;
    };
    expect(await find('Audit.AzureActiveDirectory', 'rec-verbatim', t0 - 3 * HOUR)).toEqual({
      CreationTime: formatCreationTime(t0 - 3 * HOUR),
      Id: 'rec-verbatim',
      RecordType: '15',
      UserType: '0',
      Workload: 'AzureActiveDirectory',
      Operation: 'UserLoggedIn',
      OrganizationId: T,
      UserId: 'x@y',
      ClientIP: '203.0.113.9:443',
    });
    expect(await find('Audit.General', 'rec-future-type', t0 - 4 * HOUR)).toMatchObject({ RecordType: 424242 });
    expect(await find('Audit.AzureActiveDirectory', 'rec-fresh', t0 - 2 * HOUR, sim.clock.nowMs())).toBeUndefined(); // not available yet (latency)
    expect(await find('Audit.AzureActiveDirectory', 'rec-late', t0 - 2 * HOUR, sim.clock.nowMs())).toBeUndefined();
  });
});

describe('with the clock moving (run last: they advance time)', () => {
  it('makes records available after their latency, late records days later', async () => {
    sim.clock.advance(HOUR);
    token = await tokenFor(sim, T, APP); // the old one just expired
    const fresh = await allBlobs(`${root}/subscriptions/content?contentType=Audit.AzureActiveDirectory&PublisherIdentifier=${PUB}`);
    const ids = async (blobs: Array<Record<string, string>>) =>
      (await Promise.all(blobs.map(async (b) => (await http.get(b.contentUri, { token })).json as Array<{ Id: string }>))).flat().map((r) => r.Id);
    expect(await ids(fresh.blobs)).toContain('rec-fresh');
    expect(await ids(fresh.blobs)).not.toContain('rec-late');
    sim.clock.advance(3 * 24 * HOUR);
    token = await tokenFor(sim, T, APP);
    const later = await allBlobs(`${root}/subscriptions/content?contentType=Audit.AzureActiveDirectory&PublisherIdentifier=${PUB}`);
    expect(await ids(later.blobs)).toContain('rec-late');
  });

  it('expires content 7 days after contentCreated (AF20051) and rejects expired tokens', async () => {
    const { blobs } = await allBlobs(`${root}/subscriptions/content?contentType=Audit.AzureActiveDirectory&PublisherIdentifier=${PUB}`);
    const uri = blobs[0].contentUri;
    sim.clock.advance(8 * 24 * HOUR);
    const expiredToken = await http.get(uri, { token });
    expect(expiredToken.status).toBe(401);
    const fresh = await tokenFor(sim, T, APP);
    const res = await http.get(uri, { token: fresh });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({ code: 'AF20051', message: expect.stringContaining('has already expired') });
  });
});

describe('throttling and newer deployments', () => {
  let sim2: RunningSimulator;
  let root2: string;
  let token2: string;
  beforeAll(async () => {
    sim2 = await startSimulator({
      quiet: true,
      scenario: {
        manage: {
          windowErrorCode: 'AF20055',
          rejectExactly24h: false,
          throttlePerMinute: 6,
          throttleSharedPerMinute: 3,
          throttleWindowMs: 10_000,
          subscriptions: { [T]: { 'Audit.General': 'enabled' } },
        },
        tenants: [{ tenantId: T, apps: [{ clientId: APP, clientSecrets: [SECRET] }] }],
      },
    });
    root2 = `${sim2.baseUrls.manage}/api/v1.0/${T}/activity/feed`;
    token2 = await tokenFor(sim2, T, APP);
  });
  afterAll(() => sim2.stop());
  const get2 = (url: string) => request(sim2.caCertPem, url, { token: token2 });

  it('answers AF20055 on newer deployments and accepts date-only windows of exactly 24 h when configured', async () => {
    const bad = await get2(`${root2}/subscriptions/content?contentType=Audit.General&PublisherIdentifier=${PUB}&startTime=2001-01-01&endTime=2001-01-02`);
    expect(bad.json.error.code).toBe('AF20055');
    const day = new Date(sim2.clock.nowMs() - 24 * HOUR).toISOString().slice(0, 10);
    const nextDay = new Date(Date.parse(day) + 24 * HOUR).toISOString().slice(0, 10);
    expect((await get2(`${root2}/subscriptions/content?contentType=Audit.General&PublisherIdentifier=${PUB}&startTime=${day}&endTime=${nextDay}`)).status).toBe(
      200,
    );
  });

  it('throttles with AF429 as HTTP 403 and no Retry-After; calls without PublisherIdentifier share a smaller pool (microsoft-notes §2.5)', async () => {
    sim2.clock.advance(10_000 - (sim2.clock.nowMs() % 10_000)); // the start of a fresh window
    const shared = [];
    for (let i = 0; i < 4; i++) shared.push(await get2(`${root2}/subscriptions/list`));
    expect(shared.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(shared[3].status).toBe(403);
    expect(shared[3].headers['retry-after']).toBeUndefined();
    expect(shared[3].json).toEqual({
      error: { code: 'AF429', message: 'Too many requests. Method=ListSubscriptions, PublisherId=00000000-0000-0000-0000-000000000000' },
    });
    const withPub = await get2(`${root2}/subscriptions/list?PublisherIdentifier=${PUB}`);
    expect(withPub.status).toBe(200);
    sim2.clock.advance(60_000);
    expect((await get2(`${root2}/subscriptions/list`)).status).toBe(200);
  });

  it('refills a budget when its window ends (throttleWindowMs: 10 s here)', async () => {
    sim2.clock.advance(10_000 - (sim2.clock.nowMs() % 10_000)); // the start of a window
    const url = `${root2}/subscriptions/list?PublisherIdentifier=${PUB}`;
    const burst = [];
    for (let i = 0; i < 7; i++) burst.push((await get2(url)).status);
    expect(burst).toEqual([200, 200, 200, 200, 200, 200, 403]);
    sim2.clock.advance(10_000);
    expect((await get2(url)).status).toBe(200);
  });
});
