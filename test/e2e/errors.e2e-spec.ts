import { bearer, expectProblem, startTestApp, TestApp } from './support/test-app';

describe('every error is application/problem+json', () => {
  let t: TestApp;
  const logLines: string[] = [];
  beforeAll(async () => {
    t = await startTestApp({}, [], { logLines });
  });
  afterAll(() => t.close());

  it('404 for an unknown route', async () => {
    expectProblem(await t.http.get('/v1/no-such-thing').set(bearer(t.adminKey)), 404, 'not-found');
    expectProblem(await t.http.get('/'), 404, 'not-found');
  });

  it('405 with Allow for a known path and a wrong method', async () => {
    const res = await t.http.put('/v1/api-keys').set(bearer(t.adminKey)).send({});
    expectProblem(res, 405, 'method-not-allowed');
    expect(res.headers.allow).toBe('GET, POST');
  });

  it('413 for a body over 1 MiB', async () => {
    const res = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), roles: ['admin'] }));
    expectProblem(res, 413, 'payload-too-large');
  });

  it('415 for a body that is not JSON', async () => {
    const res = await t.http.post('/v1/api-keys').set(bearer(t.adminKey)).set('Content-Type', 'text/plain').send('name=x');
    expectProblem(res, 415, 'unsupported-media-type');
  });

  it('400 malformed-url for a path that is not percent-encoded UTF-8', async () => {
    expectProblem(await t.http.get('/v1/tenants/%ED%A0%80').set(bearer(t.adminKey)), 400, 'malformed-url');
    expectProblem(await t.http.get('/v1/tenants/a%ZZ/policy').set(bearer(t.adminKey)), 400, 'malformed-url');
  });

  it('a path parameter as long as a user principal name reaches its route; past 1024 characters, 414', async () => {
    const upn = `${'a'.repeat(64)}@${'b'.repeat(44)}.com`;
    expectProblem(
      await t.http.post(`/v1/tenants/00000000-0000-4000-8000-000000000000/users/${upn}/disable`).set(bearer(t.adminKey)).send({ reason: 'x' }),
      403,
      'forbidden',
    );
    expectProblem(await t.http.get(`/v1/tenants/${'a'.repeat(1025)}`).set(bearer(t.adminKey)), 414, 'uri-too-long');
  });

  it('431 problem for a request head Node will not read', async () => {
    const res = await t.http.get(`/v1/tenants/${'a'.repeat(20_000)}`).set(bearer(t.adminKey));
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: '/problems/request-header-too-large', status: 431, requestId: res.headers['x-request-id'] });
  });

  it('400 for malformed JSON', async () => {
    const res = await t.http.post('/v1/api-keys').set(bearer(t.adminKey)).set('Content-Type', 'application/json').send('{"name": ');
    expectProblem(res, 400, 'malformed-body');
  });

  it('400 validation-failed with errors[] naming each field', async () => {
    const res = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: '', roles: ['root'], tenantIds: ['nope'], colour: 'red' });
    expectProblem(res, 400, 'validation-failed');
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['colour', 'name', 'roles', 'tenantIds']));
  });

  it('401 and 403', async () => {
    expectProblem(await t.http.get('/v1/api-keys'), 401, 'unauthenticated');
    const created = await t.http
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'a', roles: ['auditor'] });
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(created.body.key)), 403, 'forbidden');
  });

  it('500 with an error id and nothing internal', async () => {
    const res = await t.http.get('/v1/_test/boom').set(bearer(t.adminKey));
    expectProblem(res, 500, 'internal-error');
    expect(res.body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.detail).toContain(res.body.errorId);
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|password|at .*\.ts/);
  });

  it('logs a 500 with its cause chain and the error id, even when the error is circular', async () => {
    const res = await t.http.get('/v1/_test/boom-circular').set(bearer(t.adminKey));
    expectProblem(res, 500, 'internal-error');
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.errorId === res.body.errorId);
    expect(line).toMatchObject({
      level: 'error',
      requestId: res.body.requestId,
      route: '/v1/_test/boom-circular',
      err: {
        type: 'Error',
        message: 'outer failure',
        stack: expect.stringMatching(/^Error: outer failure\n\s+at /),
        self: '[Circular]',
        context: { password: '[REDACTED]' },
        cause: {
          type: 'AggregateError',
          message: 'two things failed',
          errors: [{ type: 'TypeError', message: 'inner type error', stack: expect.any(String) }, 'a thrown string'],
        },
      },
    });
    expect(logLines.join('\n')).not.toContain('circular-secret-value');
    expect(JSON.stringify(res.body)).not.toMatch(/outer failure|AggregateError|circular-secret-value/);
  });

  it("echoes a caller's X-Request-Id and mints one otherwise", async () => {
    const echoed = await t.http.get('/health/live').set('X-Request-Id', 'playbook-run-42');
    expect(echoed.headers['x-request-id']).toBe('playbook-run-42');
    const minted = await t.http.get('/health/live');
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await t.http.get('/health/live').set('X-Request-Id', 'x'.repeat(300));
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
