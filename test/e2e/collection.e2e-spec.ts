/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { EventsRetentionService } from '../../src/collection/events-retention.service';
import { collectionStatus, requestRuns, streamOf } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv } from './support/sim-tenant';
import { allPages, bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Collection of the Office 365 Management Activity API against the simulator: a 3-day backlog over
 * every content type, windows, paging, duplicates, late content, expiry, throttling, failing blobs,
 * subscriptions, normalization and the events API.
 */

const HOUR = 3_600_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'collection-e2e-secret-value-1234';
const OTHER_TENANT = randomUUID();
const OTHER_CLIENT = randomUUID();
const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'];

type Rec = Record<string, unknown> & { Id: string };

function contentTypeOf(r: Rec): string {
  if ([11, 13, 33].includes(r.RecordType as number)) return 'DLP.All';
  if (r.Workload === 'AzureActiveDirectory') return 'Audit.AzureActiveDirectory';
  if (r.Workload === 'Exchange') return 'Audit.Exchange';
  if (r.Workload === 'SharePoint' || r.Workload === 'OneDrive') return 'Audit.SharePoint';
  return 'Audit.General';
}

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19); // CreationTime has no zone

/** Records of every workload over the last 3 days, with the odd values Microsoft sends (microsoft-notes M7). */
function backlog(nowMs: number): Rec[] {
  const kinds: Array<Partial<Rec>> = [
    { RecordType: 15, Workload: 'AzureActiveDirectory', Operation: 'UserLoggedIn', ResultStatus: 'Success', ClientIP: null, UserType: 0 },
    { RecordType: 1, Workload: 'Exchange', Operation: 'New-InboxRule', ResultStatus: 'True', ClientIP: '203.0.113.45:51234', UserType: 2 },
    { RecordType: 6, Workload: 'SharePoint', Operation: 'FileAccessed', ResultStatus: 'succeeded', ClientIP: '2001:db8::5', UserType: 0 },
    { RecordType: 7, Workload: 'OneDrive', Operation: 'FileDownloaded', ClientIP: '198.51.100.7', UserType: 0 },
    { RecordType: 25, Workload: 'MicrosoftTeams', Operation: 'MessageSent', ClientIP: '[2001:db8::7]:443', UserType: 0 },
    { RecordType: 13, Workload: 'Exchange', Operation: 'DLPRuleMatch', ClientIP: '', UserType: 4 },
    { RecordType: 9999, Workload: 'SomethingNew', Operation: 'BrandNewThing' },
  ];
  const records: Rec[] = [];
  kinds.forEach((kind, k) => {
    for (let i = 0; i < 24; i++) {
      const at = nowMs - 2 * HOUR - i * 3 * HOUR - k * 7 * 60_000;
      const user = kind.RecordType === 9999 ? {} : { UserId: i % 2 ? `User${i % 4}@Contoso.example` : `user${i % 4}@contoso.example`, UserKey: `key-${i}` };
      records.push({ Id: randomUUID(), CreationTime: utc(at), OrganizationId: TENANT, ObjectId: `object-${k}-${i}`, ...kind, ...user } as Rec);
    }
  });
  // The same record delivered again in another blob an hour later (dedupe on Id).
  for (let i = 0; i < 5; i++) {
    const original = records[24 + i];
    records.push({ ...original, CreationTime: utc(Date.parse(`${original.CreationTime as string}Z`) + HOUR) });
  }
  return records;
}

function simPost(sim: RunningSimulator, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, sim.baseUrls.manage);
    const payload = JSON.stringify(body);
    const req = httpsRequest(
      url,
      { method: 'POST', ca: sim.caCertPem, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('collection of Microsoft 365 audit logs (Management Activity API)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let records: Rec[];
  let tenantId: string;
  let otherTenantId: string;
  const expectedIds = (ct?: string) => new Set(records.filter((r) => !ct || contentTypeOf(r) === ct).map((r) => r.Id.toLowerCase()));

  beforeAll(async () => {
    const nowMs = Date.now();
    records = backlog(nowMs);
    const scenario: Scenario = {
      tenants: [
        { tenantId: TENANT, displayName: 'Collection Tenant', apps: [simApp(CLIENT, SECRET)], auditRecords: records } as never,
        {
          tenantId: OTHER_TENANT,
          displayName: 'Other Tenant',
          apps: [simApp(OTHER_CLIENT, SECRET)],
          auditRecords: [
            { Id: randomUUID(), RecordType: 1, Workload: 'Exchange', Operation: 'Other', CreationTime: utc(nowMs - 3 * HOUR), UserId: 'x@other.example' },
          ],
        } as never,
      ],
      // Small pages so NextPageUri is followed; every 4th blob re-delivered an hour later; Audit.General disabled at start.
      manage: { pageSize: 3, duplicateBlobEvery: 4, duplicateDelayMs: HOUR, subscriptions: { [TENANT]: { 'Audit.General': 'disabled' } } },
    };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_MICROSOFT_MAX_RETRIES: '2',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      // A throttled run ends at once and its resume is far off: the throttling tests ask for the next run themselves.
      CORDON_COLLECTION_THROTTLE_MAX_WAIT_S: '0',
      CORDON_COLLECTION_THROTTLE_BACKOFF_S: '600',
      CORDON_COLLECTION_CONCURRENCY: '3',
      CORDON_COLLECTION_MAX_BLOB_ATTEMPTS: '2',
    });
    const register = (tid: string, clientId: string) => registerTenant(t, `T ${tid.slice(0, 8)}`, { tenantId: tid, clientId, secret: SECRET });
    tenantId = await register(TENANT, CLIENT);
    otherTenantId = await register(OTHER_TENANT, OTHER_CLIENT);
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId, otherTenantId]));

  const status = (id = tenantId) => collectionStatus(t, id);
  const runAndWait = (streams: string[], id = tenantId) => requestRuns(t, id, streams);
  const allEvents = (query: string, limit = 200) => allPages<any>(t, `/v1/events?${query}`, limit);

  it('shows every content type per tenant before anything ran', async () => {
    const body = await status();
    // other collectors (Graph security, Entra, Secure Score) list their own sources next to these
    const audit = body.sources.filter((s: { source: string }) => s.source === 'management-activity');
    expect(audit.map((s: { stream: string }) => s.stream).sort()).toEqual([...CONTENT_TYPES].sort());
    expect(streamOf(body, 'Audit.Exchange')).toMatchObject({
      source: 'management-activity',
      enabled: true,
      subscription: 'unknown',
      cursor: null,
      lastRun: null,
      gapCount: 0,
      schedule: { intervalMinutes: 1440 },
    });
  });

  it('collects a multi-day backlog of every content type completely, starting or restarting subscriptions', async () => {
    const body = await runAndWait(CONTENT_TYPES);
    for (const ct of CONTENT_TYPES) {
      const s = streamOf(body, ct);
      expect(s.lastRun).toMatchObject({ status: 'succeeded', error: null });
      expect(s.subscription).toBe('enabled');
      expect(s.cursor).not.toBeNull();
      const events = await allEvents(`tenantId=${tenantId}&source=management-activity`);
      const stored = events.filter((e) => e.stream === ct).map((e) => e.recordId);
      expect(new Set(stored)).toEqual(expectedIds(ct));
      expect(stored.length).toBe(expectedIds(ct).size); // stored once each
      expect(s.lagSeconds).toBeGreaterThan(0);
    }
    // Duplicate blobs and duplicate records were fetched and not stored twice.
    const dupBlobs = sim.journal.list({ host: 'manage', method: 'GET', path: '$dup' });
    expect(dupBlobs.length).toBeGreaterThan(0); // re-delivered blobs were fetched, and stored nothing twice (above)
    const exchange = streamOf(body, 'Audit.Exchange').lastRun;
    expect(exchange.fetched).toBe(exchange.new + exchange.duplicates);
    // Subscriptions: missing ones started, the disabled one restarted (audited).
    const starts = sim.journal.list({ host: 'manage', method: 'POST', path: '/subscriptions/start' });
    expect(new Set(starts.map((e) => new URLSearchParams(e.query).get('contentType')))).toEqual(new Set(CONTENT_TYPES));
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.subscription.changed&limit=100`).set(bearer(t.adminKey)).expect(200))
      .body.items;
    expect(audit.some((e: any) => e.data.stream === 'Audit.General' && e.data.from === 'disabled' && e.data.to === 'enabled')).toBe(true);
    expect(audit.every((e: any) => e.actor.type === 'system')).toBe(true);
  });

  it('kept every window under 24 h and within 7 days, followed NextPageUri verbatim, and sent PublisherIdentifier everywhere', async () => {
    const manage = sim.journal.list({ host: 'manage' }).filter((e) => !e.path.startsWith('/_sim'));
    expect(manage.length).toBeGreaterThan(0);
    // Every call, blob GETs included, names the tenant in PublisherIdentifier (microsoft-notes M3).
    for (const e of manage) expect(new URLSearchParams(e.query).get('PublisherIdentifier')).toBe(/\/api\/v1(?:\.0)?\/([0-9a-f-]{36})\//.exec(e.path)![1]);
    const listings = manage.filter((e) => e.path.endsWith('/subscriptions/content'));
    const first = listings.filter((e) => !new URLSearchParams(e.query).has('nextPage'));
    expect(first.length).toBeGreaterThanOrEqual(CONTENT_TYPES.length * 4); // 7 days in ≤ 23 h windows
    for (const e of listings) {
      expect(e.status).toBe(200);
      const q = new URLSearchParams(e.query);
      const start = Date.parse(`${q.get('startTime')}Z`);
      const end = Date.parse(`${q.get('endTime')}Z`);
      expect(end - start).toBeLessThan(24 * HOUR);
      expect(end).toBeGreaterThan(start);
      expect(Date.parse(e.time) - start).toBeLessThan(7 * 24 * HOUR);
    }
    const followed = listings.filter((e) => new URLSearchParams(e.query).has('nextPage'));
    expect(followed.length).toBeGreaterThan(0);
    expect(followed.every((e) => e.path.startsWith('/api/v1/'))).toBe(true); // the header's URL as given, not rebuilt
    // Each blob fetched once (the ledger), blob GETs carried PublisherIdentifier (checked above).
    const blobGets = manage.filter((e) => e.path.includes('/activity/feed/audit/'));
    expect(new Set(blobGets.map((e) => e.path)).size).toBe(blobGets.length);
    expect(manage.every((e) => e.status < 400)).toBe(true); // no AF20030: the simulator accepted every window
  });

  it('normalizes the fields of every workload, odd IPs and missing users included', async () => {
    const events = await allEvents(`tenantId=${tenantId}`);
    const byOp = (op: string) => events.filter((e) => e.operation === op);
    const one = (op: string) => {
      const e = byOp(op)[0];
      const raw = records.find((r) => r.Id.toLowerCase() === e.recordId)!;
      expect(e.occurredAt).toBe(new Date(`${raw.CreationTime as string}Z`).toISOString());
      expect(e.raw).toEqual(raw);
      expect(e.objectId).toBe(raw.ObjectId);
      return e;
    };
    expect(one('UserLoggedIn')).toMatchObject({
      workload: 'AzureActiveDirectory',
      recordType: 15,
      resultStatus: 'Succeeded',
      clientIp: null,
      userType: 0,
      stream: 'Audit.AzureActiveDirectory',
    });
    expect(one('New-InboxRule')).toMatchObject({
      workload: 'Exchange',
      recordType: 1,
      resultStatus: 'Succeeded',
      clientIp: '203.0.113.45',
      userType: 2,
      stream: 'Audit.Exchange',
    });
    expect(one('FileAccessed')).toMatchObject({
      workload: 'SharePoint',
      recordType: 6,
      resultStatus: 'Succeeded',
      clientIp: '2001:db8::5',
      stream: 'Audit.SharePoint',
    });
    expect(one('FileDownloaded')).toMatchObject({
      workload: 'OneDrive',
      recordType: 7,
      resultStatus: null,
      clientIp: '198.51.100.7',
      stream: 'Audit.SharePoint',
    });
    expect(one('MessageSent')).toMatchObject({ workload: 'MicrosoftTeams', recordType: 25, clientIp: '2001:db8::7', stream: 'Audit.General' });
    expect(one('DLPRuleMatch')).toMatchObject({ recordType: 13, clientIp: null, userType: 4, stream: 'DLP.All' });
    expect(one('BrandNewThing')).toMatchObject({ workload: 'SomethingNew', recordType: 9999, userId: null, userType: null, stream: 'Audit.General' });
    expect(byOp('BrandNewThing')).toHaveLength(24); // unknown types kept, never dropped
    expect(events.filter((e) => e.userId).every((e) => e.userId === e.userId.toLowerCase())).toBe(true);
  });

  it('filters and pages events (keyset on occurredAt, id), newest first', async () => {
    const all = await allEvents(`tenantId=${tenantId}`, 7);
    expect(all.length).toBe(expectedIds().size);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++) expect(all[i - 1].occurredAt >= all[i].occurredAt).toBe(true);
    const q = async (query: string) =>
      (await t.http.get(`/v1/events?tenantId=${tenantId}&limit=1000&${query}`).set(bearer(t.adminKey)).expect(200)).body.items as any[];
    expect((await q('workload=MicrosoftTeams')).length).toBe(24);
    expect((await q('operation=New-InboxRule')).length).toBe(24);
    expect((await q('ip=2001:db8::7')).every((e) => e.operation === 'MessageSent')).toBe(true);
    expect((await q('ip=203.0.113.45')).length).toBe(24);
    const user = await q('user=USER1@contoso.example');
    expect(user.length).toBeGreaterThan(0);
    expect(user.every((e) => e.userId === 'user1@contoso.example')).toBe(true);
    const since = all[20].occurredAt;
    const until = all[10].occurredAt;
    const window = await q(`since=${since}&until=${until}`);
    expect(window.every((e) => e.occurredAt >= since && e.occurredAt < until)).toBe(true);
    expect(window.length).toBe(all.filter((e) => e.occurredAt >= since && e.occurredAt < until).length);
    expect((await q('source=sign-ins')).length).toBe(0);
    expectProblem(await t.http.get('/v1/events?ip=not-an-ip').set(bearer(t.adminKey)), 400, 'validation-failed');
    expectProblem(await t.http.get('/v1/events?cursor=bogus!').set(bearer(t.adminKey)), 400, 'validation-failed');
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expectProblem(await t.http.get(`/v1/events?cursor=${forged}`).set(bearer(t.adminKey)), 400, 'validation-failed');
  });

  it("shows a tenant-scoped key only its tenants' events and collection", async () => {
    await runAndWait(['Audit.Exchange'], otherTenantId);
    const scoped = await createKey(t, ['analyst'], { tenantIds: [otherTenantId] });
    const mine = (await t.http.get('/v1/events?limit=1000').set(bearer(scoped.key)).expect(200)).body.items;
    expect(mine.length).toBe(1);
    expect(mine.every((e: any) => e.tenantId === otherTenantId)).toBe(true);
    expect((await t.http.get(`/v1/events?tenantId=${tenantId}`).set(bearer(scoped.key)).expect(200)).body.items).toEqual([]);
    expectProblem(await t.http.get(`/v1/tenants/${tenantId}/collection`).set(bearer(scoped.key)), 404, 'not-found');
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await t.http.get('/v1/events').set(bearer(auditor.key)), 403, 'forbidden');
    expectProblem(await t.http.post(`/v1/tenants/${tenantId}/collection/Audit.Exchange/run`).set(bearer(scoped.key)), 403, 'forbidden');
  });

  it('picks up content that became available late, behind the cursor, through the overlap', async () => {
    const cursor = Date.parse(streamOf(await status(), 'Audit.Exchange').cursor);
    const late: Rec = {
      Id: randomUUID(),
      RecordType: 1,
      Workload: 'Exchange',
      Operation: 'Set-Mailbox',
      CreationTime: utc(cursor - 6 * HOUR),
      UserId: 'late@contoso.example',
      ClientIP: '192.0.2.10',
      _simAvailableAt: new Date(cursor - 20 * 60_000).toISOString(),
    };
    expect(await simPost(sim, `/_sim/state/tenants/${TENANT}/records`, { auditRecords: [late] })).toBeLessThan(300);
    sim.clock.advance(60_000);
    const body = await runAndWait(['Audit.Exchange']);
    expect(streamOf(body, 'Audit.Exchange').lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    const found = (await t.http.get(`/v1/events?operation=Set-Mailbox&tenantId=${tenantId}`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(found.map((e: any) => e.recordId)).toEqual([late.Id.toLowerCase()]);
  });

  async function newBlob(op: string): Promise<string> {
    const s = sim.clock.nowMs();
    const rec: Rec = { Id: randomUUID(), RecordType: 1, Workload: 'Exchange', Operation: op, CreationTime: utc(s - 31 * 60_000), UserId: 'n@contoso.example' };
    await simPost(sim, `/_sim/state/tenants/${TENANT}/records`, { auditRecords: [rec] });
    sim.clock.advance(16 * 60_000); // its blob's bucket closes
    return rec.Id.toLowerCase();
  }

  it('reports content that expired before it was fetched (AF20051) as a gap with its content id, audited', async () => {
    await newBlob('Expired-Op');
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/audit/*',
      times: 1,
      status: 400,
      body: { error: { code: 'AF20051', message: 'Content requested with the key has already expired.' } },
    } as never);
    const s = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', gaps: 1 });
    expect(s.gaps[0]).toMatchObject({ reason: 'expired', contentId: expect.stringContaining('$') });
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.gap`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(audit[0].data).toMatchObject({ reason: 'expired', contentId: s.gaps[0].contentId, stream: 'Audit.Exchange' });
    // not fetched again on the next run (the ledger)
    const before = sim.journal.list({ host: 'manage', path: s.gaps[0].contentId.split('$')[0] }).length;
    await runAndWait(['Audit.Exchange']);
    expect(sim.journal.list({ host: 'manage', path: s.gaps[0].contentId.split('$')[0] }).length).toBe(before);
  });

  it('slows down on AF429 (HTTP 403, no Retry-After) and recovers in the same run', async () => {
    const id = await newBlob('Throttled-Op');
    const since = sim.journal.list({}).at(-1)?.seq ?? 0;
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/audit/*',
      times: 2,
      status: 403,
      body: { error: { code: 'AF429', message: 'Too many requests. Method=GetBlob, PublisherId=x' } },
    } as never);
    const s = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
    expect(s.lastRun.status).toBe('succeeded');
    expect(s.lastRun.new).toBeGreaterThanOrEqual(1);
    const blobCalls = sim.journal.list({ host: 'manage', since }).filter((e) => e.path.includes('/activity/feed/audit/'));
    expect(blobCalls.slice(0, 2).map((e) => e.status)).toEqual([403, 403]);
    expect(blobCalls.slice(2).every((e) => e.status === 200)).toBe(true);
    expect((await t.http.get(`/v1/events?operation=Throttled-Op`).set(bearer(t.adminKey)).expect(200)).body.items[0].recordId).toBe(id);
  });

  it('stops a run still throttled after its retries without moving the cursor, and the next run resumes', async () => {
    const id = await newBlob('Throttled-Long-Op');
    const cursorBefore = streamOf(await status(), 'Audit.Exchange').cursor;
    // Until removed (not a count): a concurrent scheduled run of another stream must not use up the fault.
    const fault = sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/audit/*',
      times: 0,
      status: 403,
      body: { error: { code: 'AF429', message: 'Too many requests.' } },
    } as never);
    let s;
    try {
      s = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
    } finally {
      sim.faults.remove(fault.id);
    }
    expect(s.lastRun.status).toBe('throttled');
    expect(s.cursor).toBe(cursorBefore);
    expect(s.lastError.message).toMatch(/AF429/);
    const s2 = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
    expect(s2.lastRun.status).toBe('succeeded');
    expect(s2.lastRun.new).toBeGreaterThanOrEqual(1);
    expect(s2.lastError).toBeNull();
    expect((await t.http.get(`/v1/events?operation=Throttled-Long-Op`).set(bearer(t.adminKey)).expect(200)).body.items.map((e: any) => e.recordId)).toEqual([
      id,
    ]);
  });

  it('retries a failing blob on later runs and, after the bounded attempts, reports it as a gap', async () => {
    await newBlob('Broken-Op');
    const fault = sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/audit/*',
      times: 0,
      status: 400,
      body: { error: { code: 'AF20052', message: 'Content ID in the URL is invalid.' } },
    } as never);
    try {
      const first = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
      expect(first.lastRun.status).toBe('failed');
      const gapsBefore = first.gapCount;
      const second = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
      // (a re-delivered copy of an earlier blob may fail alongside it: each is its own gap)
      expect(second.lastRun.status).toBe('succeeded');
      expect(second.lastRun.gaps).toBeGreaterThanOrEqual(1);
      expect(second.gapCount).toBe(gapsBefore + second.lastRun.gaps);
      expect(second.gaps[0]).toMatchObject({
        reason: 'failed',
        contentId: expect.stringContaining('$'),
        detail: expect.stringMatching(/gave up after 2 attempts/),
      });
    } finally {
      sim.faults.remove(fault.id);
    }
  });

  it('restarts a subscription that was disabled (AF20023) and carries on', async () => {
    const id = await newBlob('After-Disable-Op');
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/subscriptions/content*',
      times: 1,
      status: 400,
      body: { error: { code: 'AF20023', message: 'The subscription was disabled by the tenant admin.' } },
    } as never);
    const since = sim.journal.list({}).at(-1)?.seq ?? 0;
    const s = streamOf(await runAndWait(['Audit.Exchange']), 'Audit.Exchange');
    expect(s).toMatchObject({ subscription: 'enabled', lastRun: { status: 'succeeded' } });
    expect(s.lastRun.new).toBeGreaterThanOrEqual(1); // a re-delivered copy of an earlier blob may bring one more
    expect(sim.journal.list({ host: 'manage', method: 'POST', path: '/subscriptions/start', since }).length).toBe(1);
    expect((await t.http.get(`/v1/events?operation=After-Disable-Op`).set(bearer(t.adminKey)).expect(200)).body.items[0].recordId).toBe(id);
  });

  it('configures a stream per tenant (audited) and refuses to run a disabled one', async () => {
    const res = await t.http.patch(`/v1/tenants/${tenantId}/collection/DLP.All`).set(bearer(t.adminKey)).send({ enabled: false, intervalMinutes: 15 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stream: 'DLP.All', enabled: false, schedule: { intervalMinutes: 15 } });
    expectProblem(await t.http.post(`/v1/tenants/${tenantId}/collection/DLP.All/run`).set(bearer(t.adminKey)), 409, 'collection-disabled');
    expectProblem(await t.http.post(`/v1/tenants/${tenantId}/collection/Nope.Type/run`).set(bearer(t.adminKey)), 404, 'not-found');
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.configured`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(audit[0].data).toMatchObject({ stream: 'DLP.All', changed: { enabled: { from: true, to: false }, intervalMinutes: { from: 1440, to: 15 } } });
  });

  it('exposes collection metrics', async () => {
    const text = (await t.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(
      new RegExp(`cordon_collection_records_total\\{tenant="${tenantId}",source="management-activity",stream="Audit.Exchange",outcome="new"\\} \\d+`),
    );
    expect(text).toMatch(/cordon_collection_gaps_total\{[^}]*reason="expired"\} 1/);
    expect(text).toMatch(/cordon_collection_lag_seconds\{/);
    expect(text).toMatch(/cordon_collection_runs_total\{[^}]*status="throttled"\} [1-9]\d*/);
  });

  it('clamps a cursor older than 7 days and reports the lost span as a gap', async () => {
    sim.clock.advance(8 * 24 * HOUR);
    const since = sim.journal.list({}).at(-1)?.seq ?? 0;
    const s = streamOf(await runAndWait(['Audit.SharePoint']), 'Audit.SharePoint');
    expect(s.lastRun.status).toBe('succeeded');
    expect(s.gaps[0]).toMatchObject({ reason: 'beyond-retention' });
    for (const e of sim.journal.list({ host: 'manage', path: '/subscriptions/content', since })) {
      const q = new URLSearchParams(e.query);
      expect(Date.parse(e.time) - Date.parse(`${q.get('startTime')}Z`)).toBeLessThan(7 * 24 * HOUR);
      expect(e.status).toBe(200);
    }
  });

  it('removes events older than the retention in batches', async () => {
    const count = async () => (await allEvents(`tenantId=${tenantId}`, 1000)).length;
    expect(await count()).toBeGreaterThan(0);
    const removed = await t.app.get(EventsRetentionService).purge(new Date(Date.now() + 100 * 24 * HOUR));
    expect(removed).toBeGreaterThan(0);
    expect(await count()).toBe(0);
  });
});
