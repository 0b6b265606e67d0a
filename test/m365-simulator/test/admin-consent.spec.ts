import { startSimulator, type RunningSimulator } from '../src/index';
import { client, decodePayload } from './helpers';

/** Admin consent (microsoft-notes M43): granted permissions configurable, tokens carry exactly them, the consent redirect. */

const TENANT = '22222222-3333-4444-8555-666666666666';
const APP = '0c0c0c0c-1b1b-4c2c-8d3d-4e4e4e4e4e4e';
const SECRET = 'consent~secret';
const CALLBACK = 'https://cordon.example/v1/onboarding/consent-callback';

let sim: RunningSimulator;
let http: ReturnType<typeof client>;

beforeAll(async () => {
  sim = await startSimulator({
    quiet: true,
    scenario: {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Consent Test',
          domains: ['consenttest.onmicrosoft.com'],
          apps: [{ clientId: APP, clientSecrets: [SECRET], permissions: { graph: [], manage: [], defender: [] }, replyUrls: [CALLBACK] }],
        },
      ],
    },
  });
  http = client(sim);
});
afterAll(() => sim.stop());

const control = () => `${sim.baseUrls.graph}/_sim/state/tenants/${TENANT}/apps/${APP}`;
const token = async (scope: string) => {
  const res = await http.post(`${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope },
  });
  expect(res.status).toBe(200);
  return res.json.access_token as string;
};
const consentUrl = (params: Record<string, string>) => `${sim.baseUrls.login}/${TENANT}/v2.0/adminconsent?${new URLSearchParams(params)}`;

describe('granted permissions', () => {
  it('starts with nothing granted: no roles claim, and Graph refuses with 403', async () => {
    const t = await token('https://graph.microsoft.com/.default');
    expect(decodePayload(t).roles).toBeUndefined();
    const res = await http.get(`${sim.baseUrls.graph}/v1.0/users`, { token: t });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('Authorization_RequestDenied');
  });

  it('PATCH sets the granted roles per resource; tokens carry exactly those', async () => {
    const set = await http.patch(control(), { body: { permissions: { manage: ['ActivityFeed.Read'] } } });
    expect(set.status).toBe(200);
    expect(set.json.permissions.manage).toEqual(['ActivityFeed.Read']);
    expect(decodePayload(await token('https://manage.office.com/.default')).roles).toEqual(['ActivityFeed.Read']);
    expect(decodePayload(await token('https://graph.microsoft.com/.default')).roles).toBeUndefined();
    await http.patch(control(), { body: { permissions: { manage: [] } } });
    expect(decodePayload(await token('https://manage.office.com/.default')).roles).toBeUndefined();
  });

  it('refuses a malformed permissions body with 400', async () => {
    expect((await http.patch(control(), { body: { permissions: { mail: ['x'] } } })).status).toBe(400);
    expect((await http.patch(control(), { body: { permissions: { graph: 'User.Read.All' } } })).status).toBe(400);
    expect((await http.patch(control(), { body: { consentOutcome: 'maybe' } })).status).toBe(400);
  });
});

describe('GET /{tenant}/v2.0/adminconsent', () => {
  it('a declined consent redirects with error first and admin_consent=True, and grants nothing', async () => {
    await http.patch(control(), { body: { consentOutcome: 'decline' } });
    const res = await http.get(consentUrl({ client_id: APP, scope: 'https://graph.microsoft.com/.default', redirect_uri: CALLBACK, state: 's-1' }));
    expect(res.status).toBe(302);
    const to = new URL(String(res.headers.location));
    expect(`${to.origin}${to.pathname}`).toBe(CALLBACK);
    expect(to.searchParams.get('error')).toBe('access_denied');
    expect(to.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
    expect(to.searchParams.get('admin_consent')).toBe('True');
    expect(to.searchParams.get('state')).toBe('s-1');
    expect(decodePayload(await token('https://graph.microsoft.com/.default')).roles).toBeUndefined();
  });

  it('a granted consent redirects with admin_consent=True, tenant and state, and the next tokens carry the requested roles', async () => {
    await http.patch(control(), {
      body: { consentOutcome: 'grant', requiredResourceAccess: { graph: ['User.Read.All'], manage: ['ActivityFeed.Read'], defender: [] } },
    });
    const res = await http.get(consentUrl({ client_id: APP, scope: 'https://graph.microsoft.com/.default', redirect_uri: CALLBACK, state: 's-2' }));
    expect(res.status).toBe(302);
    const to = new URL(String(res.headers.location));
    expect(to.searchParams.get('error')).toBeNull();
    expect(to.searchParams.get('admin_consent')).toBe('True');
    expect(to.searchParams.get('tenant')).toBe(TENANT);
    expect(to.searchParams.get('state')).toBe('s-2');
    expect(to.searchParams.get('scope')).toContain('https://graph.microsoft.com/User.Read.All');
    expect(decodePayload(await token('https://graph.microsoft.com/.default')).roles).toEqual(['User.Read.All']);
    expect(decodePayload(await token('https://manage.office.com/.default')).roles).toEqual(['ActivityFeed.Read']);
    const users = await http.get(`${sim.baseUrls.graph}/v1.0/users`, { token: await token('https://graph.microsoft.com/.default') });
    expect(users.status).toBe(200);
  });

  it('an unregistered redirect_uri, an unknown app or tenant get an error page, never a redirect', async () => {
    const bad = await http.get(consentUrl({ client_id: APP, scope: 'https://graph.microsoft.com/.default', redirect_uri: 'https://evil.example/cb' }));
    expect(bad.status).toBe(400);
    expect(bad.headers.location).toBeUndefined();
    expect(bad.text).toContain('AADSTS50011');
    const app = await http.get(
      consentUrl({ client_id: '0d0d0d0d-1b1b-4c2c-8d3d-4e4e4e4e4e4e', scope: 'https://graph.microsoft.com/.default', redirect_uri: CALLBACK }),
    );
    expect(app.status).toBe(400);
    expect(app.text).toContain('AADSTS700016');
    const tenant = await http.get(`${sim.baseUrls.login}/33333333-3333-4444-8555-666666666666/v2.0/adminconsent?client_id=${APP}`);
    expect(tenant.status).toBe(400);
    expect(tenant.text).toContain('AADSTS90002');
  });

  it('an unknown resource in scope redirects with an error', async () => {
    const res = await http.get(consentUrl({ client_id: APP, scope: 'https://nowhere.example/.default', redirect_uri: CALLBACK, state: 's-3' }));
    expect(res.status).toBe(302);
    const to = new URL(String(res.headers.location));
    expect(to.searchParams.get('error')).toBe('invalid_client');
    expect(to.searchParams.get('state')).toBe('s-3');
  });
});
