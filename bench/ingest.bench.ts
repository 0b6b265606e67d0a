import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { CollectionRunnerService } from '../src/collection/collection-runner.service';
import { MANAGEMENT_ACTIVITY_SOURCE } from '../src/integrations/management-activity/management-activity.collector';
import { startBenchApp } from './bench-app';
import { startSimulatorProcess } from './sim-process';

/**
 * `npm run bench -- ingest`: the simulator (its own process, so Cordon's RSS is Cordon's) generates
 * audit records in realistic blobs; Cordon collects all five content types into the events store as in
 * production (HTTPS, paging, streamed JSON parse, normalize, batched insert with dedupe, ledger,
 * cursor). The baseline then loads the same rows into a table of the same shape (indexes included)
 * with a single COPY. Cordon's memory is sampled every 50 ms while it collects (peak RSS, and the
 * V8 heap and off-heap buffers at that peak, to tell live data from garbage not yet collected).
 */

const RECORDS = Number(process.env.BENCH_INGEST_RECORDS ?? 1_000_000);
const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'];
const BASELINE_COLUMNS =
  'tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw';

/** The simulator with the generated audit log, budgets out of the way: this measures ingest, not Microsoft's throttling (tested in e2e). */
function startIngestSimulator(dir: string) {
  const scenario = join(dir, 'scenario.json');
  writeFileSync(
    scenario,
    JSON.stringify({
      tenants: [{ tenantId: randomUUID(), displayName: 'Bench' }],
      manage: { throttlePerMinute: 1e9, throttleSharedPerMinute: 1e9, pageSize: 200 },
    }),
  );
  return startSimulatorProcess(scenario, dir, ['--generate-audit', String(RECORDS), '--seed', '7']);
}

/**
 * The baseline: the same rows, read back from `events`, loaded into a table of the same shape
 * (indexes included) with one COPY — `COPY (SELECT …) TO STDOUT` from one connection piped into
 * `COPY bench_events FROM STDIN` on another, so the rows cross the client as Cordon's do.
 */
export async function baselineRate(db: DataSource): Promise<{ rows: number; perSecond: number }> {
  await db.query('DROP TABLE IF EXISTS bench_events');
  await db.query('CREATE TABLE bench_events (LIKE events INCLUDING ALL)');
  const reader = db.createQueryRunner();
  const writer = db.createQueryRunner();
  try {
    const [source, target] = (await Promise.all([reader.connect(), writer.connect()])) as [PoolClient, PoolClient];
    const started = Date.now();
    const load = target.query(copyFrom(`COPY bench_events (${BASELINE_COLUMNS}) FROM STDIN`));
    await pipeline(source.query(copyTo(`COPY (SELECT ${BASELINE_COLUMNS} FROM events) TO STDOUT`)), load);
    const seconds = (Date.now() - started) / 1000;
    const rows = load.rowCount;
    return { rows, perSecond: Math.round(rows / seconds) };
  } finally {
    await reader.release();
    await writer.release();
    await db.query('DROP TABLE bench_events');
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** A simulator control route's JSON, over HTTPS with the simulator's CA. */
export async function simulatorJson(url: string, ca: Buffer): Promise<unknown> {
  const body = await new Promise<string>((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  return JSON.parse(body);
}

/** What the simulator holds per content type (`/_sim/state`), summed: records, available now, still to come, expired. */
async function simulatorCounts(url: string, ca: Buffer): Promise<{ records: number; available: number; pending: number; expired: number }> {
  const types = Object.values(
    ((await simulatorJson(url, ca)) as { contentTypes: Record<string, { records: number; available: number; pending: { total: number }; expired: number }> })
      .contentTypes,
  );
  const sum = (f: (c: (typeof types)[number]) => number) => types.reduce((n, c) => n + f(c), 0);
  return { records: sum((c) => c.records), available: sum((c) => c.available), pending: sum((c) => c.pending.total), expired: sum((c) => c.expired) };
}

/** Registers the simulator's first tenant with the bench app; answers its Cordon id and the admin headers. */
export async function registerBenchTenant(bench: { base: string; adminKey: string }, tenant: { tenantId: string; clientId: string; clientSecret?: string }) {
  const headers = { authorization: `Bearer ${bench.adminKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${bench.base}/v1/tenants`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      displayName: 'Bench',
      tenantId: tenant.tenantId,
      cloud: 'global',
      clientId: tenant.clientId,
      credential: { type: 'secret', secret: tenant.clientSecret },
    }),
  });
  if (created.status !== 201) throw new Error(`registering the tenant failed: ${created.status} ${await created.text()}`);
  return { tenantId: ((await created.json()) as { id: string }).id, headers };
}

export async function ingestBench(): Promise<Record<string, unknown>> {
  if (!process.env.DATABASE_URL) throw new Error('the ingest benchmark measures PostgreSQL against a COPY baseline: set DATABASE_URL');
  const dir = mkdtempSync(join(tmpdir(), 'cordon-ingest-'));
  const { info, child } = await startIngestSimulator(dir);
  const bench = await startBenchApp({
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(info.baseUrls),
    CORDON_MICROSOFT_CA_FILE: info.caCertPath,
    CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
    ...(process.env.CORDON_COLLECTION_CONCURRENCY ? { CORDON_COLLECTION_CONCURRENCY: process.env.CORDON_COLLECTION_CONCURRENCY } : {}),
  });
  try {
    const tenant = info.tenants[0];
    const { tenantId, headers } = await registerBenchTenant(bench, tenant);
    await fetch(`${bench.base}/v1/tenants/${tenantId}/collection`, { headers }); // creates the stream rows

    const runner = bench.app.get(CollectionRunnerService);
    const db = bench.app.get(DataSource);
    const rssAtStart = process.memoryUsage().rss;
    let peak = process.memoryUsage();
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      if (now.rss > peak.rss) peak = now;
    }, 50);
    const stateUrl = `${info.baseUrls.manage}/_sim/state/tenants/${tenant.tenantId}`;
    const ca = readFileSync(info.caCertPath);
    const simBefore = await simulatorCounts(stateUrl, ca);
    const loadAtStart = loadavg()[0];
    const started = Date.now();
    // The five content types run at once, as the workers would run them.
    const statuses = await Promise.all(CONTENT_TYPES.map((stream) => runner.run({ tenantId, source: MANAGEMENT_ACTIVITY_SOURCE, stream }, 'manual')));
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const loadAtEnd = loadavg()[0];
    const [{ count }] = (await db.query('SELECT count(*)::int AS count FROM events')) as Array<{ count: number }>;
    const [{ fetched, blobs }] = (await db.query('SELECT sum(fetched)::int AS fetched, sum(blobs)::int AS blobs FROM collection_runs')) as Array<{
      fetched: number;
      blobs: number;
    }>;
    if (statuses.some((s) => s !== 'succeeded')) throw new Error(`collection runs ended ${statuses.join(', ')}`);
    // Every record accounted for: what was available when the runs began is stored; the rest is still to
    // come (the last ~45 minutes: latency plus the blob window) and is not Cordon's to collect yet.
    const simAfter = await simulatorCounts(stateUrl, ca);
    if (count < simBefore.available || count > simAfter.available) {
      throw new Error(`stored ${count} records; the simulator had ${simBefore.available} available before the runs and ${simAfter.available} after`);
    }
    const cordonRate = Math.round(count / seconds);
    const baseline = await baselineRate(db);
    return {
      records: RECORDS,
      stored: count,
      simulator: { availableBeforeRuns: simBefore.available, availableAfterRuns: simAfter.available, stillToCome: simAfter.pending, expired: simAfter.expired },
      fetched,
      blobs,
      seconds: Number(seconds.toFixed(1)),
      cordonRecordsPerSecond: cordonRate,
      baselineRecordsPerSecond: baseline.perSecond,
      baseline: 'single COPY of the same rows into a table of the same shape (indexes included)',
      baselineRows: baseline.rows,
      ratio: Number((cordonRate / baseline.perSecond).toFixed(3)),
      cordonPeakRssMb: mb(peak.rss),
      cordonRssBeforeCollectionMb: mb(rssAtStart),
      atPeak: { heapTotalMb: mb(peak.heapTotal), heapUsedMb: mb(peak.heapUsed), externalMb: mb(peak.external), arrayBuffersMb: mb(peak.arrayBuffers) },
      loadAverage: { atStart: loadAtStart, afterCollection: loadAtEnd, afterBaseline: loadavg()[0] },
    };
  } finally {
    await bench.close();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const BACKLOG_RECORDS = Number(process.env.BENCH_BACKLOG_RECORDS ?? 20_000);
/** Gives up after this long (the code before the change took about 12 minutes). */
const BACKLOG_TIMEOUT_MS = Number(process.env.BENCH_BACKLOG_TIMEOUT_S ?? 1200) * 1000;

/**
 * `npm run bench -- ingest-backlog`: a new tenant with a backlog of generated records over six days, the
 * simulator's Management API throttling at its defaults (2,000 calls a minute per tenant with
 * PublisherIdentifier, AF429 as HTTP 403 without Retry-After, 50 blobs per listing page), Cordon with its
 * default schedule (5 minutes) and its workers on: end to end, from the first run the scheduler's tick
 * starts for the new tenant to every record the simulator had available stored, through the job queue as in
 * production (throttled runs and their resumption included). The baseline is the floor Microsoft's budget
 * sets: the calls Cordon made, at 2,000 a minute.
 */
export async function ingestBacklogBench(): Promise<Record<string, unknown>> {
  if (!process.env.DATABASE_URL) throw new Error('the backlog benchmark runs on PostgreSQL: set DATABASE_URL');
  const dir = mkdtempSync(join(tmpdir(), 'cordon-backlog-'));
  const scenario = join(dir, 'scenario.json');
  writeFileSync(scenario, JSON.stringify({ tenants: [{ tenantId: randomUUID(), displayName: 'Backlog' }] }));
  const { info, child } = await startSimulatorProcess(scenario, dir, ['--generate-audit', String(BACKLOG_RECORDS), '--seed', '7']);
  const bench = await startBenchApp({
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(info.baseUrls),
    CORDON_MICROSOFT_CA_FILE: info.caCertPath,
    CORDON_WORKERS: 'true',
  });
  try {
    const tenant = info.tenants[0];
    const { tenantId, headers } = await registerBenchTenant(bench, tenant);
    await fetch(`${bench.base}/v1/tenants/${tenantId}/collection`, { headers }); // creates the stream rows
    const db = bench.app.get(DataSource);
    const stateUrl = `${info.baseUrls.manage}/_sim/state/tenants/${tenant.tenantId}`;
    const ca = readFileSync(info.caCertPath);
    const simBefore = await simulatorCounts(stateUrl, ca);
    const loadAtStart = loadavg()[0];
    // A new tenant is collected by the scheduler: its tick (once a minute) finds the new streams due and
    // enqueues their first runs. The clock starts when the first run starts.
    const registered = Date.now();
    let started = 0;
    while (!started) {
      const [{ first }] = (await db.query('SELECT min(started_at) AS first FROM collection_runs')) as Array<{ first: Date | null }>;
      if (first) started = new Date(first).getTime();
      else if (Date.now() - registered > 120_000) throw new Error('no collection run started within two minutes of registering the tenant');
      else await new Promise((r) => setTimeout(r, 100));
    }
    let count = 0;
    for (;;) {
      [{ count }] = (await db.query('SELECT count(*)::int AS count FROM events')) as Array<{ count: number }>;
      if (count >= simBefore.available) break;
      if (Date.now() - started > BACKLOG_TIMEOUT_MS) throw new Error(`timed out with ${count} of ${simBefore.available} records stored`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (Date.now() - started) / 1000;
    const runs = (await db.query(
      `SELECT status, count(*)::int AS n, sum(blobs)::int AS blobs FROM collection_runs WHERE started_at >= $1 GROUP BY status ORDER BY status`,
      [new Date(started - 1000)],
    )) as Array<{ status: string; n: number; blobs: number }>;
    const ledger = (await db.query(
      `SELECT status, count(*)::int AS n, coalesce(sum(records), 0)::int AS records FROM collection_ledger WHERE tenant_id = $1 GROUP BY status ORDER BY status`,
      [tenantId],
    )) as Array<{ status: string; n: number; records: number }>;
    const simAfter = await simulatorCounts(stateUrl, ca);
    if (count > simAfter.available) throw new Error(`stored ${count} records, more than the ${simAfter.available} the simulator has available`);
    const blobs = runs.reduce((n, r) => n + (r.blobs ?? 0), 0);
    return {
      records: BACKLOG_RECORDS,
      stored: count,
      simulator: { availableBeforeRuns: simBefore.available, availableAfterRuns: simAfter.available, stillToCome: simAfter.pending, expired: simAfter.expired },
      seconds: Number(seconds.toFixed(1)),
      secondsFromRegistration: Number(((Date.now() - registered) / 1000).toFixed(1)),
      runs: Object.fromEntries(runs.map((r) => [r.status, r.n])),
      blobs,
      ledger: Object.fromEntries(ledger.map((r) => [r.status, { blobs: r.n, records: r.records }])),
      // Blob GETs alone, at the simulator's 2,000 a minute: what no client of the budget can beat.
      budgetFloorSeconds: Number(((blobs / 2000) * 60).toFixed(1)),
      loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0] },
    };
  } finally {
    await bench.close();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
