import { ApiExcludeController } from '@nestjs/swagger';
import { Controller, DynamicModule, Get, Module, Param, Post, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../../src/app.module';
import { Access, CurrentPrincipal } from '../../../src/access/access.decorator';
import { generateApiKey } from '../../../src/auth/api-key-secret';
import type { Principal } from '../../../src/access/principal';
import { assertTenantAccess } from '../../../src/access/tenant-scope';
import { AppConfig, loadConfig } from '../../../src/config/config';
import { createHttpApp } from '../../../src/http';
import { createLogger } from '../../../src/common/logger';

/** Routes that exist only in tests, to reach the error paths and the tenant scope check over HTTP. */
@ApiExcludeController()
@Controller('v1/_test')
export class TestOnlyController {
  @Get('boom')
  @Access('analyst', 'admin')
  boom(): never {
    throw new Error('database password is hunter2');
  }

  /** An error no JSON.stringify survives: a circular field, and a cause chain through an AggregateError. */
  @Get('boom-circular')
  @Access('analyst', 'admin')
  boomCircular(): never {
    const error = new Error('outer failure', { cause: new AggregateError([new TypeError('inner type error'), 'a thrown string'], 'two things failed') });
    Object.assign(error, { self: error, context: { password: 'circular-secret-value' } });
    throw error;
  }

  @Get('slow')
  @Access('analyst', 'admin')
  async slow(): Promise<{ done: true }> {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return { done: true };
  }

  @Get('tenants/:tenantId')
  @Access('analyst', 'admin')
  tenant(@Param('tenantId') tenantId: string, @CurrentPrincipal() principal: Principal) {
    assertTenantAccess(principal, tenantId);
    return { tenantId };
  }

  @Post('unguarded')
  unguarded() {
    return { reached: true };
  }
}

/** The suite's credential encryption key (a fixed test value; never use it anywhere real). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  config: AppConfig;
  adminKey: string;
  close(): Promise<void>;
}

/** What a helper needs to call the API as an admin: a `TestApp`, or another process's agent and key. */
export type AdminCaller = Pick<TestApp, 'http' | 'adminKey'>;

/**
 * The real application (same factory as `main.ts`) on the suite's database: PostgreSQL when the
 * global setup made one, else an embedded PGlite in a temporary directory. Its `adminKey` is the
 * `CORDON_BOOTSTRAP_ADMIN_KEY` of `env` when given (suites that restart the service keep one key),
 * else a fresh one.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  extraModules: Array<Type<unknown> | DynamicModule> = [],
  options: { logLines?: string[] } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-e2e-'));
  seedEmbeddedDatabase(env.CORDON_DATA_DIR ?? dataDir);
  const adminKey = env.CORDON_BOOTSTRAP_ADMIN_KEY ?? generateApiKey();
  const config = loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    CORDON_DATA_DIR: dataDir,
    CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
    CORDON_LOG_LEVEL: 'silent',
    CORDON_SHUTDOWN_TIMEOUT_S: '10',
    CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...env,
  });

  @Module({ imports: [AppModule.forRoot(config), ...extraModules], controllers: [TestOnlyController] })
  class TestRootModule {}

  // With logLines, every log line (at debug level) is captured, so tests can search them for secrets.
  const logger = options.logLines ? createLogger('debug', { write: (line: string) => options.logLines!.push(line) }) : pino({ level: 'silent' });
  const app = await createHttpApp({ config, module: TestRootModule, logger });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const { BootstrapAdminService } = await import('../../../src/auth/bootstrap-admin.service');
  await app.get(BootstrapAdminService).ensureAdminKey();
  return {
    app,
    http: request(app.getHttpServer()),
    config,
    adminKey,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * On PGlite, a data directory without a database starts as a copy of the migrated one the global setup
 * made (test/e2e/global-setup.ts), instead of creating a cluster. A directory that has one (a suite
 * restarting the service on its own data) is left as it is.
 */
export function seedEmbeddedDatabase(dataDir: string): void {
  const template = process.env.CORDON_TEST_PGLITE_TEMPLATE;
  const target = join(dataDir, 'pglite');
  if (process.env.DATABASE_URL || !template || existsSync(target)) return;
  cpSync(join(template, 'pglite'), target, { recursive: true });
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** Creates a key with the given roles through the API, as an admin would. */
export async function createKey(t: TestApp, roles: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await t.http
    .post('/v1/api-keys')
    .set(bearer(t.adminKey))
    .send({ name: `test ${roles.join('+')}`, roles, ...extra });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, key: res.body.key };
}

export function expectProblem(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, status: number, slug: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `/problems/${slug}`, status, title: expect.any(String), instance: expect.any(String) });
  expect(res.headers['x-request-id']).toEqual(res.body.requestId);
}

/** Reads until `done` holds, every 150 ms; past `timeoutMs` it fails with the last value read. */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 45000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out; last value ${JSON.stringify(value).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Every item of a keyset-paged list (`url` may carry a query), following `nextCursor` to the end. */
export async function allPages<T>(t: AdminCaller, url: string, limit: number, key = t.adminKey): Promise<T[]> {
  const items: T[] = [];
  const first = `${url}${url.includes('?') ? '&' : '?'}limit=${limit}`;
  let cursor: string | null = null;
  do {
    const res: { body: { items: T[]; nextCursor: string | null } } = await t.http
      .get(`${first}${cursor ? `&cursor=${cursor}` : ''}`)
      .set(bearer(key))
      .expect(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}
