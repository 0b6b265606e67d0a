import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { DataSource } from 'typeorm';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { collectionStatus, requestRuns, streamOf, type StreamState } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { bearer, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * A throttled stream resumes after Microsoft's Retry-After, or a short back-off when AF429 comes without one
 * (microsoft-notes M58), not at its next scheduled run (a day away here): inside the run while the waits stay
 * short, else by a run rescheduled at once for the resume time. The simulator's Management API budget is 15
 * calls per 1-second window, so a backlog of 40 blobs meets AF429 (HTTP 403, no Retry-After) several times.
 */

const HOUR = 3_600_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'collection-throttle-secret-value-1234';
const STREAM = 'Audit.Exchange';
const RECORDS = 40;

jest.setTimeout(90_000);

/** Adds audit records to the simulator (its control route, NDJSON); answers the status. */
function postRecords(sim: RunningSimulator, tenant: string, records: object[]): Promise<number> {
  const body = records.map((r) => JSON.stringify(r)).join('\n');
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(`/_sim/state/tenants/${tenant}/audit-records`, sim.baseUrls.manage),
      { method: 'POST', ca: sim.caCertPem, headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('a throttled stream resumes as soon as Microsoft allows', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let db: DataSource;
  let tenantId: string;

  const manageCalls = (since: number) => sim.journal.list({ host: 'manage', since }).filter((e) => e.path.includes(`/${TENANT}/`));
  // The journal keeps requests, not answers' bodies; the app holds every permission, so a 403 here is AF429.
  const throttledAnswers = (since: number) => manageCalls(since).filter((e) => e.status === 403);
  const stored = async (): Promise<number> =>
    Number((await db.query(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND stream = $2`, [tenantId, STREAM]))[0].n);
  const runsOf = async (): Promise<Array<{ id: string; trigger: string; status: string; blobs: number; started_at: Date; finished_at: Date | null }>> =>
    db.query(`SELECT id, trigger, status, blobs, started_at, finished_at FROM collection_runs WHERE tenant_id = $1 AND stream = $2 ORDER BY started_at`, [
      tenantId,
      STREAM,
    ]);

  beforeAll(async () => {
    const now = Date.now();
    // One record per 16 minutes, 2 to 12.5 hours ago: 40 blobs, all listable now.
    const records = Array.from({ length: RECORDS }, (_, i) => ({
      Id: randomUUID(),
      RecordType: 2,
      Workload: 'Exchange',
      Operation: 'MailItemsAccessed',
      CreationTime: new Date(now - 2 * HOUR - i * 16 * 60_000).toISOString().slice(0, 19),
      UserId: `u${i % 5}@throttle.example`,
    }));
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Throttle Tenant', apps: [simApp(CLIENT, SECRET)], auditRecords: records } as never],
      manage: { pageSize: 10, throttlePerMinute: 15, throttleWindowMs: 1000 },
      graph: UNTHROTTLED_GRAPH,
    };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      ...simEnv(sim),
      // Every AF429 reaches the runner at once: what is measured is its waiting, not MicrosoftHttp's retries.
      CORDON_MICROSOFT_MAX_RETRIES: '0',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_COLLECTION_OVERLAP_MINUTES: '1440',
      CORDON_COLLECTION_THROTTLE_BACKOFF_S: '1',
      CORDON_COLLECTION_THROTTLE_MAX_WAIT_S: '8',
    });
    db = t.app.get(DataSource);
    tenantId = await registerTenant(t, 'Throttle Tenant', { tenantId: TENANT, clientId: CLIENT, secret: SECRET });
    // Only the stream under test runs: the others would share its budget and the workers.
    for (const s of (await collectionStatus(t, tenantId)).sources) {
      if (s.stream !== STREAM && s.enabled) {
        await t.http.patch(`/v1/tenants/${tenantId}/collection/${s.stream}`).set(bearer(t.adminKey)).send({ enabled: false }).expect(200);
      }
    }
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId]));

  it('waits out AF429 without Retry-After inside the run and drains the backlog in one run', async () => {
    const since = sim.journal.lastSeq();
    const asked = Date.now();
    const s = streamOf(await requestRuns(t, tenantId, [STREAM], 60_000), STREAM);
    expect(s.lastRun).toMatchObject({ status: 'succeeded', error: null });
    expect(s.last7Days).toMatchObject({ listed: RECORDS, stored: RECORDS, gaps: 0, pending: 0, records: RECORDS });
    expect(await stored()).toBe(RECORDS);
    // Microsoft throttled it, more than once, and it went on within seconds each time.
    expect(throttledAnswers(since).length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - asked).toBeLessThan(30_000);
    // The stream's runs so far (the scheduler's first tick may have started one before the request did):
    // none ended throttled, and one run fetched the whole backlog.
    const runs = await runsOf();
    expect(runs.map((r) => r.status).every((x) => x === 'succeeded')).toBe(true);
    expect(runs.map((r) => r.blobs)).toContain(RECORDS);
    // The schedule is the interval again from the run's end, not the resume time it waited for.
    expect(Date.parse(s.schedule.nextRunAt)).toBeGreaterThan(Date.now() + 1000 * 60_000);
    expect(s.lastError).toBeNull();
  });

  it("resumes after Microsoft's Retry-After, not sooner", async () => {
    const since = sim.journal.lastSeq();
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/subscriptions/content',
      times: 1,
      status: 403,
      headers: { 'Retry-After': '3' },
      body: { error: { code: 'AF429', message: 'Too many requests. Method=ListContent' } },
    } as never);
    const s = streamOf(await requestRuns(t, tenantId, [STREAM], 60_000), STREAM);
    expect(s.lastRun.status).toBe('succeeded');
    const calls = manageCalls(since);
    const throttled = calls.findIndex((e) => e.fault !== undefined && e.status === 403);
    expect(throttled).toBeGreaterThanOrEqual(0);
    const next = calls[throttled + 1];
    expect(next).toBeDefined();
    expect(Date.parse(next.time) - Date.parse(calls[throttled].time)).toBeGreaterThanOrEqual(2900);
    expect(Date.parse(next.time) - Date.parse(calls[throttled].time)).toBeLessThan(15_000);
  });

  it('reschedules itself for the resume time when the wait is longer than a run waits, and that run collects', async () => {
    const since = sim.journal.lastSeq();
    // Retry-After 10 s > CORDON_COLLECTION_THROTTLE_MAX_WAIT_S (8): the run ends throttled at once.
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/subscriptions/content',
      times: 1,
      status: 403,
      headers: { 'Retry-After': '10' },
      body: { error: { code: 'AF429', message: 'Too many requests. Method=ListContent' } },
    } as never);
    // A record that arrives meanwhile: the resumed run must collect it.
    const at = Date.now() - 2 * HOUR;
    const late = {
      Id: randomUUID(),
      RecordType: 2,
      Workload: 'Exchange',
      Operation: 'Rescheduled-After-Throttle',
      CreationTime: new Date(at).toISOString().slice(0, 19),
      OrganizationId: TENANT,
      _simAvailableAt: new Date(Date.now() - HOUR).toISOString(),
    };
    expect(await postRecords(sim, TENANT, [late])).toBe(201);
    const throttledRun: StreamState = streamOf(await requestRuns(t, tenantId, [STREAM], 30_000), STREAM);
    expect(throttledRun.lastRun.status).toBe('throttled');
    expect(throttledRun.lastRun.error).toMatch(/AF429/);
    const resumeAt = Date.parse(throttledRun.schedule.nextRunAt);
    const throttledAt = Date.parse(throttledRun.lastRun.finishedAt);
    // Due again at Microsoft's Retry-After, not in a day.
    expect(resumeAt - throttledAt).toBeGreaterThanOrEqual(9000);
    expect(resumeAt - throttledAt).toBeLessThan(12_000);

    // Nobody asks again: the rescheduled run comes by itself, after the resume time.
    const resumed = await waitFor(
      () => collectionStatus(t, tenantId),
      (b) => streamOf(b, STREAM).lastRun.id !== throttledRun.lastRun.id && streamOf(b, STREAM).lastRun.finishedAt !== null,
      40_000,
    );
    const run = streamOf(resumed, STREAM);
    expect(run.lastRun).toMatchObject({ status: 'succeeded', trigger: 'schedule', error: null });
    expect(Date.parse(run.lastRun.startedAt)).toBeGreaterThanOrEqual(resumeAt - 50);
    expect(Date.parse(run.schedule.nextRunAt)).toBeGreaterThan(Date.now() + 1000 * 60_000);
    expect(throttledAnswers(since).length).toBeGreaterThanOrEqual(1);
    const runs = (await runsOf()).filter((r) => r.started_at.getTime() >= throttledAt - 60_000);
    expect(runs.map((r) => r.status).slice(-2)).toEqual(['throttled', 'succeeded']);
    const rows = await db.query(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND operation = 'Rescheduled-After-Throttle'`, [tenantId]);
    expect(Number(rows[0].n)).toBe(1);
  });
});
