import { startBenchApp } from './bench-app';
import { load } from './load';

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
    await load(`${base}/health/live`, {}, 1, concurrency); // warm-up
    const baseline = await load(`${base}/health/live`, {}, seconds, concurrency);
    const authenticated = await load(`${base}/v1/api-keys?limit=1`, { Authorization: `Bearer ${adminKey}` }, seconds, concurrency);
    return {
      concurrency,
      apiKeyCacheSeconds: cache === undefined ? 'default' : Number(cache),
      baseline,
      authenticated,
      throughputRatio: Number((authenticated.perSecond / baseline.perSecond).toFixed(3)),
    };
  } finally {
    await close();
  }
}
