import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CollectionRunnerService } from '../src/collection/collection-runner.service';
import { MANAGEMENT_ACTIVITY_SOURCE } from '../src/integrations/management-activity/management-activity.collector';
import { startBenchApp } from './bench-app';

/**
 * `npm run bench -- ingest`: the simulator (its own process, so Cordon's RSS is Cordon's) generates
 * audit records in realistic blobs; Cordon collects all five content types into the events store as in
 * production (HTTPS, paging, JSON parse, normalize, batched insert with dedupe, ledger, cursor). The
 * baseline then loads the same rows into a table of the same shape (indexes included) with one
 * sequential multi-row (unnest) insert pipeline — pg-copy-streams is not installed, so no COPY.
 */

const RECORDS = Number(process.env.BENCH_INGEST_RECORDS ?? 1_000_000);
const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'];
const BASELINE_BATCH = 5000;

interface SimInfo {
  baseUrls: Record<string, string>;
  caCertPath: string;
  tenants: Array<{ tenantId: string; clientId: string; clientSecret: string }>;
}

async function startSimulatorProcess(dir: string): Promise<{ info: SimInfo; child: ChildProcess }> {
  const scenario = join(dir, 'scenario.json');
  // Budgets out of the way: this measures ingest, not Microsoft's throttling (tested in e2e).
  writeFileSync(scenario, JSON.stringify({ tenants: [{ tenantId: randomUUID(), displayName: 'Bench' }], manage: { throttlePerMinute: 1e9, throttleSharedPerMinute: 1e9, pageSize: 200 } }));
  const child = spawn(join(__dirname, '../node_modules/.bin/tsx'), ['test/m365-simulator/src/cli.ts', '--port', '0', '--scenario', scenario, '--generate-audit', String(RECORDS), '--seed', '7', '--data-dir', dir, '--quiet'], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await new Promise<SimInfo>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as SimInfo);
    });
    child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { info, child };
}

async function baselineRate(db: DataSource): Promise<{ rows: number; perSecond: number }> {
  await db.query('DROP TABLE IF EXISTS bench_events');
  await db.query('CREATE TABLE bench_events (LIKE events INCLUDING ALL)');
  let rows = 0;
  let last: string | null = null;
  const started = Date.now();
  let next = db.query(`SELECT id, tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, host(client_ip) AS client_ip, object_id, raw::text AS raw FROM events ORDER BY id LIMIT $1`, [BASELINE_BATCH]) as Promise<Array<Record<string, string | number | null>>>;
  for (;;) {
    const batch = await next;
    if (batch.length === 0) break;
    last = batch[batch.length - 1].id as string;
    next = db.query(`SELECT id, tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, host(client_ip) AS client_ip, object_id, raw::text AS raw FROM events WHERE id > $2 ORDER BY id LIMIT $1`, [BASELINE_BATCH, last]) as Promise<Array<Record<string, string | number | null>>>;
    const col = (name: string) => batch.map((r) => r[name]);
    await db.query(
      `INSERT INTO bench_events (tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw)
       SELECT r.tenant_id, r.source, r.stream, r.record_id, r.occurred_at, r.workload, r.record_type, r.operation, r.result_status, r.user_id, r.user_type, r.client_ip::inet, r.object_id, r.raw::jsonb
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[], $14::text[])
           AS r (tenant_id, source, stream, record_id, occurred_at, workload, record_type, operation, result_status, user_id, user_type, client_ip, object_id, raw)
       ON CONFLICT (tenant_id, source, record_id) DO NOTHING`,
      ['tenant_id', 'source', 'stream', 'record_id', 'occurred_at', 'workload', 'record_type', 'operation', 'result_status', 'user_id', 'user_type', 'client_ip', 'object_id', 'raw'].map(col),
    );
    rows += batch.length;
  }
  const seconds = (Date.now() - started) / 1000;
  await db.query('DROP TABLE bench_events');
  return { rows, perSecond: Math.round(rows / seconds) };
}

export async function ingestBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-ingest-'));
  const { info, child } = await startSimulatorProcess(dir);
  const bench = await startBenchApp({ CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(info.baseUrls), CORDON_MICROSOFT_CA_FILE: info.caCertPath, CORDON_COLLECTION_INTERVAL_MINUTES: '1440', ...(process.env.CORDON_COLLECTION_CONCURRENCY ? { CORDON_COLLECTION_CONCURRENCY: process.env.CORDON_COLLECTION_CONCURRENCY } : {}) });
  try {
    const tenant = info.tenants[0];
    const headers = { authorization: `Bearer ${bench.adminKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${bench.base}/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'Bench', tenantId: tenant.tenantId, cloud: 'global', clientId: tenant.clientId, credential: { type: 'secret', secret: tenant.clientSecret } }) });
    if (created.status !== 201) throw new Error(`registering the tenant failed: ${created.status} ${await created.text()}`);
    const tenantId = ((await created.json()) as { id: string }).id;
    await fetch(`${bench.base}/v1/tenants/${tenantId}/collection`, { headers }); // creates the stream rows

    const runner = bench.app.get(CollectionRunnerService);
    const db = bench.app.get(DataSource);
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = Date.now();
    // The five content types run at once, as the workers would run them.
    const statuses = await Promise.all(CONTENT_TYPES.map((stream) => runner.run({ tenantId, source: MANAGEMENT_ACTIVITY_SOURCE, stream }, 'manual')));
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const [{ count }] = (await db.query('SELECT count(*)::int AS count FROM events')) as Array<{ count: number }>;
    const [{ fetched, blobs }] = (await db.query('SELECT sum(fetched)::int AS fetched, sum(blobs)::int AS blobs FROM collection_runs')) as Array<{ fetched: number; blobs: number }>;
    if (statuses.some((s) => s !== 'succeeded')) throw new Error(`collection runs ended ${statuses.join(', ')}`);
    const cordonRate = Math.round(count / seconds);
    const baseline = await baselineRate(db);
    return {
      records: RECORDS,
      stored: count,
      fetched,
      blobs,
      seconds: Number(seconds.toFixed(1)),
      cordonRecordsPerSecond: cordonRate,
      baselineRecordsPerSecond: baseline.perSecond,
      baseline: 'single sequential multi-row (unnest) insert pipeline, 5,000 rows per statement, same table shape (pg-copy-streams not installed)',
      ratio: Number((cordonRate / baseline.perSecond).toFixed(3)),
      cordonPeakRssMb: Math.round(peakRss / 1024 / 1024),
      cordonRssBeforeCollectionMb: Math.round(rssAtStart / 1024 / 1024),
    };
  } finally {
    await bench.close();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
