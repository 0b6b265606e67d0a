import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { AppModule } from '../src/app.module';
import { generateApiKey } from '../src/auth/api-key-secret';
import { BootstrapAdminService } from '../src/auth/bootstrap-admin.service';
import { loadConfig } from '../src/config/config';
import { createHttpApp } from '../src/http';

export interface BenchApp {
  app: NestFastifyApplication;
  base: string;
  adminKey: string;
  close(): Promise<void>;
}

/**
 * The real app for a benchmark: on a fresh PostgreSQL database made for the run when DATABASE_URL is
 * set (dropped afterwards), else on embedded PGlite in a temporary directory.
 */
export async function startBenchApp(env: Record<string, string> = {}): Promise<BenchApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  let databaseUrl: string | undefined;
  let dropDatabase = async () => undefined as void;
  if (process.env.DATABASE_URL) {
    const name = `cordon_bench_${Date.now()}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const c = new Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const adminKey = generateApiKey();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_LOG_LEVEL: 'silent',
    CORDON_WORKERS: 'false',
    CORDON_DATABASE_POOL_MAX: '20',
    CORDON_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ...env,
  });
  const app = await createHttpApp({ config, module: AppModule.forRoot(config), logger: pino({ level: 'silent' }) });
  await app.get(BootstrapAdminService).ensureAdminKey();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    base,
    adminKey,
    async close() {
      await app.close();
      await dropDatabase();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2));
}
