/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { generateApiKey } from '../../src/auth/api-key-secret';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { bearer, createKey, expectProblem, startTestApp, TestApp, waitFor as waitUntil } from './support/test-app';

/**
 * Purview audit search through Graph's asynchronous audit query: validation, the lifecycle (queued →
 * submitted → collecting → succeeded) with status and counts while it runs, records beyond the
 * Management API's 7 days stored as `purview-search` events, a search that survives a restart of
 * the service, and the backfill of a collection gap.
 */

const DAY = 86_400_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'purview-e2e-secret-value-12345';
const RECORDS = 420;

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19); // CreationTime has no zone

type Rec = Record<string, unknown> & { Id: string; CreationTime: string };

function auditRecords(now: number): Rec[] {
  return Array.from({ length: RECORDS }, (_, i) => {
    const exchange = i % 2 === 0;
    return {
      Id: randomUUID(),
      CreationTime: utc(now - DAY / 2 - (i * (30 * DAY)) / RECORDS),
      OrganizationId: TENANT,
      RecordType: exchange ? 1 : 6,
      Workload: exchange ? 'Exchange' : 'SharePoint',
      Operation: exchange ? 'New-InboxRule' : 'FileDownloaded',
      UserId: i % 3 === 0 ? 'alice@purview.example' : 'bob@purview.example',
      UserType: 0,
      ClientIP: `203.0.113.${i % 200}:443`,
      ObjectId: `object-${i}`,
      ResultStatus: exchange ? 'True' : 'Succeeded',
    };
  });
}

const creationMs = (r: Rec) => Date.parse(`${r.CreationTime}Z`);

/** These runs take longer than most: a minute. */
const waitFor = <T>(read: () => Promise<T>, done: (v: T) => boolean) => waitUntil(read, done, 60000);

describe('Purview audit search', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let dataDir: string;
  let tenantId: string;
  let records: Rec[];
  const adminKey = generateApiKey();
  const env = () => ({
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
    CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
    CORDON_PURVIEW_POLL_S: '1',
    CORDON_PURVIEW_MAX_POLL_S: '2',
  });

  /** The service on the suite's data directory (a restart keeps the database), with our admin key. */
  const start = async () => Object.assign(await startTestApp(env()), { adminKey });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-purview-'));
    records = auditRecords(Date.now());
    const scenario = {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Purview Tenant',
          apps: [{ clientId: CLIENT, displayName: 'Cordon', clientSecrets: [SECRET], certificates: [], directoryRoles: [] }],
          auditRecords: records,
        },
      ],
      // The query is notStarted for 1.5 s, then running for 2.5 s, then succeeded.
      graph: {
        auditQuery: { notStartedMs: 1500, runningMs: 2500 },
        throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 },
      },
    } as unknown as Scenario;
    sim = await startSimulator({ quiet: true, scenario });
    t = await start();
    const res = await t.http
      .post('/v1/tenants')
      .set(bearer(adminKey))
      .send({ displayName: 'Purview', tenantId: TENANT, cloud: 'global', clientId: CLIENT, credential: { type: 'secret', secret: SECRET } });
    expect(res.status).toBe(201);
    tenantId = res.body.id;
    await t.http.post(`/v1/tenants/${tenantId}/capabilities/refresh`).set(bearer(adminKey)).expect(200);
  });
  afterAll(async () => {
    if (t && tenantId) await t.http.delete(`/v1/tenants/${tenantId}`).set(bearer(adminKey));
    await t?.close();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const search = async (id: string, app = t) => (await app.http.get(`/v1/tenants/${tenantId}/audit-searches/${id}`).set(bearer(adminKey)).expect(200)).body;

  async function allEvents(query: string): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: any[]; nextCursor: string | null } } = await t.http
        .get(`/v1/events?${query}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(adminKey))
        .expect(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  it('validates the request and refuses what nobody may ask', async () => {
    const post = (body: unknown, key = adminKey, id = tenantId) =>
      t.http
        .post(`/v1/tenants/${id}/audit-searches`)
        .set(bearer(key))
        .send(body as object);
    const now = Date.now();
    const invalid = async (body: unknown, field: string) => {
      const res = await post(body);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    await invalid({ since: new Date(now - DAY).toISOString(), until: new Date(now - 2 * DAY).toISOString() }, 'until');
    await invalid({ since: new Date(now - 200 * DAY).toISOString(), until: new Date(now).toISOString() }, 'since');
    await invalid({ since: 'yesterday', until: new Date(now).toISOString() }, 'since');
    await invalid({ since: new Date(now - DAY).toISOString(), until: new Date(now).toISOString(), recordTypes: ['exchange admin'] }, 'recordTypes');
    await invalid({ since: new Date(now - DAY).toISOString(), until: new Date(now).toISOString(), users: ['not-a-upn'] }, 'users');
    await invalid({ since: new Date(now - DAY).toISOString(), until: new Date(now).toISOString(), keyword: 'x' }, 'keyword');
    expectProblem(await post({ since: new Date(now - DAY).toISOString(), until: new Date(now).toISOString() }, adminKey, randomUUID()), 404, 'not-found');
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await post({ since: new Date(now - DAY).toISOString(), until: new Date(now).toISOString() }, auditor.key), 403, 'forbidden');
    const list = (await t.http.get(`/v1/tenants/${tenantId}/audit-searches`).set(bearer(adminKey)).expect(200)).body;
    expect(list.items).toEqual([]); // nothing was created by the refused requests
  });

  it('runs a search beyond 7 days through its lifecycle, showing status and counts, and stores its records as events', async () => {
    const since = new Date(Date.now() - 25 * DAY);
    const until = new Date(Date.now() - 2 * DAY);
    const analyst = await createKey(t, ['analyst']);
    const res = await t.http
      .post(`/v1/tenants/${tenantId}/audit-searches`)
      .set(bearer(analyst.key))
      .send({ since: since.toISOString(), until: until.toISOString(), recordTypes: ['exchangeAdmin'], users: ['Alice@Purview.example'] });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/tenants/${tenantId}/audit-searches/${res.body.id}`);
    expect(res.body).toMatchObject({
      tenantId,
      status: 'queued',
      recordTypes: ['exchangeAdmin'],
      users: ['alice@purview.example'],
      operations: [],
      counts: { fetched: 0, new: 0, duplicates: 0 },
      backfill: null,
      requestedBy: { type: 'apiKey', id: analyst.id },
    });
    const seen = new Set<string>();
    const done = await waitFor(
      () => search(res.body.id),
      (s) => {
        seen.add(`${s.status}/${s.microsoftStatus}`);
        return s.status === 'succeeded' || s.status === 'failed';
      },
    );
    expect(seen).toContain('submitted/notStarted');
    expect(seen).toContain('submitted/running');
    const expected = records.filter(
      (r) => r.RecordType === 1 && r.UserId === 'alice@purview.example' && creationMs(r) >= since.getTime() && creationMs(r) < until.getTime(),
    );
    expect(expected.length).toBeGreaterThan(20);
    expect(done).toMatchObject({
      status: 'succeeded',
      microsoftStatus: 'succeeded',
      error: null,
      counts: { fetched: expected.length, new: expected.length, duplicates: 0 },
    });
    expect(done.polls).toBeGreaterThanOrEqual(2);
    expect(done.completedAt).not.toBeNull();
    // The query Cordon created carries the filters; it was polled, then its records read to the end.
    const created = sim.journal.list({ host: 'graph', method: 'POST', path: '/security/auditLog/queries' });
    const body = JSON.parse(created[created.length - 1].body!);
    expect(body).toMatchObject({
      displayName: `cordon-${res.body.id}`,
      recordTypeFilters: ['exchangeAdmin'],
      userPrincipalNameFilters: ['alice@purview.example'],
      operationFilters: [],
    });
    expect(Date.parse(body.filterStartDateTime)).toBe(since.getTime());
    const events = await allEvents(`tenantId=${tenantId}&source=purview-search`);
    expect(new Set(events.map((e) => e.recordId))).toEqual(new Set(expected.map((r) => r.Id.toLowerCase())));
    const one = events.find((e) => e.recordId === expected[0].Id.toLowerCase());
    expect(one).toMatchObject({
      stream: 'Purview.AuditSearch',
      workload: 'Exchange',
      recordType: 1,
      operation: 'New-InboxRule',
      resultStatus: 'Succeeded',
      userId: 'alice@purview.example',
      userType: 0,
      clientIp: expected[0].ClientIP!.toString().split(':')[0],
      objectId: expected[0].ObjectId,
    });
    expect(one.occurredAt).toBe(new Date(creationMs(expected[0])).toISOString());
    expect(one.raw.auditData).toMatchObject(expected[0]);
    // The request was audited.
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=purview.search.requested`).set(bearer(adminKey)).expect(200)).body.items;
    expect(audit.some((e: any) => e.data.searchId === res.body.id)).toBe(true);
  });

  it('lists searches newest first with keyset paging', async () => {
    const first = await t.http
      .post(`/v1/tenants/${tenantId}/audit-searches`)
      .set(bearer(adminKey))
      .send({ since: new Date(Date.now() - 3 * DAY).toISOString(), until: new Date(Date.now()).toISOString(), operations: ['FileDownloaded'] })
      .expect(202);
    const page1 = (await t.http.get(`/v1/tenants/${tenantId}/audit-searches?limit=1`).set(bearer(adminKey)).expect(200)).body;
    expect(page1.items.map((s: any) => s.id)).toEqual([first.body.id]);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = (await t.http.get(`/v1/tenants/${tenantId}/audit-searches?limit=1&cursor=${page1.nextCursor}`).set(bearer(adminKey)).expect(200)).body;
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0].id).not.toBe(first.body.id);
    await waitFor(
      () => search(first.body.id),
      (s) => s.status === 'succeeded',
    );
  });

  it('runs one search for a playbook that retries with the same Idempotency-Key', async () => {
    const body = { since: new Date(Date.now() - 2 * DAY).toISOString(), until: new Date(Date.now()).toISOString(), operations: ['MailItemsAccessed'] };
    const post = () => t.http.post(`/v1/tenants/${tenantId}/audit-searches`).set(bearer(adminKey)).set('Idempotency-Key', 'purview-retry-1').send(body);
    const first = await post().expect(202);
    const again = await post().expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.body.id).toBe(first.body.id);
    const all = (await t.http.get(`/v1/tenants/${tenantId}/audit-searches?limit=100`).set(bearer(adminKey)).expect(200)).body.items;
    expect(all.filter((x: any) => JSON.stringify(x.operations ?? x.filters ?? x).includes('MailItemsAccessed'))).toHaveLength(1);
    await waitFor(
      () => search(first.body.id),
      (x) => x.status === 'succeeded',
    );
  });

  it('survives a restart of the service while Microsoft runs the query', async () => {
    const since = new Date(Date.now() - 30 * DAY);
    const until = new Date(Date.now());
    const res = await t.http
      .post(`/v1/tenants/${tenantId}/audit-searches`)
      .set(bearer(adminKey))
      .send({ since: since.toISOString(), until: until.toISOString(), service: 'SharePoint' })
      .expect(202);
    await waitFor(
      () => search(res.body.id),
      (s) => s.status === 'submitted',
    );
    await t.close();
    t = await start();
    const done = await waitFor(
      () => search(res.body.id),
      (s) => s.status === 'succeeded' || s.status === 'failed',
    );
    const expected = records.filter((r) => r.Workload === 'SharePoint' && creationMs(r) >= since.getTime() && creationMs(r) < until.getTime());
    expect(done).toMatchObject({ status: 'succeeded', counts: { fetched: expected.length } });
    expect(sim.journal.list({ host: 'graph', method: 'POST', path: '/security/auditLog/queries' }).filter((e) => e.body?.includes(res.body.id))).toHaveLength(
      1,
    ); // created once
    // Records pages were followed through @odata.nextLink (150 a page in the simulator).
    expect(sim.journal.list({ host: 'graph', path: `/security/auditLog/queries/${done.queryId}/records` }).length).toBeGreaterThan(1);
  });

  it('backfills a gap of the audit collector and marks it covered', async () => {
    // A gap the Management Activity collector reported: content older than its 7 days.
    const windowStart = new Date(Date.now() - 12 * DAY);
    const windowEnd = new Date(Date.now() - 8 * DAY);
    const rows: Array<{ id: string }> = await t.app
      .get(DataSource)
      .query(
        `INSERT INTO collection_gaps (tenant_id, source, stream, reason, window_start, window_end, detail) VALUES ($1, 'management-activity', 'Audit.Exchange', 'beyond-retention', $2, $3, 'test') RETURNING id`,
        [tenantId, windowStart, windowEnd],
      );
    const gapId = (Array.isArray(rows[0]) ? (rows[0] as unknown as Array<{ id: string }>)[0] : rows[0]).id;
    const url = `/v1/tenants/${tenantId}/collection/Audit.Exchange/backfill`;
    const analyst = await createKey(t, ['analyst']);
    expectProblem(await t.http.post(url).set(bearer(analyst.key)).send({ gapId }), 403, 'forbidden');
    expectProblem(await t.http.post(`/v1/tenants/${tenantId}/collection/Audit.SharePoint/backfill`).set(bearer(adminKey)).send({ gapId }), 404, 'not-found');
    expectProblem(await t.http.post(url).set(bearer(adminKey)).send({ gapId: 'nope' }), 400, 'validation-failed');
    const res = await t.http.post(url).set(bearer(adminKey)).send({ gapId });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      service: 'Exchange',
      since: windowStart.toISOString(),
      until: windowEnd.toISOString(),
      backfill: { gapId, stream: 'Audit.Exchange', covered: false },
    });
    const again = await t.http.post(url).set(bearer(adminKey)).send({ gapId });
    expectProblem(again, 409, 'backfill-exists');
    expect(again.body.searchId).toBe(res.body.id);
    const done = await waitFor(
      () => search(res.body.id),
      (s) => s.status === 'succeeded' || s.status === 'failed',
    );
    const expected = records.filter((r) => r.Workload === 'Exchange' && creationMs(r) >= windowStart.getTime() && creationMs(r) < windowEnd.getTime());
    expect(done).toMatchObject({ status: 'succeeded', backfill: { gapId, covered: true }, counts: { fetched: expected.length } });
    const stored = new Set(
      (await allEvents(`tenantId=${tenantId}&source=purview-search&since=${windowStart.toISOString()}&until=${windowEnd.toISOString()}`)).map(
        (e) => e.recordId,
      ),
    );
    for (const r of expected) expect(stored.has(r.Id.toLowerCase())).toBe(true);
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.backfill.requested`).set(bearer(adminKey)).expect(200)).body.items;
    expect(audit.some((e: any) => e.data.gapId === gapId && e.data.searchId === res.body.id)).toBe(true);
  });
});
