import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AppModule } from '../src/app.module';
import { generateApiKey } from '../src/auth/api-key-secret';
import { BootstrapAdminService } from '../src/auth/bootstrap-admin.service';
import { loadConfig } from '../src/config/config';
import { createHttpApp } from '../src/http';
import { load } from './load';

/**
 * What authentication and a keyset-paged read cost per request: `GET /v1/api-keys?limit=1` with an
 * API key (hash lookup, role check, one indexed query) against `GET /health/live` (no auth, no database)
 * on the same server, same process, same load.
 */
export async function authOverhead(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  const adminKey = generateApiKey();
  const config = loadConfig({ DATABASE_URL: process.env.DATABASE_URL, CORDON_DATA_DIR: dataDir, CORDON_BOOTSTRAP_ADMIN_KEY: adminKey, CORDON_LOG_LEVEL: 'silent', CORDON_WORKERS: 'false' });
  const app = await createHttpApp({ config, module: AppModule.forRoot(config), logger: pino({ level: 'silent' }) });
  await app.get(BootstrapAdminService).ensureAdminKey();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  try {
    const seconds = Number(process.env.BENCH_SECONDS ?? 5);
    const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
    await load(`${base}/health/live`, {}, 1, concurrency); // warm-up
    const baseline = await load(`${base}/health/live`, {}, seconds, concurrency);
    const authenticated = await load(`${base}/v1/api-keys?limit=1`, { Authorization: `Bearer ${adminKey}` }, seconds, concurrency);
    return { concurrency, baseline, authenticated, throughputRatio: Number((authenticated.perSecond / baseline.perSecond).toFixed(3)) };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
