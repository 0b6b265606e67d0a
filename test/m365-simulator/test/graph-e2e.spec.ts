/**
 * End to end over HTTPS: a real client-credentials token from the simulator's Entra endpoint, then
 * Graph calls through `@microsoft/microsoft-graph-client` (Microsoft's JavaScript SDK, which users of
 * the simulator may bring; Cordon itself calls Graph through MicrosoftHttp), trusting the simulator's
 * CA only for these requests.
 */
import {
  AuthenticationHandler,
  Client,
  GraphError,
  PageIterator,
  RetryHandler,
  RetryHandlerOptions,
  type PageCollection,
} from '@microsoft/microsoft-graph-client';
import { startSimulator, type RunningSimulator } from '../src';
import type { Scenario, SimUser } from '../src/types';
import { CaTrustingHttpHandler, httpsCall } from './graph-support/https-client';

const TENANT = '5a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b';
const APP = '6b2d3f40-5c6e-4f70-9b8c-0d1e2f3a4b5c';
const SECRET = 'graph-e2e-secret';
const ALICE = '7c3e4051-6d7f-4081-8c9d-1e2f3a4b5c6d';
const ADMIN = '8d4f5162-7e80-4192-9dae-2f3a4b5c6d7e';

function scenario(): Scenario {
  const t0 = Date.parse('2025-03-01T00:00:00Z');
  return {
    tenants: [
      {
        tenantId: TENANT,
        displayName: 'Graph E2E',
        domains: ['graphe2e.onmicrosoft.com'],
        apps: [
          {
            clientId: APP,
            displayName: 'Cordon E2E',
            clientSecrets: [SECRET],
            certificates: [],
            directoryRoles: [],
            permissions: {
              graph: [
                'User.Read.All',
                'User.EnableDisableAccount.All',
                'User.RevokeSessions.All',
                'AuditLog.Read.All',
                'SecurityAlert.Read.All',
                'IdentityRiskyUser.Read.All',
              ],
              manage: [],
              defender: [],
            },
          },
        ],
        // scenario.ts fills every field a scenario leaves out.
        users: [
          { id: ALICE, userPrincipalName: 'alice@graphe2e.onmicrosoft.com', displayName: 'Alice' },
          { id: ADMIN, userPrincipalName: 'admin@graphe2e.onmicrosoft.com', displayName: 'Admin', directoryRoles: ['Global Administrator'] },
        ] as SimUser[],
        alerts: Array.from({ length: 23 }, (_, i) => ({
          id: `da-e2e-${String(i).padStart(3, '0')}`,
          title: `Alert ${i}`,
          status: 'new',
          severity: 'high',
          serviceSource: i === 0 ? 'microsoftSentinel' : 'microsoftDefenderForEndpoint',
          detectionSource: 'antivirus',
          createdDateTime: new Date(t0 + i * 60_000).toISOString(),
          lastUpdateDateTime: new Date(t0 + i * 60_000).toISOString(),
        })),
      },
    ],
    graph: { throttling: { reportsPer10Seconds: 0, securityPerMinute: 0 } },
  };
}

describe('Graph over HTTPS with @microsoft/microsoft-graph-client', () => {
  let sim: RunningSimulator;
  let client: Client;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: scenario(), quiet: true });
    const form = new URLSearchParams({
      client_id: APP,
      client_secret: SECRET,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    }).toString();
    const tokenRes = await httpsCall(`${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/token`, sim.caCertPem, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) },
      body: form,
    });
    expect(tokenRes.status).toBe(200);
    const accessToken: string = JSON.parse(tokenRes.text).access_token;

    const auth = new AuthenticationHandler({ getAccessToken: async () => accessToken });
    const retry = new RetryHandler(new RetryHandlerOptions(1, 1));
    auth.setNext(retry);
    retry.setNext(new CaTrustingHttpHandler(sim.caCertPem));
    client = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: `${sim.baseUrls.graph}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['localhost']),
    });
  }, 30_000);

  afterAll(async () => {
    await sim?.stop();
  });

  it('reads a user, disables it, revokes its sessions, and finds both in directoryAudits', async () => {
    const user = await client.api('/users/alice@graphe2e.onmicrosoft.com').select('id,accountEnabled').get();
    expect(user).toMatchObject({ id: ALICE, accountEnabled: true });

    await client.api(`/users/${ALICE}`).patch({ accountEnabled: false });
    const revoked = await client.api(`/users/${ALICE}/revokeSignInSessions`).post({});
    expect(revoked).toEqual({ '@odata.context': `${sim.baseUrls.graph}/v1.0/$metadata#Edm.Boolean`, value: true });

    const audits = await client.api('/auditLogs/directoryAudits').filter(`targetResources/any(t:t/id eq '${ALICE}')`).get();
    expect(audits.value.map((a: { activityDisplayName: string }) => a.activityDisplayName).sort()).toEqual([
      'Disable account',
      'Update StsRefreshTokenValidFrom Timestamp',
      'Update user',
    ]);
    expect(audits.value[0].initiatedBy.app).toMatchObject({ appId: APP, displayName: 'Cordon E2E' });
  });

  it('surfaces Graph errors as GraphError with code and request id', async () => {
    const missing = await client
      .api('/users/nobody@graphe2e.onmicrosoft.com')
      .get()
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GraphError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound', requestId: expect.any(String) });

    // Privileged target without a directory role on the app (microsoft-notes M13).
    const admin = await client
      .api(`/users/${ADMIN}`)
      .patch({ accountEnabled: false })
      .catch((e: unknown) => e);
    expect(admin).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
    // No permission for passwordProfile (microsoft-notes M14).
    const pwd = await client
      .api(`/users/${ALICE}`)
      .patch({ passwordProfile: { password: 'Xy7!long-enough', forceChangePasswordNextSignIn: true } })
      .catch((e: unknown) => e);
    expect(pwd).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
  });

  it('pages alerts_v2 to the end with PageIterator, masking newer enum members by default', async () => {
    const first: PageCollection = await client.api('/security/alerts_v2').top(5).get();
    expect(first['@odata.nextLink']).toMatch(new RegExp(`^${sim.baseUrls.graph}/v1\\.0/security/alerts_v2\\?`));
    const seen: Array<{ id: string; serviceSource: string }> = [];
    await new PageIterator(client, first, (alert) => {
      seen.push(alert);
      return true;
    }).iterate();
    expect(seen).toHaveLength(23);
    expect(new Set(seen.map((a) => a.id)).size).toBe(23);
    expect(seen.find((a) => a.id === 'da-e2e-000')?.serviceSource).toBe('unknownFutureValue');

    const withHeader = await client.api('/security/alerts_v2/da-e2e-000').header('Prefer', 'include-unknown-enum-members').get();
    expect(withHeader.serviceSource).toBe('microsoftSentinel');
  });

  it('answers the Identity Protection throttle with 429 and no Retry-After (microsoft-notes M12)', async () => {
    const noRetry = [new RetryHandlerOptions(0, 0)];
    // Concurrent calls land within the same second even on a slow machine.
    const results = await Promise.allSettled([1, 2, 3].map(() => client.api('/identityProtection/riskyUsers').middlewareOptions(noRetry).get()));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as GraphError);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    for (const throttled of rejected) {
      expect(throttled).toMatchObject({ statusCode: 429, code: 'TooManyRequests' });
      expect(throttled.headers?.get('retry-after') ?? null).toBeNull();
    }
  });
});
