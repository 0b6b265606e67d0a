import { ConfidentialClientApplication } from '@azure/msal-node';
import { startSimulator, type RunningSimulator } from '../src/index';
import { decodePayload } from './helpers';

/**
 * @azure/msal-node against the simulator's HTTPS authority (microsoft-notes §1.4, M22): knownAuthorities
 * with host:port, the CA trusted through an https agent option (no global TLS changes).
 */

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ quiet: true });
});
afterAll(() => sim.stop());

function cca(auth: { clientSecret?: string; clientCertificate?: { thumbprint?: string; thumbprintSha256?: string; privateKey: string } }) {
  const t = sim.tenants[0];
  return new ConfidentialClientApplication({
    auth: { clientId: t.clientId, authority: `${sim.baseUrls.login}/${t.tenantId}`, knownAuthorities: [new URL(sim.baseUrls.login).host], ...auth },
    system: { customAgentOptions: { ca: sim.caCertPem } },
  });
}

describe('MSAL ConfidentialClientApplication', () => {
  it('gets a Graph token with a client secret', async () => {
    const result = await cca({ clientSecret: sim.tenants[0].clientSecret }).acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
    });
    expect(result?.tokenType).toBe('Bearer');
    expect(decodePayload(result!.accessToken)).toMatchObject({ aud: 'https://graph.microsoft.com', appid: sim.tenants[0].clientId, appidacr: '1' });
    expect(result!.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
  });

  it('gets a Management API token with a certificate (PS256, x5t#S256)', async () => {
    const cert = sim.tenants[0].certificate!;
    const app = cca({ clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem } });
    const result = await app.acquireTokenByClientCredential({ scopes: ['https://manage.office.com/.default'] });
    expect(decodePayload(result!.accessToken)).toMatchObject({
      aud: 'https://manage.office.com',
      appidacr: '2',
      roles: expect.arrayContaining(['ActivityFeed.Read']),
    });
    const last = sim.journal.list({ host: 'login', path: '/oauth2/v2.0/token' }).pop()!;
    expect(last.body).toContain('client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer');
  });

  it('gets a Defender token with a certificate (RS256, x5t SHA-1)', async () => {
    const cert = sim.tenants[0].certificate!;
    const app = cca({ clientCertificate: { thumbprint: cert.thumbprint, privateKey: cert.privateKeyPem } });
    const result = await app.acquireTokenByClientCredential({ scopes: ['https://api.securitycenter.microsoft.com/.default'] });
    expect(decodePayload(result!.accessToken).aud).toBe('https://api.securitycenter.microsoft.com');
  });

  it('surfaces the AADSTS error of a wrong secret', async () => {
    await expect(cca({ clientSecret: 'wrong' }).acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('AADSTS7000215'),
    });
  });
});
