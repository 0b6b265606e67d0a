import { DataSource } from 'typeorm';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/**
 * Input the database cannot hold (NUL, unpaired surrogates), nesting that would make validation
 * recurse without end, and over-long strings are 400 validation-failed naming the field, on every
 * class of route, and change nothing.
 */
describe('input hardening', () => {
  let t: TestApp;
  let responder: string;
  const tenantId = '6b1f0c1e-2d3a-4b5c-8d6e-7f8091a2b3c4';
  beforeAll(async () => {
    t = await startTestApp({ CORDON_WORKERS: 'false' });
    responder = (await createKey(t, ['responder'])).key;
  });
  afterAll(() => t.close());

  // Audit entries are first pending, then sealed into the chain: both count.
  const counts = async () =>
    (
      await t.app
        .get(DataSource)
        .query(
          'SELECT (SELECT count(*)::int FROM audit_log) + (SELECT count(*)::int FROM audit_pending) AS audit, (SELECT count(*)::int FROM api_keys) AS keys, (SELECT count(*)::int FROM tenants) AS tenants, (SELECT count(*)::int FROM idempotency_keys) AS idem',
        )
    )[0];
  const json = (path: string, body: string, key = t.adminKey, method: 'post' | 'put' | 'patch' = 'post') =>
    t.http[method](path).set(bearer(key)).set('Content-Type', 'application/json').send(body);
  const tenantBody = (displayName: string) =>
    `{"displayName":"${displayName}","tenantId":"5e0c1d2a-3b4c-4d5e-8f60-71829304a5b1","cloud":"global","clientId":"0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c30","credential":{"type":"secret","secret":"s3cret-value-1234567890"}}`;

  /** Sends a bad request and checks the problem names `field`, and that nothing was written. */
  async function refused(
    send: () => PromiseLike<{ status: number; headers: Record<string, string>; body: Record<string, unknown> }>,
    field: string,
    message: RegExp,
  ): Promise<void> {
    const before = await counts();
    const res = await send();
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
    expect(await counts()).toEqual(before);
  }

  it('refuses NUL and unpaired surrogates in JSON fields of creates (tenants, api keys), naming the field', async () => {
    await refused(() => json('/v1/tenants', tenantBody('Contoso\\u0000')), 'displayName', /NUL/);
    await refused(() => json('/v1/tenants', tenantBody('Contoso\\ud800')), 'displayName', /unpaired surrogates/);
    await refused(() => json('/v1/api-keys', '{"name":"x\\udc00y","roles":["analyst"]}'), 'name', /unpaired surrogates/);
    await refused(() => json('/v1/api-keys', '{"name":"ok","roles":["analyst\\u0000"]}'), 'roles.0', /NUL/);
    // With an Idempotency-Key the key is not even claimed.
    await refused(() => json('/v1/api-keys', '{"name":"x\\u0000","roles":["analyst"]}').set('Idempotency-Key', 'hardening-1'), 'name', /NUL/);
  });

  it('refuses them in nested fields and in field names of free-form objects', async () => {
    await refused(() => json('/v1/tenants', tenantBody('Contoso').replace('s3cret-value', 's3cret\\u0000value')), 'credential.secret', /NUL/);
    const policy = '{"protectedUsers":[],"protectedGroups":[],"approvalRequired":[],"hourlyLimits":{"user.disable\\u0000":1}}';
    await refused(
      () => json(`/v1/tenants/${tenantId}/policy`, policy, t.adminKey, 'put'),
      'hourlyLimits.user.disable\\u0000',
      /field name that must not contain NUL/,
    );
  });

  it('refuses them in path segments and query strings', async () => {
    await refused(
      () => t.http.post(`/v1/tenants/${tenantId}/users/alice%00@contoso.com/disable`).set(bearer(responder)).send({ reason: 'INC-1' }),
      'user',
      /NUL/,
    );
    const before = await counts();
    expectProblem(
      await t.http.post(`/v1/tenants/${tenantId}/users/alice%ED%A0%80/disable`).set(bearer(responder)).send({ reason: 'INC-1' }),
      400,
      'malformed-url',
    );
    expect(await counts()).toEqual(before);
    await refused(() => t.http.post(`/v1/tenants/${tenantId}/users/alice/disable`).set(bearer(responder)).send({ reason: 'INC-1\u0000' }), 'reason', /NUL/);
    await refused(() => t.http.get('/v1/audit-log?actor=a%00b').set(bearer(t.adminKey)), 'actor', /NUL/);
    await refused(() => t.http.get('/v1/events?user=%00').set(bearer(t.adminKey)), 'user', /NUL/);
  });

  it('caps JSON nesting at 32 before validation runs, however deep the body', async () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    await refused(
      () => json('/v1/api-keys', `{"name":"x","roles":["analyst"],"tenantIds":${deep(5000)}}`),
      'tenantIds.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0',
      /deeper than 32/,
    );
    await refused(
      () => json('/v1/tenants', `{"displayName":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`),
      'displayName.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a',
      /deeper than 32/,
    );
    // 32 levels are within the limit: the answer is the DTO's own verdict.
    const res = await json('/v1/api-keys', `{"name":"x","roles":["analyst"],"tenantIds":${deep(31)}}`);
    expectProblem(res, 400, 'validation-failed');
    expect(JSON.stringify(res.body.errors)).not.toContain('deeper');
  });

  it('refuses strings over their documented maximum length', async () => {
    await refused(
      () =>
        t.http
          .post('/v1/api-keys')
          .set(bearer(t.adminKey))
          .send({ name: 'n'.repeat(201), roles: ['analyst'] }),
      'name',
      /shorter than or equal to 200/,
    );
    await refused(
      () =>
        t.http
          .post(`/v1/tenants/${tenantId}/users/alice/disable`)
          .set(bearer(responder))
          .send({ reason: 'r'.repeat(1001) }),
      'reason',
      /1000/,
    );
    await refused(() => t.http.get(`/v1/audit-log?since=${'2025-01-01T00:00:00.'.padEnd(70, '0')}Z`).set(bearer(t.adminKey)), 'since', /RFC 3339/);
    await refused(() => t.http.get(`/v1/alerts?since=${'2025-01-01T00:00:00.'.padEnd(70, '0')}Z`).set(bearer(t.adminKey)), 'since', /64/);
    const unchanged = await counts();
    expectProblem(
      await t.http
        .post(`/v1/tenants/${tenantId}/users/${'u'.repeat(1100)}/disable`)
        .set(bearer(responder))
        .send({ reason: 'INC-1' }),
      414,
      'uri-too-long',
    );
    expect(await counts()).toEqual(unchanged);
    await refused(
      () =>
        t.http
          .post(`/v1/tenants/${tenantId}/users/${'u'.repeat(321)}/disable`)
          .set(bearer(responder))
          .send({ reason: 'INC-1' }),
      'user',
      /320/,
    );
  });

  it('authenticates first: without a credential the answer is 401, not a verdict on the input', async () => {
    const res = await t.http.post('/v1/api-keys').set('Content-Type', 'application/json').send('{"name":"x\\u0000","roles":["analyst"]}');
    expectProblem(res, 401, 'unauthenticated');
  });

  it('takes emoji, right-to-left text and paired surrogates', async () => {
    const created = await json('/v1/api-keys', '{"name":"soar 😀 \\u05e9\\u05dc\\u05d5\\u05dd \\ud83d\\ude00","roles":["analyst"]}').expect(201);
    expect(created.body.name).toBe('soar 😀 שלום 😀');
  });
});
