import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startSimulator, type RunningSimulator } from '../src/index';
import { signJwt } from '../src/jwt';
import { certificateThumbprints, selfSignedCertificate } from '../src/tls';
import { client, decodePayload, request } from './helpers';

/** Entra ID token endpoint, discovery and JWKS (microsoft-notes §1.1–§1.3). */

const TENANT = '11111111-2222-4333-8444-555555555555';
const APP = '0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
const NO_MANAGE_APP = '0b0b0b0b-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
const SECRET = 's3cret~value';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const registered = keyPair();
const registeredCert = selfSignedCertificate(registered, 'registered');
const stranger = keyPair();
const strangerCert = selfSignedCertificate(stranger, 'stranger');

let sim: RunningSimulator;
let http: ReturnType<typeof client>;
let tokenUrl: string;

beforeAll(async () => {
  sim = await startSimulator({
    quiet: true,
    scenario: {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Entra Test',
          domains: ['entratest.onmicrosoft.com'],
          apps: [
            { clientId: APP, clientSecrets: [SECRET], expiredClientSecrets: ['old~secret'], certificates: [registeredCert] },
            { clientId: NO_MANAGE_APP, clientSecrets: [SECRET], permissions: { graph: ['User.Read.All'], manage: [], defender: [] } },
          ],
        },
      ],
    },
  });
  http = client(sim);
  tokenUrl = `${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/token`;
});
afterAll(() => sim.stop());

const secretForm = (over: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_id: APP,
  client_secret: SECRET,
  scope: 'https://graph.microsoft.com/.default',
  ...over,
});

describe('client credentials with a secret', () => {
  it('answers 200 with token_type, expires_in, ext_expires_in and a v1.0 app token', async () => {
    const res = await http.post(tokenUrl, { form: secretForm() });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: expect.any(String) });
    const claims = decodePayload(res.json.access_token);
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${TENANT}/`,
      tid: TENANT,
      appid: APP,
      idtyp: 'app',
      ver: '1.0',
      appidacr: '1',
    });
    expect(claims.roles).toEqual(expect.arrayContaining(['User.ReadWrite.All', 'SecurityAlert.Read.All']));
    expect(claims.exp - claims.iat).toBe(3599);
    expect(claims.oid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts HTTP Basic client authentication', async () => {
    const basic = Buffer.from(`${encodeURIComponent(APP)}:${encodeURIComponent(SECRET)}`).toString('base64');
    const res = await http.post(tokenUrl, {
      form: { grant_type: 'client_credentials', scope: 'https://manage.office.com/.default' },
      headers: { authorization: `Basic ${basic}` },
    });
    expect(res.status).toBe(200);
    expect(decodePayload(res.json.access_token)).toMatchObject({
      aud: 'https://manage.office.com',
      roles: ['ActivityFeed.Read', 'ActivityFeed.ReadDlp', 'ServiceHealth.Read'],
    });
  });

  it('gives each resource its own audience and roles; the tenant may be a verified domain', async () => {
    const url = `${sim.baseUrls.login}/entratest.onmicrosoft.com/oauth2/v2.0/token`;
    const mde = await http.post(url, { form: secretForm({ scope: 'https://api.securitycenter.microsoft.com/.default' }) });
    expect(decodePayload(mde.json.access_token)).toMatchObject({ aud: 'https://api.securitycenter.microsoft.com', tid: TENANT });
    expect(decodePayload(mde.json.access_token).roles).toContain('Machine.Isolate');
    const own = await http.post(url, { form: secretForm({ scope: `${sim.baseUrls.graph}/.default` }) });
    expect(decodePayload(own.json.access_token).aud).toBe(sim.baseUrls.graph);
    const none = await http.post(tokenUrl, { form: secretForm({ client_id: NO_MANAGE_APP, scope: 'https://manage.office.com/.default' }) });
    expect(none.status).toBe(200);
    expect(decodePayload(none.json.access_token).roles).toBeUndefined();
  });
});

describe('AADSTS errors', () => {
  // Every row has 6 entries: jest passes a `done` callback when a row is shorter than the function's arity.
  const cases: Array<[string, Record<string, string>, number, string, number, string | undefined]> = [
    ['bad secret', { client_secret: 'wrong' }, 401, 'invalid_client', 7000215, undefined],
    ['expired secret', { client_secret: 'old~secret' }, 401, 'invalid_client', 7000222, undefined],
    ['unknown app', { client_id: randomUUID() }, 400, 'unauthorized_client', 700016, undefined],
    ['scope without /.default', { scope: 'https://graph.microsoft.com/User.Read.All' }, 400, 'invalid_scope', 1002012, undefined],
    ['scopes of two resources', { scope: 'https://graph.microsoft.com/.default https://manage.office.com/.default' }, 400, 'invalid_scope', 70011, undefined],
    ['a bare scope', { scope: 'openid' }, 400, 'invalid_scope', 70011, undefined],
    ['unknown resource', { scope: 'https://example.com/.default' }, 400, 'invalid_resource', 500011, undefined],
    ['unsupported grant', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003, undefined],
    ['missing scope', { scope: '' }, 400, 'invalid_request', 900144, undefined],
    ['unknown tenant', {}, 400, 'invalid_request', 90002, `/${randomUUID()}/oauth2/v2.0/token`],
    ['malformed tenant', {}, 400, 'invalid_request', 900023, '/not_a_tenant/oauth2/v2.0/token'],
  ];
  it.each(cases)('%s', async (_name, over, status, error, code, path) => {
    const form = secretForm(over);
    if (over.scope === '') delete (form as Record<string, string>).scope;
    const res = await http.post(path ? sim.baseUrls.login + path : tokenUrl, { form });
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ error, error_codes: [code], trace_id: expect.any(String), correlation_id: expect.any(String) });
    expect(res.json.error_description).toMatch(new RegExp(`^AADSTS${code}: .*Trace ID: .*Correlation ID: .*Timestamp: `));
    expect(res.json.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  });

  it('no credential at all ⇒ 401 invalid_client AADSTS7000218', async () => {
    const res = await http.post(tokenUrl, { form: { grant_type: 'client_credentials', client_id: APP, scope: 'https://graph.microsoft.com/.default' } });
    expect(res.status).toBe(401);
    expect(res.json.error_codes).toEqual([7000218]);
  });

  it('GET on the token endpoint is refused', async () => {
    const res = await http.get(tokenUrl);
    expect(res.status).toBe(405);
    expect(res.json.error).toBe('invalid_request');
  });
});

describe('certificate client_assertion (microsoft-notes §1.2)', () => {
  const th = certificateThumbprints(registeredCert);
  const assertion = (opts: { alg?: 'RS256' | 'PS256'; key?: string; aud?: string; exp?: number; header?: Record<string, unknown> } = {}) => {
    const now = Math.floor(sim.clock.nowMs() / 1000);
    const alg = opts.alg ?? 'RS256';
    const header = opts.header ?? (alg === 'RS256' ? { typ: 'JWT', x5t: th.x5t } : { typ: 'JWT', 'x5t#S256': th.x5tS256 });
    return signJwt(
      { ...header, alg },
      { aud: opts.aud ?? tokenUrl, iss: APP, sub: APP, jti: randomUUID(), nbf: now, iat: now, exp: opts.exp ?? now + 600 },
      opts.key ?? registered.privateKeyPem,
    );
  };
  const post = (client_assertion: string) =>
    http.post(tokenUrl, {
      form: {
        grant_type: 'client_credentials',
        client_id: APP,
        scope: 'https://graph.microsoft.com/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion,
      },
    });

  it('accepts RS256 with x5t (SHA-1 thumbprint)', async () => {
    const res = await post(assertion({ alg: 'RS256' }));
    expect(res.status).toBe(200);
    expect(decodePayload(res.json.access_token).appidacr).toBe('2');
  });

  it('accepts PS256 with x5t#S256 (SHA-256 thumbprint)', async () => {
    expect((await post(assertion({ alg: 'PS256' }))).status).toBe(200);
  });

  it('refuses a signature by a key that is not registered (700027)', async () => {
    const res = await post(assertion({ key: stranger.privateKeyPem }));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
  });

  it('refuses a certificate that is not registered (700027)', async () => {
    const res = await post(assertion({ key: stranger.privateKeyPem, header: { typ: 'JWT', x5t: certificateThumbprints(strangerCert).x5t } }));
    expect(res.json.error_codes).toEqual([700027]);
  });

  it('refuses a wrong audience (700027)', async () => {
    const res = await post(assertion({ aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' }));
    expect(res.status).toBe(401);
    expect(res.json.error_codes).toEqual([700027]);
  });

  it('refuses an expired assertion (700024)', async () => {
    const res = await post(assertion({ exp: Math.floor(sim.clock.nowMs() / 1000) - 3600 }));
    expect(res.status).toBe(401);
    expect(res.json.error_codes).toEqual([700024]);
  });
});

describe('discovery and keys (microsoft-notes §1.3)', () => {
  it('serves the v2.0 OpenID configuration with this host’s endpoints', async () => {
    const res = await http.get(`${sim.baseUrls.login}/entratest.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      issuer: `${sim.baseUrls.login}/${TENANT}/v2.0`,
      token_endpoint: `${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/authorize`,
      jwks_uri: `${sim.baseUrls.login}/${TENANT}/discovery/v2.0/keys`,
    });
    const common = await http.get(`${sim.baseUrls.login}/common/v2.0/.well-known/openid-configuration`);
    expect(common.json.issuer).toBe(`${sim.baseUrls.login}/{tenantid}/v2.0`);
    const unknown = await http.get(`${sim.baseUrls.login}/${randomUUID()}/v2.0/.well-known/openid-configuration`);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error_codes).toEqual([90002]);
  });

  it('publishes JWKS that verify issued tokens (checked with jose)', async () => {
    const jwks = await http.get(`${sim.baseUrls.login}/common/discovery/v2.0/keys`);
    expect(jwks.json.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', kid: expect.any(String), x5t: expect.any(String), x5c: [expect.any(String)] });
    const token = (await http.post(tokenUrl, { form: secretForm() })).json.access_token;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.json), {
      audience: 'https://graph.microsoft.com',
      issuer: `https://sts.windows.net/${TENANT}/`,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.json.keys[0].kid });
    expect(payload.tid).toBe(TENANT);
  });

  it('answers instance discovery in the shape MSAL reads', async () => {
    const authz = encodeURIComponent(`${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/authorize`);
    const res = await http.get(`${sim.baseUrls.login}/common/discovery/instance?api-version=1.1&authorization_endpoint=${authz}`);
    const host = new URL(sim.baseUrls.login).host;
    expect(res.json).toEqual({
      tenant_discovery_endpoint: `${sim.baseUrls.login}/${TENANT}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });
});

describe('user (delegated) tokens', () => {
  it('mints v2.0 user tokens through the control route and the library, verifiable with the JWKS', async () => {
    const res = await request(sim.caCertPem, `${sim.baseUrls.login}/_sim/tokens/user`, {
      body: { tenantId: TENANT, audience: 'api://cordon', roles: ['Cordon.Analyst'], upn: 'ana@entratest.onmicrosoft.com', scp: 'access_as_user' },
    });
    expect(res.status).toBe(200);
    const jwks = (await http.get(`${sim.baseUrls.login}/${TENANT}/discovery/v2.0/keys`)).json;
    const { payload } = await jwtVerify(res.json.access_token, createLocalJWKSet(jwks), {
      audience: 'api://cordon',
      issuer: `${sim.baseUrls.login}/${TENANT}/v2.0`,
    });
    expect(payload).toMatchObject({
      ver: '2.0',
      tid: TENANT,
      roles: ['Cordon.Analyst'],
      scp: 'access_as_user',
      preferred_username: 'ana@entratest.onmicrosoft.com',
    });
    const lib = sim.mintUserToken({ tenantId: TENANT, audience: 'api://cordon', roles: [], lifetimeSeconds: 60, issuer: 'https://evil.example/' });
    expect(decodePayload(lib.access_token)).toMatchObject({ iss: 'https://evil.example/', ver: '2.0' });
    expect(lib.expires_in).toBe(60);
  });
});
