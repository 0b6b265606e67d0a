/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SecurityRetentionService } from '../../src/integrations/graph-security/security-retention.service';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { RawRecord, Scenario } from '../m365-simulator/src/types';
import { collectionStatus, requestOwnRun, streamOf } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { allPages, bearer, createKey, expectProblem, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * Collection of Defender XDR alerts and incidents through Graph against the simulator: every service
 * source (one Cordon has never heard of included), paging through nextLink to the end, incidents with
 * many alerts read without $expand, an alert changed after collection updated in place, throttling,
 * and the read APIs with their filters and keyset paging.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const OTHER_TENANT = randomUUID();
const OTHER_CLIENT = randomUUID();
const SECRET = 'graph-security-e2e-secret-1234';
const ALERTS_PAGE = 20;
const INCIDENTS_PAGE = 7;
const BIG_INCIDENT = '90001';
const BIG_INCIDENT_ALERTS = 150;

/** Every documented serviceSource (microsoft-notes §3.2), newer ones after unknownFutureValue, and one nobody knows yet. */
const SOURCES = [
  'microsoftDefenderForEndpoint',
  'microsoftDefenderForIdentity',
  'microsoftDefenderForOffice365',
  'microsoftDefenderForCloudApps',
  'microsoft365Defender',
  'azureAdIdentityProtection',
  'dataLossPrevention',
  'microsoftAppGovernance',
  'microsoftDefenderForCloud',
  'microsoftSentinel',
  'microsoftThreatIntelligence',
  'microsoftQuantumShield',
];
const SEVERITIES = ['informational', 'low', 'medium', 'high'];

let seq = 0;
function alert(nowMs: number, extra: RawRecord = {}): RawRecord {
  const n = seq++;
  const id = `da63${String(100000 + n)}_${randomUUID().slice(0, 8)}`;
  const created = nowMs - 6 * HOUR + n * 1000;
  return {
    '@odata.type': '#microsoft.graph.security.alert',
    id,
    providerAlertId: id,
    incidentId: String(80000 + (n % 5)),
    status: 'new',
    severity: SEVERITIES[n % 4],
    classification: null,
    determination: null,
    serviceSource: SOURCES[n % SOURCES.length],
    detectionSource: 'antivirus',
    title: `Alert ${n}`,
    category: 'InitialAccess',
    tenantId: TENANT,
    // Graph sends up to seven fractional digits.
    createdDateTime: new Date(created).toISOString().replace('Z', '1234Z'),
    lastUpdateDateTime: new Date(created + 5 * MIN).toISOString(),
    evidence: [],
    ...extra,
  };
}

function incident(nowMs: number, id: string, i: number, extra: RawRecord = {}): RawRecord {
  return {
    id,
    tenantId: TENANT,
    displayName: `Incident ${id}`,
    severity: SEVERITIES[i % 4],
    status: i % 3 ? 'active' : 'resolved',
    classification: 'unknown',
    determination: 'unknown',
    assignedTo: null,
    redirectIncidentId: null,
    customTags: [],
    systemTags: [],
    comments: [],
    createdDateTime: new Date(nowMs - 5 * HOUR + i * MIN).toISOString(),
    lastUpdateDateTime: new Date(nowMs - 5 * HOUR + i * MIN + 30_000).toISOString(),
    ...extra,
  };
}

describe('collection of Defender XDR alerts and incidents (Graph security)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let otherTenantId: string;
  let alerts: RawRecord[];
  let incidents: RawRecord[];
  const simTenant = () => sim.context.findTenant(TENANT)!;

  beforeAll(async () => {
    const nowMs = Date.now();
    alerts = [
      ...Array.from({ length: SOURCES.length * 3 }, () => alert(nowMs)),
      ...Array.from({ length: BIG_INCIDENT_ALERTS }, (_, i) => alert(nowMs, { incidentId: BIG_INCIDENT, serviceSource: SOURCES[i % 3], severity: 'low' })),
    ];
    incidents = [
      ...Array.from({ length: 30 }, (_, i) => incident(nowMs, String(80000 + i), i)),
      // The docs' first sample spells members in PascalCase; the API uses camelCase (microsoft-notes §3.2).
      incident(nowMs, BIG_INCIDENT, 3, { severity: 'High', status: 'InProgress' }),
    ];
    const scenario: Scenario = {
      tenants: [
        { tenantId: TENANT, displayName: 'Security Tenant', apps: [simApp(CLIENT, SECRET)], alerts, incidents } as never,
        {
          tenantId: OTHER_TENANT,
          displayName: 'Other Security Tenant',
          apps: [simApp(OTHER_CLIENT, SECRET)],
          alerts: [{ ...alert(nowMs), tenantId: OTHER_TENANT }],
        } as never,
      ],
      graph: UNTHROTTLED_GRAPH,
    };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_MICROSOFT_MAX_RETRIES: '2',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_GRAPH_SECURITY_ALERTS_PAGE_SIZE: String(ALERTS_PAGE),
      CORDON_GRAPH_SECURITY_INCIDENTS_PAGE_SIZE: String(INCIDENTS_PAGE),
      CORDON_GRAPH_SECURITY_OVERLAP_MINUTES: '10',
    });
    const register = (tid: string, clientId: string) => registerTenant(t, `S ${tid.slice(0, 8)}`, { tenantId: tid, clientId, secret: SECRET });
    tenantId = await register(TENANT, CLIENT);
    otherTenantId = await register(OTHER_TENANT, OTHER_CLIENT);
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId, otherTenantId]));

  const status = (id = tenantId) => collectionStatus(t, id);
  const runAndWait = (stream: string, id = tenantId) => requestOwnRun(t, id, stream);
  const all = (path: string, query: string, key = t.adminKey, limit = 200) => allPages<any>(t, `${path}?${query}`, limit, key);
  const journalSince = () => sim.journal.list({}).at(-1)?.seq ?? 0;

  it('shows the alerts and incidents streams per tenant', async () => {
    const body = await status();
    expect(streamOf(body, 'alerts')).toMatchObject({ source: 'graph-security', enabled: true });
    expect(streamOf(body, 'incidents')).toMatchObject({ source: 'graph-security', enabled: true });
    // The scheduler's first tick may have started runs already: let them end, so each test sees its own.
    for (const id of [tenantId, otherTenantId]) {
      await waitFor(
        () => status(id),
        (b) => ['alerts', 'incidents'].every((s) => !streamOf(b, s).lastRun || streamOf(b, s).lastRun.finishedAt),
      );
    }
  });

  it('collects alerts from every service source, one never seen before included, following nextLink to the end', async () => {
    const since = journalSince();
    const s = await runAndWait('alerts');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', error: null });
    expect(s.cursor).toBe(new Date(Math.max(...alerts.map((a) => Date.parse(a.lastUpdateDateTime as string)))).toISOString());
    const stored = await all('/v1/alerts', `tenantId=${tenantId}`);
    expect(stored).toHaveLength(alerts.length);
    expect(new Set(stored.map((a) => a.id))).toEqual(new Set(alerts.map((a) => a.id)));
    // Open enum: the newer members and the unknown one are stored as sent, never unknownFutureValue.
    expect(new Set(stored.map((a) => a.serviceSource))).toEqual(new Set(SOURCES));
    const unknown = stored.find((a) => a.serviceSource === 'microsoftQuantumShield');
    const original = alerts.find((a) => a.id === unknown.id)!;
    expect(unknown.raw).toEqual(original);
    expect(unknown).toMatchObject({ tenantId, incidentId: original.incidentId, severity: original.severity, status: 'new', title: original.title });
    expect(unknown.createdDateTime).toBe(new Date(Date.parse(original.createdDateTime as string)).toISOString());

    const calls = sim.journal.list({ host: 'graph', path: '/security/alerts_v2', since }).filter((c) => new URLSearchParams(c.query).get('$top') !== '1');
    expect(calls.length).toBe(Math.ceil(alerts.length / ALERTS_PAGE));
    expect(calls.every((c) => c.status === 200 && c.headers.prefer === 'include-unknown-enum-members')).toBe(true);
    const queries = calls.map((c) => new URLSearchParams(c.query));
    expect(queries.every((q) => !q.has('$skip'))).toBe(true); // never stepping $skip (microsoft-notes M8)
    expect(queries.slice(1).every((q) => q.has('$skiptoken'))).toBe(true);
    expect(queries[0].get('$top')).toBe(String(ALERTS_PAGE));
    expect(queries[0].has('$filter')).toBe(false); // a first run takes everything
  });

  it("collects incidents without $expand, paging to the end, and counts an incident's many alerts", async () => {
    const since = journalSince();
    const s = await runAndWait('incidents');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', new: incidents.length, updated: 0 });
    // (the capability probe's `$top=1` reads are not the collector's)
    const calls = sim.journal.list({ host: 'graph', path: '/security/incidents', since }).filter((c) => new URLSearchParams(c.query).get('$top') !== '1');
    expect(calls.length).toBe(Math.ceil(incidents.length / INCIDENTS_PAGE));
    expect(calls.every((c) => !/expand/i.test(c.query) && c.headers.prefer === 'include-unknown-enum-members')).toBe(true);
    const stored = await all('/v1/incidents', `tenantId=${tenantId}`, t.adminKey, 9);
    expect(stored).toHaveLength(incidents.length);
    const big = stored.find((i) => i.id === BIG_INCIDENT);
    expect(big).toMatchObject({ alertCount: BIG_INCIDENT_ALERTS, severity: 'high', status: 'inProgress', displayName: `Incident ${BIG_INCIDENT}` });
    expect(big.raw.alerts).toBeUndefined();
    const itsAlerts = await all('/v1/alerts', `tenantId=${tenantId}&incidentId=${BIG_INCIDENT}`, t.adminKey, 1000);
    expect(itsAlerts).toHaveLength(BIG_INCIDENT_ALERTS);
    expect((await all('/v1/incidents', `tenantId=${tenantId}&severity=HIGH`)).map((i) => i.id)).toContain(BIG_INCIDENT);
  });

  it('filters and pages alerts (keyset, newest first), tenant-scoped by role', async () => {
    const every = await all('/v1/alerts', `tenantId=${tenantId}`, t.adminKey, 7);
    expect(every).toHaveLength(alerts.length);
    expect(new Set(every.map((a) => a.id)).size).toBe(every.length);
    for (let i = 1; i < every.length; i++) expect(every[i - 1].createdDateTime >= every[i].createdDateTime).toBe(true);
    const q = (query: string) => all('/v1/alerts', `tenantId=${tenantId}&${query}`);
    expect((await q('serviceSource=microsoftSentinel')).length).toBe(alerts.filter((a) => a.serviceSource === 'microsoftSentinel').length);
    expect((await q('severity=High')).every((a) => a.severity === 'high')).toBe(true);
    expect((await q('severity=high')).length).toBe(alerts.filter((a) => a.severity === 'high').length);
    expect((await q('status=resolved')).length).toBe(0);
    const since = every[30].createdDateTime;
    const until = every[10].createdDateTime;
    const window = await q(`since=${since}&until=${until}`);
    expect(window.map((a) => a.id)).toEqual(every.filter((a) => a.createdDateTime >= since && a.createdDateTime < until).map((a) => a.id));

    expectProblem(await t.http.get('/v1/alerts?cursor=bogus!').set(bearer(t.adminKey)), 400, 'validation-failed');
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x', 'y'])).toString('base64url');
    expectProblem(await t.http.get(`/v1/alerts?cursor=${forged}`).set(bearer(t.adminKey)), 400, 'validation-failed');
    expectProblem(await t.http.get('/v1/alerts?severity=drop%20table').set(bearer(t.adminKey)), 400, 'validation-failed');
    expectProblem(await t.http.get('/v1/incidents?since=yesterday').set(bearer(t.adminKey)), 400, 'validation-failed');

    await runAndWait('alerts', otherTenantId);
    const scoped = await createKey(t, ['analyst'], { tenantIds: [otherTenantId] });
    const mine = await all('/v1/alerts', '', scoped.key);
    expect(mine.length).toBe(1);
    expect(mine[0].tenantId).toBe(otherTenantId);
    expect((await t.http.get(`/v1/alerts?tenantId=${tenantId}`).set(bearer(scoped.key)).expect(200)).body.items).toEqual([]);
    expect((await t.http.get(`/v1/incidents?tenantId=${tenantId}`).set(bearer(scoped.key)).expect(200)).body.items).toEqual([]);
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await t.http.get('/v1/alerts').set(bearer(auditor.key)), 403, 'forbidden');
    expectProblem(await t.http.get('/v1/incidents').set(bearer(auditor.key)), 403, 'forbidden');
    expectProblem(await t.http.get('/v1/alerts'), 401, 'unauthenticated');
  });

  it('updates an alert changed after collection in place, and lists only what changed since the cursor (with the overlap)', async () => {
    const before = streamOf(await status(), 'alerts');
    const target = simTenant().alerts[4];
    const changedAt = new Date(Date.parse(before.cursor) + 2 * MIN).toISOString();
    Object.assign(target, {
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      resolvedDateTime: changedAt,
      lastUpdateDateTime: changedAt,
    });
    const since = journalSince();
    const s = await runAndWait('alerts');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', new: 0, updated: 1 });
    expect(s.cursor).toBe(changedAt);
    const filter = new URLSearchParams(sim.journal.list({ host: 'graph', path: '/security/alerts_v2', since })[0].query).get('$filter');
    expect(filter).toBe(`lastUpdateDateTime ge ${new Date(Date.parse(before.cursor) - 10 * MIN).toISOString()}`);

    const stored = await all('/v1/alerts', `tenantId=${tenantId}`);
    expect(stored).toHaveLength(alerts.length); // in place: no second row
    const row = stored.find((a) => a.id === target.id);
    expect(row).toMatchObject({
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      resolvedDateTime: changedAt,
      lastUpdateDateTime: changedAt,
    });
    expect(row.raw.status).toBe('resolved');
    expect(Date.parse(row.collectedAt)).toBeGreaterThan(Date.parse(row.firstCollectedAt));
    expect((await all('/v1/alerts', `tenantId=${tenantId}&status=resolved`)).map((a) => a.id)).toEqual([target.id]);

    // The same versions again (the overlap re-lists them): nothing changes.
    const relisted = simTenant().alerts.filter((a) => Date.parse(a.lastUpdateDateTime as string) >= Date.parse(changedAt) - 10 * MIN).length;
    const again = await runAndWait('alerts');
    expect(again.lastRun).toMatchObject({ status: 'succeeded', new: 0, updated: 0, duplicates: relisted });
  });

  it('waits out 429 Retry-After and finishes the same run', async () => {
    const fresh = alert(sim.clock.nowMs() + 10 * MIN, { lastUpdateDateTime: new Date(Date.now() + 20 * MIN).toISOString() });
    simTenant().alerts.push(fresh);
    const since = journalSince();
    sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: '/v1.0/security/alerts_v2',
      times: 2,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    } as never);
    const s = await runAndWait('alerts');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    const calls = sim.journal.list({ host: 'graph', path: '/security/alerts_v2', since });
    expect(calls.map((c) => c.status).slice(0, 3)).toEqual([429, 429, 200]);
    expect(calls.slice(3).every((c) => c.status === 200)).toBe(true);
    expect(Date.parse(calls[1].time) - Date.parse(calls[0].time)).toBeGreaterThanOrEqual(900); // Retry-After honoured
    expect((await all('/v1/alerts', `tenantId=${tenantId}`)).some((a) => a.id === fresh.id)).toBe(true);
  });

  it('stops a run still throttled after its retries without moving the cursor; the next run resumes', async () => {
    const fresh = alert(sim.clock.nowMs() + 20 * MIN, { lastUpdateDateTime: new Date(Date.now() + 40 * MIN).toISOString() });
    simTenant().alerts.push(fresh);
    const before = streamOf(await status(), 'alerts').cursor;
    const fault = sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: '/v1.0/security/alerts_v2',
      times: 0,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    } as never);
    let s;
    try {
      s = await runAndWait('alerts');
    } finally {
      sim.faults.remove(fault.id);
    }
    expect(s.lastRun.status).toBe('throttled');
    expect(s.cursor).toBe(before);
    expect(s.lastError.message).toMatch(/retry|throttl|429|TooManyRequests/i);
    const s2 = await runAndWait('alerts');
    expect(s2.lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    expect(s2.lastError).toBeNull();
    expect(s2.cursor).toBe(fresh.lastUpdateDateTime);
  });

  it('fails a run whose listing breaks (connection dropped) without moving the cursor; the next run collects it all', async () => {
    const base = Date.now() + 60 * MIN;
    const batch = Array.from({ length: 3 * ALERTS_PAGE }, (_, i) =>
      alert(sim.clock.nowMs() + HOUR, { lastUpdateDateTime: new Date(base + i * 1000).toISOString() }),
    );
    simTenant().alerts.push(...batch);
    const before = streamOf(await status(), 'alerts').cursor;
    const failing = sim.faults.add({ host: 'graph', method: 'GET', pathPattern: '/v1.0/security/alerts_v2', times: 0, drop: true } as never);
    let s;
    try {
      s = await runAndWait('alerts');
    } finally {
      sim.faults.remove(failing.id);
    }
    expect(s.lastRun.status).toBe('failed');
    expect(s.lastError).not.toBeNull();
    expect(s.cursor).toBe(before);
    const s2 = await runAndWait('alerts');
    expect(s2.lastRun).toMatchObject({ status: 'succeeded', new: batch.length });
    expect(s2.cursor).toBe(batch.at(-1)!.lastUpdateDateTime);
  });

  it('drops alerts and incidents Microsoft has not updated within the retention period', async () => {
    const db = t.app.get(DataSource);
    const old = new Date(Date.now() - 400 * 86_400_000);
    for (const table of ['security_alerts', 'security_incidents']) {
      await db.query(
        `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(o) || jsonb_build_object('id', 'retention-' || o.id, 'last_update_at', $2::timestamptz))).* FROM ${table} o WHERE tenant_id = $1 LIMIT 1`,
        [tenantId, old],
      );
    }
    const before = Number((await db.query('SELECT count(*)::int AS n FROM security_alerts WHERE tenant_id = $1', [tenantId]))[0].n);
    const removed = await t.app.get(SecurityRetentionService).purge(new Date());
    expect(removed.alerts).toBeGreaterThanOrEqual(1);
    expect(removed.incidents).toBeGreaterThanOrEqual(1);
    expect(await db.query(`SELECT id FROM security_alerts WHERE tenant_id = $1 AND id LIKE 'retention-%'`, [tenantId])).toEqual([]);
    expect(await db.query(`SELECT id FROM security_incidents WHERE tenant_id = $1 AND id LIKE 'retention-%'`, [tenantId])).toEqual([]);
    expect(Number((await db.query('SELECT count(*)::int AS n FROM security_alerts WHERE tenant_id = $1', [tenantId]))[0].n)).toBe(before - 1);
  });

  it('exposes per-source metrics', async () => {
    const text = (await t.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(
      new RegExp(`cordon_collection_records_total\\{tenant="${tenantId}",source="graph-security",stream="alerts",outcome="updated"\\} [1-9]`),
    );
    expect(text).toMatch(
      new RegExp(`cordon_collection_records_total\\{tenant="${tenantId}",source="graph-security",stream="incidents",outcome="new"\\} ${incidents.length}`),
    );
    expect(text).toMatch(new RegExp(`cordon_collection_runs_total\\{tenant="${tenantId}",source="graph-security",stream="alerts",status="throttled"\\} [1-9]`));
  });
});
