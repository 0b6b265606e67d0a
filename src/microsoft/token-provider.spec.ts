import { randomUUID } from 'node:crypto';
import { CapturingLogger } from '../../test/support/capturing-logger';
import { startSimulator, type RunningSimulator } from '../../test/m365-simulator/src';
import { generateRsaKeyPairAsync, selfSignedCertificate } from '../../test/m365-simulator/src/tls';
import { CLOUD_NAMES, Clouds } from './clouds';
import { HttpsTransport, type TransportRequest } from './https-transport';
import { MicrosoftAuthError } from './microsoft-errors';
import type { TenantCredentials } from './tenant-credentials';
import { TokenProvider } from './token-provider';

/** Tokens from the simulator's Entra ID over real HTTPS: secrets, certificates, cache, errors. */

const TENANT = '5a1e0c3b-2d4f-4a6b-8c9d-0e1f2a3b4c5d';
const APP = '6b2f1d4c-3e5a-4b7c-9dae-1f2a3b4c5d6e';
const SECRET = 'token-spec~secret-value-1234';
const EXPIRED = 'token-spec~expired-secret';

let sim: RunningSimulator;
let clouds: Clouds;
let transport: HttpsTransport;
let logger: CapturingLogger;

beforeAll(async () => {
  sim = await startSimulator({
    quiet: true,
    scenario: {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Token Spec',
          apps: [
            {
              clientId: APP,
              displayName: 'Cordon (token spec)',
              clientSecrets: [SECRET],
              expiredClientSecrets: [EXPIRED],
              certificates: [],
              generateCertificate: true,
              permissions: { graph: ['User.Read.All'], manage: ['ActivityFeed.Read'], defender: ['Machine.Read.All'] },
              directoryRoles: [],
            },
          ],
        },
      ],
    },
  });
  clouds = new Clouds(sim.baseUrls);
  transport = new HttpsTransport({ caPem: sim.caCertPem });
});
afterAll(async () => {
  transport.close();
  await sim.stop();
});

beforeEach(() => {
  logger = new CapturingLogger();
});

const withSecret = (secret = SECRET, over: Partial<TenantCredentials> = {}): TenantCredentials => ({
  tenantId: TENANT,
  clientId: APP,
  cloud: 'global',
  credential: { type: 'secret', secret },
  ...over,
});

const provider = (now?: () => number) => new TokenProvider({ clouds, transport, timeoutMs: 5000, now, logger });

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

/** Token POSTs the simulator received after `since`. */
const tokenRequests = (since: number) => sim.journal.list({ host: 'login', method: 'POST', since }).filter((e) => e.path.endsWith('/oauth2/v2.0/token'));

async function authError(promise: Promise<unknown>): Promise<MicrosoftAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MicrosoftAuthError);
  return error as MicrosoftAuthError;
}

describe('TokenProvider', () => {
  it('gets a token with a client secret, for the scope of the cloud row (here the simulator)', async () => {
    const since = sim.journal.lastSeq();
    const token = await provider().getToken(withSecret(), 'graph');
    expect(claims(token)).toMatchObject({ aud: sim.baseUrls.graph, tid: TENANT, appid: APP, appidacr: '1', roles: ['User.Read.All'] });
    const [request] = tokenRequests(since);
    expect(request.path).toBe(`/${TENANT}/oauth2/v2.0/token`);
    expect(request.body).toContain(`scope=${encodeURIComponent(`${sim.baseUrls.graph}/.default`)}`);
  });

  it('gets a token with a certificate: PS256 assertion carrying the SHA-256 thumbprint (microsoft-notes §1.2)', async () => {
    const cert = sim.tenants[0].certificate!;
    const since = sim.journal.lastSeq();
    const token = await provider().getToken(
      {
        tenantId: TENANT,
        clientId: APP,
        cloud: 'global',
        credential: { type: 'certificate', certificatePem: cert.certPem, privateKeyPem: cert.privateKeyPem },
      },
      'defender',
    );
    expect(claims(token)).toMatchObject({ aud: sim.baseUrls.defender, appidacr: '2' });
    const form = new URLSearchParams(tokenRequests(since)[0].body);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('client_secret')).toBeNull();
    const header = JSON.parse(Buffer.from(form.get('client_assertion')!.split('.')[0], 'base64url').toString('utf8'));
    expect(header).toMatchObject({ alg: 'PS256', 'x5t#S256': Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') });
  });

  it('serves the cache: one token request for repeated and simultaneous calls, one per resource', async () => {
    const tokens = provider();
    const since = sim.journal.lastSeq();
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => tokens.getToken(withSecret(), 'manage')));
    expect(new Set([a, b, c]).size).toBe(1);
    expect(await tokens.getToken(withSecret(), 'manage')).toBe(a);
    expect(tokenRequests(since)).toHaveLength(1);
    const graph = await tokens.getToken(withSecret(), 'graph');
    expect(graph).not.toBe(a);
    expect(tokenRequests(since)).toHaveLength(2);
  });

  it('renews a token five minutes before it expires', async () => {
    let now = Date.now();
    const tokens = provider(() => now);
    const since = sim.journal.lastSeq();
    const first = await tokens.getToken(withSecret(), 'graph');
    now += 3200_000; // the simulator issues 3599 s tokens: still more than 5 min left
    expect(await tokens.getToken(withSecret(), 'graph')).toBe(first);
    expect(tokenRequests(since)).toHaveLength(1);
    now += 100_000; // under 5 min left
    const second = await tokens.getToken(withSecret(), 'graph');
    expect(tokenRequests(since)).toHaveLength(2);
    expect(second).not.toBe(first);
  });

  it('invalidates a rejected token once, not for every caller that saw it fail', async () => {
    const tokens = provider();
    const since = sim.journal.lastSeq();
    const first = await tokens.getToken(withSecret(), 'graph');
    tokens.invalidate(withSecret(), 'graph', first);
    const second = await tokens.getToken(withSecret(), 'graph');
    tokens.invalidate(withSecret(), 'graph', first); // a late 401 for the old token: keep the new one
    expect(await tokens.getToken(withSecret(), 'graph')).toBe(second);
    expect(tokenRequests(since)).toHaveLength(2);
  });

  it('starts over when the credential changes', async () => {
    const tokens = provider();
    await tokens.getToken(withSecret(), 'graph');
    const error = await authError(tokens.getToken(withSecret('rotated-but-wrong'), 'graph'));
    expect(error.codes).toEqual([7000215]);
  });

  describe('Entra ID refusals, as MicrosoftAuthError with the AADSTS codes', () => {
    it('wrong secret: AADSTS7000215, with trace and correlation ids', async () => {
      const error = await authError(provider().getToken(withSecret('not-the-secret'), 'graph'));
      expect(error).toMatchObject({ error: 'invalid_client', codes: [7000215], tenantId: TENANT });
      expect(error.message).toBe('the client secret is wrong or expired — use the secret value, not its ID (AADSTS7000215)');
      expect(error.traceId).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.transient).toBe(false);
    });

    it('expired secret: AADSTS7000222', async () => {
      const error = await authError(provider().getToken(withSecret(EXPIRED), 'graph'));
      expect(error.codes).toEqual([7000222]);
      expect(error.message).toBe(`the client secret of app ${APP} has expired; create a new one (AADSTS7000222)`);
    });

    it('app not registered in the tenant: AADSTS700016', async () => {
      const stranger = randomUUID();
      const error = await authError(provider().getToken(withSecret(SECRET, { clientId: stranger }), 'graph'));
      expect(error).toMatchObject({ error: 'unauthorized_client', codes: [700016] });
      expect(error.message).toBe(`the app ${stranger} is not registered in tenant ${TENANT} (or was never consented there) (AADSTS700016)`);
    });

    it('unknown tenant: AADSTS90002', async () => {
      const nowhere = randomUUID();
      const error = await authError(provider().getToken(withSecret(SECRET, { tenantId: nowhere }), 'graph'));
      expect(error.codes).toEqual([90002]);
      expect(error.message).toBe(`tenant ${nowhere} does not exist in the global cloud (AADSTS90002)`);
    });

    it('certificate not registered on the app: AADSTS700027', async () => {
      const keys = await generateRsaKeyPairAsync();
      const credential = { type: 'certificate' as const, certificatePem: selfSignedCertificate(keys, 'stranger'), privateKeyPem: keys.privateKeyPem };
      const error = await authError(provider().getToken({ tenantId: TENANT, clientId: APP, cloud: 'global', credential }, 'graph'));
      expect(error.codes).toEqual([700027]);
      expect(error.message).toMatch(/certificate is not registered on app/);
    });

    it('a private key that does not match the certificate is refused before Entra ID is asked', async () => {
      const keys = await generateRsaKeyPairAsync();
      const since = sim.journal.lastSeq();
      const credential = { type: 'certificate' as const, certificatePem: sim.tenants[0].certificate!.certPem, privateKeyPem: keys.privateKeyPem };
      const error = await authError(provider().getToken({ tenantId: TENANT, clientId: APP, cloud: 'global', credential }, 'graph'));
      expect(error).toMatchObject({ error: 'invalid_certificate', message: 'the private key does not belong to the certificate' });
      expect(sim.journal.list({ host: 'login', since })).toHaveLength(0);
    });

    it('login host unreachable: a transient network error', async () => {
      sim.faults.add({ host: 'login', pathPattern: '*/oauth2/v2.0/token', drop: true, times: 0 });
      try {
        const error = await authError(provider().getToken(withSecret(), 'graph'));
        expect(error.error).toBe('network');
        expect(error.transient).toBe(true);
      } finally {
        sim.faults.clear();
      }
    });

    it('checks TLS: without the simulator CA the login host is not trusted', async () => {
      const untrusting = new HttpsTransport();
      try {
        const tokens = new TokenProvider({ clouds, transport: untrusting, timeoutMs: 5000, logger });
        const error = await authError(tokens.getToken(withSecret(), 'graph'));
        expect(error.error).toBe('network');
        expect(error.message).toMatch(/certificate/i);
      } finally {
        untrusting.close();
      }
    });

    it('never logs the secret', async () => {
      await authError(provider().getToken(withSecret(`${SECRET}-wrong`), 'manage'));
      await provider().getToken(withSecret(), 'manage');
      expect(logger.lines.length).toBeGreaterThan(0);
      expect(logger.lines.join('\n')).not.toContain(SECRET);
    });
  });
});

describe('TokenProvider on the real clouds (no network: a recording transport answers)', () => {
  /** Records what would go to Entra ID; answers metadata requests, and token requests like a wrong secret. */
  class RecordingTransport extends HttpsTransport {
    readonly sent: TransportRequest[] = [];
    override async send(request: TransportRequest) {
      this.sent.push(request);
      const base = `${request.url.origin}/${TENANT}`;
      const body =
        request.method === 'GET'
          ? {
              token_endpoint: `${base}/oauth2/v2.0/token`,
              issuer: `${base}/v2.0`,
              authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
              jwks_uri: `${base}/discovery/v2.0/keys`,
            }
          : {
              error: 'invalid_client',
              error_description: 'AADSTS7000215: Invalid client secret provided.',
              error_codes: [7000215],
              trace_id: 't',
              correlation_id: 'c',
            };
      return { status: request.method === 'GET' ? 200 : 401, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
    }
  }

  /** Where the token request goes. In China MSAL sends it to its preferred alias of login.chinacloudapi.cn (microsoft-notes §0.1). */
  const tokenHost = {
    global: 'https://login.microsoftonline.com',
    'usgov-gcc': 'https://login.microsoftonline.com',
    'usgov-gcchigh': 'https://login.microsoftonline.us',
    'usgov-dod': 'https://login.microsoftonline.us',
    china: 'https://login.partner.microsoftonline.cn',
  };

  it.each(CLOUD_NAMES)('%s: asks its own login host for its own Management API scope', async (cloud) => {
    const transport = new RecordingTransport();
    const realClouds = new Clouds();
    const tokens = new TokenProvider({ clouds: realClouds, transport, timeoutMs: 1000, logger: new CapturingLogger() });
    const error = await authError(tokens.getToken({ ...withSecret(), cloud }, 'manage'));
    expect(error.codes).toEqual([7000215]);
    const posts = transport.sent.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(`${posts[0].url.origin}${posts[0].url.pathname}`).toBe(`${tokenHost[cloud]}/${TENANT}/oauth2/v2.0/token`);
    expect(new URLSearchParams(String(posts[0].body)).get('scope')).toBe(realClouds.scope(cloud, 'manage'));
    // MSAL knows these authorities: no instance discovery on another host; at most the tenant's metadata.
    for (const get of transport.sent.filter((r) => r.method === 'GET')) {
      expect(get.url.href).toBe(`${tokenHost[cloud]}/${TENANT}/v2.0/.well-known/openid-configuration`);
    }
  });
});
