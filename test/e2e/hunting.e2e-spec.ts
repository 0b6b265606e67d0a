/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { huntingState } from '../m365-simulator/src/graph/hunting';
import { CORDON_PERMISSIONS } from '../m365-simulator/src/scenario';
import type { Scenario } from '../m365-simulator/src/types';
import { collectionStatus, requestOwnRun, streamOf } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * Defender XDR Advanced Hunting against the simulator: the per-table streams (two on by default), a day
 * of generated telemetry collected in sliced and continued queries, stopped part-way by a CPU-quota
 * answer (the run `throttled`, Cordon waiting out the Retry-After without calling), resumed, then read
 * again with the overlap once late rows have arrived — every row exactly once; and on-demand hunting:
 * rows capped, audited without the rows, Microsoft's errors as problems, per role and per capability.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const SECRET = 'hunting-e2e-secret-1234';
const TENANT = randomUUID();
const CLIENT = randomUUID();
const UNLICENSED = randomUUID();
const UNLICENSED_CLIENT = randomUUID();
const NO_CONSENT = randomUUID();
const NO_CONSENT_CLIENT = randomUUID();
const TABLE = 'DeviceLogonEvents';
const ROWS_PER_HOUR = 40;
const ROWS_PER_QUERY = 50;
const SLICE_HOURS = 3;
const RUN = '/v1.0/security/runHuntingQuery';
const CPU_BODY = {
  error: {
    code: 'TooManyRequests',
    message: 'The tenant has used 100% of its allocated CPU resources for advanced hunting; queries are blocked until the next 15-minute cycle.',
  },
};

const huntingPermissions = () => ({ ...structuredClone(CORDON_PERMISSIONS), graph: [...CORDON_PERMISSIONS.graph, 'ThreatHunting.Read.All'] });
const devices = [
  { id: 'c'.repeat(40), computerDnsName: 'ws-hunt-01.example', osPlatform: 'Windows11', healthStatus: 'Active', lastIpAddress: '10.1.0.1' },
  { id: 'd'.repeat(40), computerDnsName: 'ws-hunt-02.example', osPlatform: 'Windows10', healthStatus: 'Active', lastIpAddress: '10.1.0.2' },
];

describe('Defender XDR Advanced Hunting (collection and on-demand)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let unlicensedId: string;
  let noConsentId: string;
  const db = () => t.app.get(DataSource);
  const journalSince = () => sim.journal.list({}).at(-1)?.seq ?? 0;
  const huntCalls = (since: number) => sim.journal.list({ host: 'graph', path: RUN, since });
  const stored = async () =>
    (
      await db().query(
        `SELECT count(*)::int AS n, count(DISTINCT raw->>'ReportId' || '|' || (raw->>'DeviceId') || '|' || (raw->>'Timestamp'))::int AS keys FROM events WHERE tenant_id = $1 AND source = 'defender-hunting' AND stream = $2`,
        [tenantId, TABLE],
      )
    )[0];

  beforeAll(async () => {
    const nowMs = Date.now();
    const alert = {
      id: 'da-hunt-1',
      title: 'Suspicious logon',
      category: 'CredentialAccess',
      serviceSource: 'microsoftDefenderForEndpoint',
      detectionSource: 'antivirus',
      severity: 'medium',
      status: 'new',
      createdDateTime: new Date(nowMs - 2 * HOUR).toISOString(),
      lastUpdateDateTime: new Date(nowMs - 2 * HOUR).toISOString(),
      evidence: [
        { '@odata.type': '#microsoft.graph.security.deviceEvidence', mdeDeviceId: 'c'.repeat(40), deviceDnsName: 'ws-hunt-01.example', roles: ['compromised'] },
      ],
    };
    const scenario: Scenario = {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Hunting Tenant',
          apps: [{ ...simApp(CLIENT, SECRET), permissions: huntingPermissions() }],
          devices,
          alerts: [alert],
        } as never,
        {
          tenantId: UNLICENSED,
          displayName: 'No XDR',
          apps: [{ ...simApp(UNLICENSED_CLIENT, SECRET), permissions: huntingPermissions() }],
          licences: { defenderXdr: false },
        } as never,
        { tenantId: NO_CONSENT, displayName: 'No Hunting Consent', apps: [simApp(NO_CONSENT_CLIENT, SECRET)] } as never,
      ],
      graph: {
        throttling: { securityPerMinute: 0, reportsPer10Seconds: 0, identityProtectionPerSecond: 0 },
        hunting: { rowsPerHour: { [TABLE]: ROWS_PER_HOUR }, historyDays: 3, lateFraction: 0.2, lateMinutes: 20 },
      },
    };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_MICROSOFT_MAX_RETRIES: '0',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS: '24',
      CORDON_HUNTING_SLICE_MINUTES: String(SLICE_HOURS * 60),
      CORDON_HUNTING_ROWS_PER_QUERY: String(ROWS_PER_QUERY),
      CORDON_HUNTING_OVERLAP_MINUTES: '30',
      CORDON_HUNTING_MAX_ROWS: '25',
    });
    const register = (name: string, tid: string, clientId: string) => registerTenant(t, name, { tenantId: tid, clientId, secret: SECRET });
    tenantId = await register('Hunting Tenant', TENANT, CLIENT);
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId, unlicensedId, noConsentId]));

  it('lists a stream per table, only AlertEvidence and IdentityLogonEvents on by default, gated by advanced-hunting', async () => {
    const body = await collectionStatus(t, tenantId);
    const hunting = body.sources.filter((s) => s.source === 'defender-hunting');
    expect(hunting.map((s) => s.stream).sort()).toEqual([
      'AlertEvidence',
      'CloudAppEvents',
      'DeviceFileEvents',
      'DeviceLogonEvents',
      'DeviceNetworkEvents',
      'DeviceProcessEvents',
      'EmailAttachmentInfo',
      'EmailEvents',
      'IdentityDirectoryEvents',
      'IdentityLogonEvents',
      'UrlClickEvents',
    ]);
    expect(
      hunting
        .filter((s) => s.enabled)
        .map((s) => s.stream)
        .sort(),
    ).toEqual(['AlertEvidence', 'IdentityLogonEvents']);
    await waitFor(
      () => collectionStatus(t, tenantId),
      (b) => b.sources.filter((s) => s.source === 'defender-hunting').every((s) => s.capability === 'available'),
    );
    // The scheduler may have started the default streams' first runs: let them end.
    await waitFor(
      () => collectionStatus(t, tenantId),
      (b) => ['AlertEvidence', 'IdentityLogonEvents'].every((s) => !streamOf(b, s).lastRun || streamOf(b, s).lastRun.finishedAt),
    );
  });

  it("collects AlertEvidence from the tenant's alerts", async () => {
    await requestOwnRun(t, tenantId, 'AlertEvidence', (s) => expect(s.lastRun.status).toBe('succeeded'));
    const rows = await db().query(
      `SELECT workload, object_id, raw FROM events WHERE tenant_id = $1 AND source = 'defender-hunting' AND stream = 'AlertEvidence'`,
      [tenantId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workload: 'DefenderXDR', object_id: 'da-hunt-1' });
    expect(rows[0].raw).toMatchObject({ Table: 'AlertEvidence', AlertId: 'da-hunt-1', EntityType: 'Machine', DeviceId: 'c'.repeat(40) });
  });

  it('collects a day of a table once, through a CPU-quota answer, then picks up late rows with the overlap, with no duplicates', async () => {
    // Off by default: enabled (its next run a day off, so only the runs asked for run).
    await t.http.patch(`/v1/tenants/${tenantId}/collection/${TABLE}`).set(bearer(t.adminKey)).send({ enabled: true, intervalMinutes: 1439 }).expect(200);

    // Run 1: five queries answer (slice 1 in three: 50 + 50 + 20 rows; slice 2's first two), the sixth is the quota.
    const fault = sim.faults.add({
      host: 'graph',
      method: 'POST',
      pathPattern: RUN,
      skip: 5,
      times: 1,
      status: 429,
      headers: { 'retry-after': '6' },
      body: CPU_BODY,
    });
    let since = journalSince();
    const first = await requestOwnRun(t, tenantId, TABLE, (s) => expect(s.lastRun.status).toBe('throttled'));
    sim.faults.remove(fault.id);
    expect(first.lastRun.error).toMatch(/CPU resources/);
    expect(first.lastError.message).toMatch(/CPU resources/);
    const calls = huntCalls(since);
    expect(calls.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 429]);
    const windowStart = Date.parse(first.lastRun.windowStart);
    expect(Date.parse(first.cursor)).toBe(windowStart + SLICE_HOURS * HOUR); // slice 1 done, slice 2 not
    expect(calls.every((c) => /take 50/.test(JSON.parse(String(c.body)).Query))).toBe(true);
    const afterFirst = await stored();
    expect(afterFirst.n).toBeGreaterThan(ROWS_PER_QUERY * 2);

    // Run 2, within the Retry-After: Cordon does not call Microsoft at all and says why.
    since = journalSince();
    const waiting = await requestOwnRun(t, tenantId, TABLE, (s) => expect(s.lastRun.status).toBe('throttled'));
    expect(waiting.lastRun.error).toMatch(/CPU quota is used up; Cordon waits until/);
    expect(huntCalls(since)).toHaveLength(0);
    expect(waiting.cursor).toBe(first.cursor);

    // Run 3, past it: the rest of the day.
    await new Promise((r) => setTimeout(r, 6500));
    const resumed = await requestOwnRun(t, tenantId, TABLE, (s) => expect(s.lastRun.status).toBe('succeeded'));
    expect(Date.parse(resumed.cursor)).toBeGreaterThan(Date.now() - MIN);

    // Late rows arrive (the simulated clock moves past every ingestion delay); run 4 reads the overlap again.
    sim.clock.advance(30 * MIN);
    const overlap = await requestOwnRun(t, tenantId, TABLE, (s) => expect(s.lastRun.status).toBe('succeeded'));
    expect(overlap.lastRun.duplicates).toBeGreaterThan(0);

    const count = simCount(sim, windowStart, Date.parse(overlap.cursor));
    const final = await stored();
    expect(final.n).toBe(count);
    expect(final.keys).toBe(final.n);
    expect(final.n).toBeGreaterThan(afterFirst.n);
    const sample = (
      await db().query(
        `SELECT occurred_at, workload, operation, user_id, host(client_ip) AS ip, object_id, raw FROM events WHERE tenant_id = $1 AND stream = $2 LIMIT 1`,
        [tenantId, TABLE],
      )
    )[0];
    expect(sample).toMatchObject({
      workload: 'DefenderForEndpoint',
      operation: expect.stringMatching(/^Logon(Success|Failed)$/),
      object_id: expect.stringMatching(/^ws-hunt-0[12]\.example$/),
    });
    expect(sample.raw.Table).toBe(TABLE);
    expect(new Date(sample.occurred_at).getTime()).toBe(Date.parse(sample.raw.Timestamp));
  });

  describe('on demand', () => {
    const hunt = (body: Record<string, unknown>, key = t.adminKey, id = tenantId) => t.http.post(`/v1/tenants/${id}/hunting`).set(bearer(key)).send(body);

    it('runs a query for an analyst, caps the rows and audits the query and its row count, not the rows', async () => {
      const analyst = await createKey(t, ['analyst']);
      const query = `${TABLE} | project Timestamp, DeviceName, ActionType | order by Timestamp desc`;
      const res = await hunt({ query, timespan: 'P1D' }, analyst.key).expect(200);
      expect(res.body.schema).toEqual([
        { name: 'Timestamp', type: 'DateTime' },
        { name: 'DeviceName', type: 'String' },
        { name: 'ActionType', type: 'String' },
      ]);
      expect(res.body.rows).toHaveLength(25);
      expect(res.body.rowCount).toBeGreaterThan(25);
      expect(res.body.truncated).toBe(true);
      const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=hunting.query&limit=10`).set(bearer(t.adminKey)).expect(200)).body.items;
      const entry = audit.find((e: any) => e.data.query === query);
      expect(entry).toMatchObject({
        actor: { id: analyst.id },
        data: { query, timespan: 'P1D', outcome: 'succeeded', rowCount: res.body.rowCount, returned: 25 },
      });
      expect(JSON.stringify(entry)).not.toContain(res.body.rows[0].Timestamp);
    });

    it("answers Microsoft's refusal of a query as 400, its quota as 429 with Retry-After", async () => {
      const bad = await hunt({ query: `${TABLE} | extend x = 1` });
      expectProblem(bad, 400, 'hunting-query-invalid');
      expect(bad.body.detail).toMatch(/does not support the operator 'extend'/);
      sim.faults.add({
        host: 'graph',
        method: 'POST',
        pathPattern: RUN,
        times: 1,
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
      });
      const throttled = await hunt({ query: `${TABLE} | take 1` });
      expectProblem(throttled, 429, 'hunting-throttled');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=hunting.query&limit=10`).set(bearer(t.adminKey)).expect(200)).body.items;
      expect(audit.some((e: any) => e.data.outcome === 'refused' && e.data.status === 429)).toBe(true);
      await new Promise((r) => setTimeout(r, 1100));
    });

    it('validates the body and refuses auditors, unlicensed and unconsented tenants, whose streams are skipped', async () => {
      // Registered only now: their probes' 403s stay out of the journal the collection test counts.
      unlicensedId = await registerTenant(t, 'No XDR', { tenantId: UNLICENSED, clientId: UNLICENSED_CLIENT, secret: SECRET });
      noConsentId = await registerTenant(t, 'No Hunting Consent', { tenantId: NO_CONSENT, clientId: NO_CONSENT_CLIENT, secret: SECRET });
      const capability = (id: string) =>
        waitFor(
          () => collectionStatus(t, id),
          (b) => streamOf(b, 'AlertEvidence').capability !== null,
        );
      expect(streamOf(await capability(unlicensedId), 'AlertEvidence')).toMatchObject({ state: 'skipped', capability: 'unlicensed' });
      const skipped = streamOf(await capability(noConsentId), 'IdentityLogonEvents');
      expect(skipped).toMatchObject({ state: 'skipped', capability: 'forbidden' });
      expect(skipped.skipReason).toMatch(/ThreatHunting\.Read\.All/);

      expectProblem(await hunt({}), 400, 'validation-failed');
      expectProblem(await hunt({ query: 'x'.repeat(10_001) }), 400, 'validation-failed');
      expectProblem(await hunt({ query: `${TABLE} | take 1`, timespan: 'one day' }), 400, 'validation-failed');
      const auditor = await createKey(t, ['auditor']);
      expectProblem(await hunt({ query: `${TABLE} | take 1` }, auditor.key), 403, 'forbidden');
      const unlicensed = await hunt({ query: 'AlertEvidence | take 1' }, t.adminKey, unlicensedId);
      expectProblem(unlicensed, 409, 'capability-unavailable');
      expect(unlicensed.body).toMatchObject({ capability: 'advanced-hunting', capabilityStatus: 'unlicensed' });
      const forbidden = await hunt({ query: 'AlertEvidence | take 1' }, t.adminKey, noConsentId);
      expectProblem(forbidden, 409, 'capability-unavailable');
      expect(forbidden.body.detail).toMatch(/ThreatHunting\.Read\.All/);
    });
  });
});

/** The rows the simulator holds for the table in [from, to), as visible now (what its control route counts). */
function simCount(sim: RunningSimulator, fromMs: number, toMs: number): number {
  const tenant = sim.context.findTenant(TENANT)!;
  return huntingState({ ctx: sim.context }, tenant, fromMs, toMs).rows[TABLE];
}
