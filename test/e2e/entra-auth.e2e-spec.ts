import { generateKeyPair, SignJWT } from 'jose';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { bearer, expectProblem, startTestApp, TestApp } from './support/test-app';

const AUDIENCE = 'api://cordon-e2e';

describe('Entra ID access tokens (analysts signing in)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let issuer: string;

  beforeAll(async () => {
    sim = await startSimulator({ quiet: true });
    tenantId = sim.tenants[0].tenantId;
    issuer = `${sim.baseUrls.login}/${tenantId}/v2.0`;
    t = await startTestApp({
      CORDON_ENTRA_ISSUER: issuer,
      CORDON_ENTRA_AUDIENCE: AUDIENCE,
      CORDON_ENTRA_JWKS_URL: `${sim.baseUrls.login}/${tenantId}/discovery/v2.0/keys`,
      CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const token = (roles: string[], extra: Partial<Parameters<RunningSimulator['mintUserToken']>[0]> = {}) =>
    sim.mintUserToken({ tenantId, audience: AUDIENCE, roles, upn: 'analyst@contoso.com', name: 'Ana Lyst', ...extra }).access_token;

  it('maps Cordon.* app roles to roles', async () => {
    await t.http
      .get('/v1/api-keys')
      .set(bearer(token(['Cordon.Admin'])))
      .expect(200);
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(token(['Cordon.Auditor']))), 403, 'forbidden');
    await t.http
      .get('/v1/audit-log')
      .set(bearer(token(['Cordon.Auditor'])))
      .expect(200);
    expectProblem(await t.http.get('/v1/audit-log').set(bearer(token(['Cordon.Analyst', 'Cordon.Responder']))), 403, 'forbidden');
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(token([]))), 403, 'forbidden');
  });

  it('records the signed-in user as the actor', async () => {
    const res = await t.http
      .post('/v1/api-keys')
      .set(bearer(token(['Cordon.Admin'], { oid: '11111111-2222-4333-8444-555555555555' })))
      .send({ name: 'by-user', roles: ['analyst'] });
    expect(res.status).toBe(201);
    expect(res.body.createdBy).toBe('user:11111111-2222-4333-8444-555555555555 (analyst@contoso.com)');
  });

  it('refuses an expired token, a wrong audience, a wrong issuer and a foreign signature', async () => {
    const expired = token(['Cordon.Admin'], { lifetimeSeconds: -600 });
    const expiredRes = await t.http.get('/v1/api-keys').set(bearer(expired));
    expectProblem(expiredRes, 401, 'unauthenticated');
    expect(expiredRes.body.detail).toContain('expired');

    expectProblem(await t.http.get('/v1/api-keys').set(bearer(token(['Cordon.Admin'], { audience: 'api://someone-else' }))), 401, 'unauthenticated');
    expectProblem(
      await t.http.get('/v1/api-keys').set(bearer(token(['Cordon.Admin'], { issuer: 'https://login.evil.example/x/v2.0' }))),
      401,
      'unauthenticated',
    );

    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ roles: ['Cordon.Admin'], oid: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(privateKey);
    expectProblem(await t.http.get('/v1/api-keys').set(bearer(forged)), 401, 'unauthenticated');
  });
});
