/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { DataSource } from 'typeorm';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { demoScenario } from '../m365-simulator/src/demo-scenario';
import type { Scenario } from '../m365-simulator/src/types';
import { asNdjson, oddAuditRecords, type OddRecord } from '../support/odd-audit-records';
import { collectionStatus, requestRuns, streamOf, type StreamState } from './support/collection-runs';
import { closeSimSuite, registerTenant, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Every record accounted for: the demo tenant's own records (late share, re-deliveries), generated
 * records and one record of every odd shape, collected by Cordon; each stored once, and the status's
 * ledger counts (listed = stored + gaps + pending, records + duplicates = what Microsoft served) agree
 * with the simulator's. Then throttling on the listing's later pages: the run says where it stopped
 * and the next one resumes there.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'];
const TENANT = randomUUID();

// Five content types over a week of blobs, twice, on embedded PGlite too: more than the default minute on a busy machine.
jest.setTimeout(240_000);

type Counts = Record<
  string,
  {
    records: number;
    available: number;
    pending: { total: number };
    expired: number;
    blobs: { available: number; duplicates: number; duplicateRecords: number };
  }
>;

function simRequest(
  sim: RunningSimulator,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, sim.baseUrls.manage),
      { method, ca: sim.caCertPem, headers: body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('every record accounted for (Management Activity completeness)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let db: DataSource;
  let tenantId: string;
  let odd: OddRecord[];

  const simCounts = async (): Promise<Counts> => (await simRequest(sim, 'GET', `/_sim/state/tenants/${TENANT}`)).json.contentTypes;
  const runAll = () => requestRuns(t, tenantId, CONTENT_TYPES, 200_000);
  const stored = async (stream: string): Promise<number> =>
    Number(
      (await db.query(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND source = 'management-activity' AND stream = $2`, [tenantId, stream]))[0].n,
    );

  /** Per stream: the ledger's equation holds, nothing pending, and what was fetched is what Microsoft served. */
  async function expectAccountedFor(streams: StreamState[], before: Counts, after: Counts) {
    for (const ct of CONTENT_TYPES) {
      const s = streams.find((x) => x.stream === ct)!;
      const a = s.last7Days;
      expect({ ct, run: s.lastRun.status, listing: s.listing }).toEqual({ ct, run: 'succeeded', listing: null });
      expect({ ct, listed: a.listed }).toEqual({ ct, listed: a.stored + a.gaps + a.pending });
      expect({ ct, pending: a.pending, gaps: a.gaps }).toEqual({ ct, pending: 0, gaps: 0 });
      expect({ ct, stored: await stored(ct) }).toEqual({ ct, stored: a.records });
      // Records in the blobs listable when the run began, re-deliveries included, were all fetched.
      const low = before[ct].available + before[ct].blobs.duplicateRecords;
      const high = after[ct].available + after[ct].blobs.duplicateRecords;
      expect(a.records + a.duplicates).toBeGreaterThanOrEqual(low);
      expect(a.records + a.duplicates).toBeLessThanOrEqual(high);
      expect(a.listed).toBeGreaterThanOrEqual(before[ct].blobs.available);
    }
  }

  beforeAll(async () => {
    // The demo tenant with its own records, 3 % late share and re-deliveries, under a tenant id of its own
    // (suites may share a database); small pages, so listings have many.
    const scenario = demoScenario() as Scenario;
    // No Defender XDR: its hunting streams (on by default where licensed) would share the workers with the runs measured here.
    scenario.tenants[0] = {
      ...scenario.tenants[0],
      tenantId: TENANT,
      licences: { entraP1: true, entraP2: true, defenderForEndpoint: true, defenderXdr: false, unifiedAuditLog: true },
    };
    scenario.manage = { ...scenario.manage, pageSize: 10 };
    scenario.graph = { ...(scenario.graph ?? {}), ...UNTHROTTLED_GRAPH };
    sim = await startSimulator({ quiet: true, scenario, generateAudit: 600, seed: 26 });
    odd = oddAuditRecords(sim.clock.nowMs(), TENANT);
    expect((await simRequest(sim, 'POST', `/_sim/state/tenants/${TENANT}/audit-records`, asNdjson(odd), 'application/x-ndjson')).status).toBe(201);
    sim.clock.advance(HOUR); // every record but the late share is available
    t = await startTestApp({
      ...simEnv(sim),
      CORDON_MICROSOFT_MAX_RETRIES: '1',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_COLLECTION_OVERLAP_MINUTES: '1440',
      // A throttled run ends at once and its resume is far off: the tests below ask for the next run themselves.
      CORDON_COLLECTION_THROTTLE_MAX_WAIT_S: '0',
      CORDON_COLLECTION_THROTTLE_BACKOFF_S: '600',
    });
    db = t.app.get(DataSource);
    const info = sim.tenants.find((x) => x.tenantId === TENANT)!;
    tenantId = await registerTenant(t, 'Completeness (demo data)', { tenantId: TENANT, clientId: info.clientId, secret: info.clientSecret! });
  });
  afterAll(() => closeSimSuite(t, sim, [tenantId]));

  it('stores everything listable once, and the status adds up', async () => {
    const before = await simCounts();
    const body = await runAll();
    const after = await simCounts();
    await expectAccountedFor(
      body.sources.filter((s) => s.source === 'management-activity'),
      before,
      after,
    );
    const late = CONTENT_TYPES.reduce((n, ct) => n + after[ct].pending.total, 0);
    expect(late).toBeGreaterThan(0); // the late share is still to come
  });

  it('stores the late share once it arrives, and every odd-shaped record exactly once', async () => {
    sim.clock.advance(3 * DAY + 2 * HOUR);
    const before = await simCounts();
    for (const ct of CONTENT_TYPES) expect({ ct, pending: before[ct].pending.total }).toEqual({ ct, pending: 0 });
    const body = await runAll();
    for (const ct of CONTENT_TYPES) {
      const s = streamOf(body, ct);
      expect({ ct, run: s.lastRun.status, pending: s.last7Days.pending, listed: s.last7Days.listed }).toEqual({
        ct,
        run: 'succeeded',
        pending: 0,
        listed: s.last7Days.stored + s.last7Days.gaps,
      });
    }
    for (const r of odd) {
      const parsed = JSON.parse(r.text);
      const rows: Array<{ record_id: string; stream: string; raw: string }> = await db.query(
        `SELECT record_id, stream, raw::text AS raw FROM events WHERE tenant_id = $1 AND raw->>'CreationTime' = $2 AND raw->'Operation' IS NOT DISTINCT FROM $3::jsonb`,
        [tenantId, parsed.CreationTime, parsed.Operation === undefined ? null : JSON.stringify(parsed.Operation)],
      );
      expect({ shape: r.shape, rows: rows.length }).toEqual({ shape: r.shape, rows: 1 });
      expect({ shape: r.shape, stream: rows[0].stream }).toEqual({ shape: r.shape, stream: r.contentType });
      if (r.id) expect({ shape: r.shape, id: rows[0].record_id }).toEqual({ shape: r.shape, id: r.id.toLowerCase() });
    }
    // Numbers beyond a double's precision are stored exactly as Microsoft wrote them.
    const big: Array<{ size: string; ratio: string }> = await db.query(
      `SELECT raw->>'FileSizeBytes' AS size, raw->>'Ratio' AS ratio FROM events WHERE tenant_id = $1 AND record_id = 'f3a1c2d4-0001-4c00-8000-00000000a001'`,
      [tenantId],
    );
    expect(big).toEqual([{ size: '98765432109876543210987', ratio: '1.0000000000000000000001' }]);
    const ids: Array<{ raw_id: string }> = await db.query(
      `SELECT raw->>'Id' AS raw_id FROM events WHERE tenant_id = $1 AND record_id LIKE '1234567890123456789%' ORDER BY record_id`,
      [tenantId],
    );
    expect(ids.map((r) => r.raw_id)).toEqual(['123456789012345678901', '123456789012345678902']);
  });

  it('says where a listing throttled on a later page stopped, and the next run resumes it there', async () => {
    const nowMs = sim.clock.nowMs();
    // Available half an hour after they happened, none of them in the demo's late share.
    const lines = Array.from({ length: 12 }, (_, i) => {
      const at = nowMs - 4 * HOUR + i * 16 * 60_000;
      return JSON.stringify({
        CreationTime: new Date(at).toISOString().slice(0, 19),
        Id: randomUUID(),
        RecordType: 25,
        Workload: 'MicrosoftTeams',
        Operation: 'Throttled-Listing',
        OrganizationId: TENANT,
        _simAvailableAt: new Date(at + HOUR / 2).toISOString(),
      });
    });
    expect((await simRequest(sim, 'POST', `/_sim/state/tenants/${TENANT}/audit-records`, lines.join('\n'), 'application/x-ndjson')).status).toBe(201);
    // Continuation pages (NextPageUri says /api/v1/) answer AF429 until the fault is removed; the first page does not.
    const fault = sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '/api/v1/*/activity/feed/subscriptions/content',
      times: 0,
      status: 403,
      body: { error: { code: 'AF429', message: 'Too many requests. Method=ListContent' } },
    } as never);
    let stopped: StreamState;
    try {
      stopped = streamOf(await requestRuns(t, tenantId, ['Audit.General'], 120_000), 'Audit.General');
    } finally {
      sim.faults.remove(fault.id);
    }
    expect(stopped.lastRun.status).toBe('throttled');
    expect(stopped.listing).toMatchObject({ complete: false, resumesAt: 'next-page', error: expect.stringMatching(/AF429/) });
    expect(stopped.listing.pages).toBeGreaterThanOrEqual(1);
    expect(stopped.listing.blobs).toBeGreaterThanOrEqual(5);
    const cursorBefore = stopped.cursor;

    // Blobs are throttled too on the next run's first tries: it still finishes.
    sim.faults.add({
      host: 'manage',
      method: 'GET',
      pathPattern: '*/activity/feed/audit/*',
      times: 1,
      status: 403,
      body: { error: { code: 'AF429', message: 'Too many requests. Method=GetBlob' } },
    } as never);
    const since = sim.journal.lastSeq();
    const resumed = streamOf(await requestRuns(t, tenantId, ['Audit.General'], 120_000), 'Audit.General');
    expect(resumed.lastRun.status).toBe('succeeded');
    expect(resumed.listing).toBeNull();
    expect(Date.parse(resumed.cursor)).toBeGreaterThan(Date.parse(cursorBefore ?? '1970-01-01'));
    const listings = sim.journal.list({ host: 'manage', since }).filter((e) => e.path.endsWith('/subscriptions/content'));
    expect(new URLSearchParams(listings[0].query).has('nextPage')).toBe(true); // resumed at the saved page, not the window's start
    expect(resumed.last7Days.pending).toBe(0);
    expect(resumed.last7Days.listed).toBe(resumed.last7Days.stored + resumed.last7Days.gaps);
    const rows = await db.query(`SELECT count(*) AS n FROM events WHERE tenant_id = $1 AND operation = 'Throttled-Listing'`, [tenantId]);
    expect(Number(rows[0].n)).toBe(12);
    const counts = await collectionStatus(t, tenantId);
    expect(streamOf(counts, 'Audit.General').last7Days.records).toBe(await stored('Audit.General'));
  });
});
