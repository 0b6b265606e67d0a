import { Agent, get } from 'node:http';
import { loadavg } from 'node:os';
import { DataSource } from 'typeorm';
import { AuditLogRepository } from '../src/audit-log/audit-log.repository';
import { AuditLogService } from '../src/audit-log/audit-log.service';
import { percentile, startBenchApp } from './bench-app';

const SYSTEM = { type: 'system' as const, id: 'bench', name: 'benchmark' };
const TENANTS = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

/**
 * Appends for `seconds` with `writers` concurrent writers, each entry in its own transaction as modules
 * write them; then waits until every entry is sealed into the chain and reports how long that took.
 */
async function appendRate(db: DataSource, log: AuditLogService, writers: number, seconds: number): Promise<{ chained: number; sealLagMs: number }> {
  let count = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (Date.now() < until) {
        await db.transaction((m) => log.append(m, { event: 'bench.append', actor: SYSTEM, requestId: `w${w}-${count}`, data: { writer: w } }));
        count++;
      }
    }),
  );
  const stopped = Date.now();
  await log.sealed();
  return { chained: Math.round(count / ((stopped - started) / 1000)), sealLagMs: Date.now() - stopped };
}

/** The baseline for appends: the same row count, inserted one per transaction with no chain, no lock. */
async function plainInsertRate(db: DataSource, writers: number, seconds: number): Promise<number> {
  await db.query('CREATE TABLE IF NOT EXISTS bench_plain_log (id bigserial PRIMARY KEY, at timestamptz, event text, data jsonb)');
  let count = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (Date.now() < until) {
        await db.transaction((m) =>
          m.query(`INSERT INTO bench_plain_log (at, event, data) VALUES (clock_timestamp(), 'bench.append', $1)`, [JSON.stringify({ writer: w })]),
        );
        count++;
      }
    }),
  );
  await db.query('DROP TABLE bench_plain_log');
  return Math.round(count / ((Date.now() - started) / 1000));
}

async function fill(db: DataSource, repository: AuditLogRepository, total: number): Promise<number> {
  const started = Date.now();
  const batch = 10_000;
  for (let done = 0; done < total; done += batch) {
    await db.transaction((m) =>
      repository.appendMany(
        m,
        Array.from({ length: Math.min(batch, total - done) }, (_, i) => {
          const n = done + i;
          return {
            event: n % 10 === 0 ? 'action.step.succeeded' : 'collection.run.completed',
            actor: n % 3 === 0 ? { type: 'apiKey' as const, id: `key-${n % 50}`, name: 'playbook' } : SYSTEM,
            tenantId: TENANTS[n % TENANTS.length],
            subject: `user:${n % 1000}@contoso.com`,
            requestId: `fill-${n}`,
            data: { n, records: n % 977, source: 'management-activity', window: { from: '2026-11-25T00:00:00Z', to: '2026-11-25T01:00:00Z' } },
          };
        }),
      ),
    );
  }
  return Math.round(total / ((Date.now() - started) / 1000));
}

/** Reads the whole range without hashing: the floor under verify and export. */
async function scanRate(repository: AuditLogRepository, last: number): Promise<number> {
  const started = Date.now();
  let n = 0;
  for await (const batch of repository.range(1, last)) n += batch.length;
  return Math.round(n / ((Date.now() - started) / 1000));
}

function download(url: string, key: string): Promise<{ bytes: number; lines: number; seconds: number; rssGrowthMb: number }> {
  const agent = new Agent({ keepAlive: false });
  const started = Date.now();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  return new Promise((resolve, reject) => {
    get(url, { agent, headers: { Authorization: `Bearer ${key}` } }, (res) => {
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      });
      res.on('end', () => {
        clearInterval(sampler);
        resolve({ bytes, lines, seconds: (Date.now() - started) / 1000, rssGrowthMb: Math.round((rssPeak - rssBefore) / 1e6) });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function pageLatencies(base: string, key: string, rounds: number): Promise<{ p50ms: number; p99ms: number }> {
  const agent = new Agent({ keepAlive: true });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const tenant = TENANTS[i % TENANTS.length];
    const url = `${base}/v1/audit-log?tenantId=${tenant}&event=action.step.succeeded&limit=50`;
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) =>
      get(url, { agent, headers: { Authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      }).on('error', reject),
    );
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50ms: percentile(times, 0.5), p99ms: percentile(times, 0.99) };
}

/**
 * bench/audit-log: append rate with 1 and 8 writers (against plain inserts), then on a log of
 * BENCH_AUDIT_ENTRIES entries (default 1,000,000): verify rate and export rate (against a raw scan of the
 * same rows), export memory growth, and a filtered page's p50/p99.
 */
export async function auditLogBench(): Promise<Record<string, unknown>> {
  const total = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const { app, base, adminKey, close } = await startBenchApp();
  try {
    const db = app.get(DataSource);
    const log = app.get(AuditLogService);
    const repository = app.get(AuditLogRepository);
    const appends = {
      writers1: { ...(await appendRate(db, log, 1, seconds)), plain: await plainInsertRate(db, 1, seconds) },
      writers8: { ...(await appendRate(db, log, 8, seconds)), plain: await plainInsertRate(db, 8, seconds) },
    };
    const fillRate = await fill(db, repository, total);
    const last = (await repository.head()).seq;
    await db.query('ANALYZE audit_log');

    // CPU time of this process per entry: what bounds each rate on an idle core, whatever the load
    const cpuUs = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      const before = process.cpuUsage();
      const result = await work();
      const used = process.cpuUsage(before);
      return [result, (used.user + used.system) / last];
    };
    const [scan, scanCpu] = await cpuUs(() => scanRate(repository, last));
    const verifyStarted = Date.now();
    const [verified, verifyCpu] = await cpuUs(() => log.verify());
    const verifyRate = Math.round(verified.checked / ((Date.now() - verifyStarted) / 1000));
    const [exported, exportCpu] = await cpuUs(() => download(`${base}/v1/audit-log/export?format=ndjson`, adminKey));
    const exportRate = Math.round(exported.lines / exported.seconds);
    const page = await pageLatencies(base, adminKey, 500);
    return {
      entries: last,
      appendsPerSecond: {
        writers1: { ...appends.writers1, ratio: Number((appends.writers1.chained / appends.writers1.plain).toFixed(3)) },
        writers8: { ...appends.writers8, ratio: Number((appends.writers8.chained / appends.writers8.plain).toFixed(3)) },
      },
      bulkFillPerSecond: fillRate,
      rawScanPerSecond: scan,
      verify: { ok: verified.ok, perSecond: verifyRate, ratioToScan: Number((verifyRate / scan).toFixed(3)) },
      export: {
        lines: exported.lines,
        megabytes: Math.round(exported.bytes / 1e6),
        perSecond: exportRate,
        ratioToScan: Number((exportRate / scan).toFixed(3)),
        rssGrowthMb: exported.rssGrowthMb,
      },
      // the export's figure includes the in-process client reading the download
      nodeCpuMicrosecondsPerEntry: { scan: Number(scanCpu.toFixed(2)), verify: Number(verifyCpu.toFixed(2)), export: Number(exportCpu.toFixed(2)) },
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      filteredPage: page,
    };
  } finally {
    await close();
  }
}
