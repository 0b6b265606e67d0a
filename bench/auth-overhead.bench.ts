import { startBenchApp } from './bench-app';
import { load, LoadResult } from './load';

/** A phase with the CPU time this process spent per request in it (server and load generator: both run here). */
async function measured(phase: () => Promise<LoadResult>): Promise<LoadResult & { cpuMsPerRequest: number }> {
  const before = process.cpuUsage();
  const result = await phase();
  const used = process.cpuUsage(before);
  return { ...result, cpuMsPerRequest: Number(((used.user + used.system) / 1000 / result.requests).toFixed(3)) };
}

/**
 * What authentication and a keyset-paged read cost per request: `GET /v1/api-keys?limit=1` with an
 * API key (hash lookup, role check, one indexed query) against `GET /health/live` (no auth, no database)
 * on the same server, same process, same load.
 */
export async function authOverhead(): Promise<Record<string, unknown>> {
  // CORDON_API_KEY_CACHE_S=0 measures without the API-key cache (each request reads its key from the database)
  const cache = process.env.CORDON_API_KEY_CACHE_S;
  const { base, adminKey, close } = await startBenchApp(cache === undefined ? {} : { CORDON_API_KEY_CACHE_S: cache });
  try {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
    const auth = { Authorization: `Bearer ${adminKey}` };
    await load(`${base}/health/live`, {}, 1, concurrency); // warm-up
    await load(`${base}/v1/api-keys?limit=1`, auth, 1, concurrency);
    const baseline = await measured(() => load(`${base}/health/live`, {}, seconds, concurrency));
    const authenticated = await measured(() => load(`${base}/v1/api-keys?limit=1`, auth, seconds, concurrency));
    return {
      concurrency,
      apiKeyCacheSeconds: cache === undefined ? 'default' : Number(cache),
      baseline,
      authenticated,
      throughputRatio: Number((authenticated.perSecond / baseline.perSecond).toFixed(3)),
      // less sensitive to what else the machine runs than throughput: this process's CPU per request
      cpuRatio: Number((baseline.cpuMsPerRequest / authenticated.cpuMsPerRequest).toFixed(3)),
    };
  } finally {
    await close();
  }
}
