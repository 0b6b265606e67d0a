import { DataSource } from 'typeorm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, startTestApp, TestApp } from './support/test-app';

describe(`boot on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is live and ready (database and job queue)', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', jobs: 'ok' } });
  });

  it('runs the migrations and the schema matches the entities (no drift)', async () => {
    const dataSource = t.app.get(DataSource);
    const applied = await dataSource.query('SELECT name FROM schema_migrations ORDER BY name');
    expect(applied.map((r: { name: string }) => r.name)).toContain('0001_api_keys.sql');
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('refuses UPDATE through synchronize: it is off', () => {
    expect(t.app.get(DataSource).options.synchronize).toBe(false);
  });

  it('serves Prometheus metrics with HTTP counts by route pattern', async () => {
    await t.http.get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/cordon_http_requests_total\{method="GET",route="\/v1\/api-keys",status="200"\} \d+/);
    expect(res.text).toContain('cordon_http_request_duration_seconds_bucket');
    expect(res.text).toContain('cordon_process_cpu_user_seconds_total');
  });

  it('serves the OpenAPI document that is committed in openapi/openapi.json', async () => {
    const res = await t.http.get('/docs-json').expect(200);
    const committed = JSON.parse(readFileSync(join(__dirname, '../../openapi/openapi.json'), 'utf8'));
    expect(res.body.paths).toEqual(committed.paths);
    await t.http.get('/docs').expect((r) => expect([200, 301, 302]).toContain(r.status));
  });
});
