/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { DataSource } from 'typeorm';
import { CollectionService } from '../../src/collection/collection.service';
import { collectionStatus, requestRuns, streamOf } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv } from './support/sim-tenant';
import { allPages, bearer, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Entra sign-ins, directory audits and Identity Protection risk detections collected through Graph
 * into the events store: paging to the end, an overlap that picks up late sign-ins, Identity
 * Protection paced at 1 request per second (journal timing), sign-ins skipped (not failed) for a
 * tenant without P1/P2, throttling honoured and a failed run not moving the cursor.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const FREE_TENANT = randomUUID();
const FREE_CLIENT = randomUUID();
const SECRET = 'entra-telemetry-e2e-secret-1234';
const SIGN_INS = 2300; // three pages of 1,000
const AUDITS = 700; // two pages of 500
const RISKS = 1100; // three pages of 500 (the most Identity Protection allows)

const iso = (ms: number) => new Date(ms).toISOString();

function signIn(i: number, at: number, tenantId = TENANT): Record<string, unknown> {
  return {
    id: randomUUID(),
    createdDateTime: iso(at),
    userDisplayName: `User ${i % 7}`,
    userPrincipalName: `User${i % 7}@Entra.example`,
    userId: randomUUID(),
    appId: '00000002-0000-0ff1-ce00-000000000000',
    appDisplayName: 'Office 365 Exchange Online',
    ipAddress: i % 3 === 0 ? `2001:db8::${(i % 200).toString(16)}` : `203.0.113.${i % 250}`,
    clientAppUsed: 'Browser',
    correlationId: randomUUID(),
    conditionalAccessStatus: 'success',
    isInteractive: i % 4 !== 0,
    tenantId,
    status: i % 5 === 0 ? { errorCode: 50126, failureReason: 'Invalid username or password.' } : { errorCode: 0, failureReason: 'Other.' },
    location: { city: 'Seattle', countryOrRegion: 'US' },
  };
}

function directoryAudit(i: number, at: number): Record<string, unknown> {
  const byApp = i % 3 === 0;
  return {
    id: `Directory_${randomUUID()}`,
    category: 'UserManagement',
    correlationId: randomUUID(),
    result: i % 9 === 0 ? 'failure' : 'success',
    resultReason: '',
    activityDisplayName: i % 2 ? 'Update user' : 'Disable account',
    activityDateTime: iso(at),
    loggedByService: 'Core Directory',
    operationType: 'Update',
    initiatedBy: byApp
      ? { user: null, app: { appId: CLIENT, displayName: 'Cordon', servicePrincipalId: randomUUID(), servicePrincipalName: 'Cordon' } }
      : { app: null, user: { id: randomUUID(), displayName: null, userPrincipalName: `Admin${i % 3}@Entra.example`, ipAddress: '198.51.100.9' } },
    targetResources: [{ id: randomUUID(), displayName: null, type: 'User', userPrincipalName: `target${i % 11}@entra.example`, modifiedProperties: [] }],
    additionalDetails: [],
  };
}

function riskDetection(i: number, at: number): Record<string, unknown> {
  return {
    id: randomUUID(),
    requestId: randomUUID(),
    correlationId: randomUUID(),
    riskEventType: ['unfamiliarFeatures', 'anonymizedIPAddress', 'leakedCredentials'][i % 3],
    riskState: 'atRisk',
    riskLevel: 'medium',
    riskDetail: 'none',
    source: 'IdentityProtection',
    detectionTimingType: 'realtime',
    activity: 'signin',
    tokenIssuerType: 'AzureAD',
    ipAddress: '198.51.100.77',
    location: null,
    activityDateTime: iso(at - 5 * MIN),
    detectedDateTime: iso(at),
    lastUpdatedDateTime: iso(at),
    userId: randomUUID(),
    userDisplayName: 'Risky',
    userPrincipalName: `risky${i % 5}@entra.example`,
    additionalInfo: '[]',
  };
}

describe('collection of Entra sign-ins, directory audits and risk detections (Graph)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let freeTenantId: string;
  const seeded = { signIns: [] as Array<Record<string, unknown>>, audits: [] as Array<Record<string, unknown>>, risks: [] as Array<Record<string, unknown>> };

  beforeAll(async () => {
    const now = Date.now();
    // Spread over the last 3 days, newest ten minutes ago.
    seeded.signIns = Array.from({ length: SIGN_INS }, (_, i) => signIn(i, now - 10 * MIN - i * 100_000));
    seeded.audits = Array.from({ length: AUDITS }, (_, i) => directoryAudit(i, now - 10 * MIN - i * 300_000));
    seeded.risks = Array.from({ length: RISKS }, (_, i) => riskDetection(i, now - 10 * MIN - i * 200_000));
    const scenario: Scenario = {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Entra Telemetry',
          apps: [simApp(CLIENT, SECRET)],
          signIns: seeded.signIns,
          directoryAudits: seeded.audits,
          riskDetections: seeded.risks,
        } as never,
        // Entra ID Free: no sign-in logs, no Identity Protection; directory audits still readable.
        {
          tenantId: FREE_TENANT,
          displayName: 'Entra Free',
          apps: [simApp(FREE_CLIENT, SECRET)],
          licences: { entraP1: false, entraP2: false },
          signIns: [signIn(1, now - HOUR, FREE_TENANT)],
          directoryAudits: [directoryAudit(1, now - HOUR)],
        } as never,
      ],
      // Identity Protection's real limit (1/s per tenant, 429 without Retry-After); the others off
      // (throttling is injected as a fault where a test wants it).
      graph: { throttling: { identityProtectionPerSecond: 1, reportsPer10Seconds: 0, securityPerMinute: 0 } },
    } as Scenario;
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_MICROSOFT_MAX_RETRIES: '2',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_ENTRA_OVERLAP_MINUTES: '30',
    });
    const register = async (tid: string, clientId: string, name: string) => {
      const id = await registerTenant(t, name, { tenantId: tid, clientId, secret: SECRET });
      const caps = await t.http.post(`/v1/tenants/${id}/capabilities/refresh`).set(bearer(t.adminKey));
      expect(caps.body.connection).toBe('connected');
      return id;
    };
    tenantId = await register(TENANT, CLIENT, 'Entra Telemetry');
    freeTenantId = await register(FREE_TENANT, FREE_CLIENT, 'Entra Free');
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId, freeTenantId]));

  const status = (id = tenantId) => collectionStatus(t, id);
  const runAndWait = (streams: string[], id = tenantId) => requestRuns(t, id, streams, 120000);
  const allEvents = (query: string) => allPages<any>(t, `/v1/events?${query}`, 1000);

  const idsOf = (records: Array<Record<string, unknown>>) => new Set(records.map((r) => String(r.id).toLowerCase()));

  it('lists the three Entra sources per tenant, each with its own source and capability', async () => {
    const body = await status();
    expect(streamOf(body, 'Entra.SignIns')).toMatchObject({
      source: 'entra-sign-ins',
      enabled: true,
      state: 'active',
      capability: 'available',
      skipReason: null,
    });
    expect(streamOf(body, 'Entra.DirectoryAudits')).toMatchObject({ source: 'entra-directory-audits', state: 'active', capability: 'available' });
    expect(streamOf(body, 'Entra.RiskDetections')).toMatchObject({ source: 'entra-risk-detections', state: 'active', capability: 'available' });
  });

  it('collects every sign-in, directory audit and risk detection, following @odata.nextLink to the last page', async () => {
    const since = sim.journal.lastSeq();
    const body = await runAndWait(['Entra.SignIns', 'Entra.DirectoryAudits', 'Entra.RiskDetections']);
    for (const [stream, source, records] of [
      ['Entra.SignIns', 'entra-sign-ins', seeded.signIns],
      ['Entra.DirectoryAudits', 'entra-directory-audits', seeded.audits],
      ['Entra.RiskDetections', 'entra-risk-detections', seeded.risks],
    ] as const) {
      const s = streamOf(body, stream);
      expect(s.lastRun).toMatchObject({ status: 'succeeded', error: null });
      expect(s.cursor).not.toBeNull();
      const stored = await allEvents(`tenantId=${tenantId}&source=${source}`);
      expect(stored.length).toBe(records.length);
      expect(new Set(stored.map((e) => e.recordId))).toEqual(idsOf(records));
      expect(stored.every((e) => e.stream === stream)).toBe(true);
    }
    // Paging: the first request filters on time; later pages are the nextLinks as Graph gave them.
    const signInCalls = sim.journal
      .list({ host: 'graph', method: 'GET', path: '/auditLogs/signIns', since })
      .filter((e) => (e.headers.authorization ?? '').includes(CLIENT));
    const firsts = signInCalls.filter((e) => new URLSearchParams(e.query).has('$filter'));
    const follows = signInCalls.filter((e) => new URLSearchParams(e.query).has('$skiptoken'));
    expect(firsts.length).toBeGreaterThanOrEqual(1);
    expect(follows.length).toBeGreaterThanOrEqual(2); // 2,300 records at 1,000 a page
    expect(new URLSearchParams(firsts[0].query).get('$filter')).toMatch(/^createdDateTime ge \S+Z and createdDateTime lt \S+Z$/);
    expect(signInCalls.map((e) => `${e.status} ${e.query}`).filter((x) => !x.startsWith('200'))).toEqual([]);
    expect(
      sim.journal.list({ host: 'graph', path: '/identityProtection/riskDetections', since }).filter((e) => new URLSearchParams(e.query).has('$skiptoken'))
        .length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('paces Identity Protection at one request per second per tenant (journal timing)', async () => {
    await runAndWait(['Entra.RiskDetections']);
    // Every risk detection request so far: the full read above, this run, any scheduled one.
    const all = sim.journal.list({ host: 'graph', path: '/identityProtection/' });
    const calls = all.filter((e) => e.path.endsWith('/riskDetections'));
    expect(calls.length).toBeGreaterThanOrEqual(4); // first page, two nextLinks, and this run
    const times = calls.map((e) => Date.parse(e.time));
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(1000);
    // The simulator throttles at 1/s for all callers of the tenant: a 429 is only possible when
    // another caller (the capability probe's riskyUsers read) took the second, and it was waited out.
    for (const throttled of calls.filter((e) => e.status === 429)) {
      const at = Date.parse(throttled.time);
      expect(all.some((e) => e.path.endsWith('/riskyUsers') && at - Date.parse(e.time) >= 0 && at - Date.parse(e.time) < 1000)).toBe(true);
    }
    expect(calls[calls.length - 1].status).toBe(200);
  });

  it('maps the records into the events columns and keeps the raw record', async () => {
    const signIns = await allEvents(`tenantId=${tenantId}&source=entra-sign-ins`);
    const failed = seeded.signIns[5];
    const e = signIns.find((x) => x.recordId === String(failed.id).toLowerCase());
    expect(e).toMatchObject({
      workload: 'AzureActiveDirectory',
      operation: 'SignIn',
      resultStatus: 'Failed',
      userId: 'user5@entra.example',
      clientIp: '203.0.113.5',
      recordType: null,
      occurredAt: failed.createdDateTime,
      objectId: failed.appId,
    });
    expect(e.raw).toEqual(failed);
    expect(signIns.find((x) => x.recordId === String(seeded.signIns[3].id).toLowerCase())).toMatchObject({
      clientIp: '2001:db8::3',
      resultStatus: 'Succeeded',
    });
    expect(signIns.find((x) => x.recordId === String(seeded.signIns[4].id).toLowerCase())).toMatchObject({ operation: 'NonInteractiveSignIn' });
    const audits = await allEvents(`tenantId=${tenantId}&source=entra-directory-audits`);
    const byUser = audits.find((x) => x.recordId === String(seeded.audits[1].id).toLowerCase());
    expect(byUser).toMatchObject({
      operation: 'Update user',
      resultStatus: 'Succeeded',
      userId: 'admin1@entra.example',
      clientIp: '198.51.100.9',
      objectId: 'target1@entra.example',
    });
    expect(audits.find((x) => x.recordId === String(seeded.audits[9].id).toLowerCase())).toMatchObject({
      resultStatus: 'Failed',
      userId: CLIENT.toLowerCase(),
      clientIp: null,
    });
    const risks = await allEvents(`tenantId=${tenantId}&source=entra-risk-detections`);
    const risk = seeded.risks[2];
    expect(risks.find((x) => x.recordId === String(risk.id).toLowerCase())).toMatchObject({
      operation: 'leakedCredentials',
      resultStatus: 'atRisk',
      userId: 'risky2@entra.example',
      clientIp: '198.51.100.77',
      occurredAt: risk.activityDateTime,
      objectId: risk.userId,
    });
    // The events API filters the new sources like any other.
    const user = (
      await t.http.get(`/v1/events?tenantId=${tenantId}&source=entra-sign-ins&user=USER5@entra.example&limit=1000`).set(bearer(t.adminKey)).expect(200)
    ).body.items;
    expect(user.length).toBe(seeded.signIns.filter((r) => r.userPrincipalName === 'User5@Entra.example').length);
  });

  it('picks up a sign-in that arrives late, inside the overlap window, and stores re-read ones once', async () => {
    const cursor = Date.parse(streamOf(await status(), 'Entra.SignIns').cursor);
    const late = signIn(9999, cursor - 10 * MIN); // logged before the cursor, delivered after the run
    sim.context.tenants.get(TENANT)!.signIns.push(late);
    const body = await runAndWait(['Entra.SignIns']);
    const run = streamOf(body, 'Entra.SignIns').lastRun;
    expect(run.status).toBe('succeeded');
    expect(run.new).toBe(1);
    expect(run.fetched).toBe(run.new + run.duplicates);
    expect(Date.parse(run.windowStart)).toBeLessThanOrEqual(cursor - 30 * MIN); // the overlap re-read
    const stored = await allEvents(`tenantId=${tenantId}&source=entra-sign-ins`);
    expect(stored.length).toBe(SIGN_INS + 1);
    expect(stored.some((e) => e.recordId === String(late.id))).toBe(true);
  });

  it('skips, and does not fail, sign-ins and Identity Protection for a tenant without P1/P2', async () => {
    const body = await status(freeTenantId);
    expect(streamOf(body, 'Entra.SignIns')).toMatchObject({ state: 'skipped', capability: 'unlicensed', lastRun: null, lastError: null });
    expect(streamOf(body, 'Entra.SignIns').skipReason).toMatch(/unlicensed: .*Authentication_RequestFromNonPremiumTenantOrB2CTenant/);
    expect(streamOf(body, 'Entra.RiskDetections')).toMatchObject({ state: 'skipped', capability: 'unlicensed', lastRun: null });
    expect(streamOf(body, 'Entra.DirectoryAudits')).toMatchObject({ state: 'active', capability: 'available' });
    // Asked to run it, Cordon says why not; the scheduler passes it by.
    expectProblem(await t.http.post(`/v1/tenants/${freeTenantId}/collection/Entra.SignIns/run`).set(bearer(t.adminKey)), 409, 'capability-unavailable');
    const since = sim.journal.lastSeq();
    await t.app.get(CollectionService).tick(new Date(Date.now() + 2 * 24 * HOUR));
    const audits = await runAndWait(['Entra.DirectoryAudits'], freeTenantId);
    expect(streamOf(audits, 'Entra.DirectoryAudits').lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    const freeApp = (e: { headers: Record<string, string> }) => (e.headers.authorization ?? '').includes(FREE_CLIENT);
    expect(sim.journal.list({ host: 'graph', path: '/auditLogs/signIns', since }).filter(freeApp)).toEqual([]);
    expect(sim.journal.list({ host: 'graph', path: '/identityProtection/', since }).filter(freeApp)).toEqual([]);
    const after = await status(freeTenantId);
    expect(streamOf(after, 'Entra.SignIns')).toMatchObject({ state: 'skipped', lastRun: null, lastError: null });
  });

  it('waits out a 429 with Retry-After in the same run', async () => {
    const since = sim.journal.lastSeq();
    const fault = sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: '/v1.0/auditLogs/directoryAudits',
      times: 1,
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    } as never);
    const body = await runAndWait(['Entra.DirectoryAudits']);
    sim.faults.remove(fault.id);
    expect(streamOf(body, 'Entra.DirectoryAudits').lastRun).toMatchObject({ status: 'succeeded', error: null });
    const calls = sim.journal.list({ host: 'graph', path: '/auditLogs/directoryAudits', since });
    expect(calls[0].status).toBe(429);
    expect(calls[1].status).toBe(200);
    expect(Date.parse(calls[1].time) - Date.parse(calls[0].time)).toBeGreaterThanOrEqual(950); // Retry-After honoured
  });

  it('stops a run still throttled after its retries without moving the cursor; the next run covers the window', async () => {
    const before = streamOf(await status(), 'Entra.SignIns');
    const late = signIn(12345, Date.parse(before.cursor) - 5 * MIN);
    sim.context.tenants.get(TENANT)!.signIns.push(late);
    // Throttled beyond its retries: the run stops and the cursor stays where it was.
    const fault = sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: '/v1.0/auditLogs/signIns',
      times: 0,
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    } as never);
    const body = await runAndWait(['Entra.SignIns']);
    const s = streamOf(body, 'Entra.SignIns');
    expect(s.lastRun.status).toBe('throttled');
    expect(s.lastError.message).toMatch(/429|TooManyRequests/);
    expect(s.cursor).toBe(before.cursor);
    sim.faults.remove(fault.id);
    const again = streamOf(await runAndWait(['Entra.SignIns']), 'Entra.SignIns');
    expect(again.lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    expect(again.lastError).toBeNull();
    expect(Date.parse(again.cursor)).toBeGreaterThan(Date.parse(before.cursor));
    const metrics = await t.http.get('/metrics');
    expect(metrics.text).toMatch(/cordon_collection_runs_total\{[^}]*source="entra-sign-ins"[^}]*status="throttled"\} [1-9]/);
    expect(metrics.text).toMatch(/cordon_collection_records_total\{[^}]*source="entra-risk-detections"[^}]*outcome="new"\} [1-9]/);
  });

  it('reports the span older than Microsoft keeps as a gap (audited), once, and carries on', async () => {
    const old = new Date(Date.now() - 40 * 24 * HOUR); // sign-ins are kept 30 days
    await t.app.get(DataSource).query(`UPDATE collection_streams SET cursor = $2 WHERE tenant_id = $1 AND stream = 'Entra.SignIns'`, [tenantId, old]);
    const s = streamOf(await runAndWait(['Entra.SignIns']), 'Entra.SignIns');
    expect(s.lastRun).toMatchObject({ status: 'succeeded', gaps: 1 });
    expect(s.gaps[0]).toMatchObject({ reason: 'beyond-retention', windowStart: old.toISOString() });
    expect(Date.parse(s.gaps[0].windowEnd)).toBeGreaterThan(Date.now() - 31 * 24 * HOUR);
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=collection.gap`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(audit.filter((e: any) => e.data.stream === 'Entra.SignIns' && e.data.reason === 'beyond-retention')).toHaveLength(1);
    const again = streamOf(await runAndWait(['Entra.SignIns']), 'Entra.SignIns');
    expect(again.lastRun).toMatchObject({ status: 'succeeded', gaps: 0 });
    expect(again.gapCount).toBe(1);
  });
});
