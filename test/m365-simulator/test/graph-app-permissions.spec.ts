import { startSimulator, type RunningSimulator } from '../src/index';
import { client } from './helpers';

/** The permissions granted to an app's service principal (microsoft-notes M59), as its appRoleAssignments. */

const TENANT = '33333333-4444-4555-8666-777777777777';
const APP = '1d1d1d1d-2e2e-4f3f-8a4a-5b5b5b5b5b5b';
const SECRET = 'grants~secret';
const GRAPH = '00000003-0000-0000-c000-000000000000';
const MANAGE = 'c5393580-f805-4401-95e8-94b7a6ef2fc2';

let sim: RunningSimulator;
let http: ReturnType<typeof client>;

beforeAll(async () => {
  sim = await startSimulator({
    quiet: true,
    scenario: {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Grants Test',
          domains: ['grantstest.onmicrosoft.com'],
          apps: [
            {
              clientId: APP,
              clientSecrets: [SECRET],
              permissions: { graph: ['Application.Read.All', 'User.Read.All'], manage: ['ActivityFeed.Read'], defender: [] },
            },
          ],
        },
      ],
    },
  });
  http = client(sim);
});
afterAll(() => sim.stop());

const token = async () => {
  const res = await http.post(`${sim.baseUrls.login}/${TENANT}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: 'https://graph.microsoft.com/.default' },
  });
  return res.json.access_token as string;
};
const control = () => `${sim.baseUrls.graph}/_sim/state/tenants/${TENANT}/apps/${APP}`;
const assignments = async (path = `servicePrincipals(appId='${APP}')`) =>
  http.get(`${sim.baseUrls.graph}/v1.0/${path}/appRoleAssignments`, { token: await token() });

describe("an app's granted application permissions", () => {
  it('lists one assignment per granted permission, on each resource, with the role resolvable through its appRoles', async () => {
    const res = await assignments();
    expect(res.status).toBe(200);
    const items = res.json.value as Array<Record<string, string>>;
    expect(items).toHaveLength(3);
    expect(new Set(items.map((a) => a.principalType))).toEqual(new Set(['ServicePrincipal']));
    const t = await token();
    const names: string[] = [];
    for (const a of items) {
      const resource = await http.get(`${sim.baseUrls.graph}/v1.0/servicePrincipals/${a.resourceId}?$select=appId,appRoles`, { token: t });
      expect(resource.status).toBe(200);
      expect([GRAPH, MANAGE]).toContain(resource.json.appId);
      names.push(resource.json.appRoles.find((r: { id: string }) => r.id === a.appRoleId).value);
    }
    expect(names.sort()).toEqual(['ActivityFeed.Read', 'Application.Read.All', 'User.Read.All']);
    // by object id too
    expect((await assignments(`servicePrincipals/${items[0].principalId}`)).json.value).toHaveLength(3);
  });

  it('follows a revocation at once, keeping the other assignments and their dates', async () => {
    const before = (await assignments()).json.value as Array<Record<string, string>>;
    await http.patch(control(), { body: { permissions: { graph: ['Application.Read.All'] } } });
    const after = (await assignments()).json.value as Array<Record<string, string>>;
    expect(after).toHaveLength(2);
    for (const a of after) expect(before.find((b) => b.id === a.id)?.createdDateTime).toBe(a.createdDateTime);
  });

  it('refuses without Application.Read.All (or a higher permission), and answers 404 for an unknown app', async () => {
    expect((await assignments("servicePrincipals(appId='99999999-0000-4000-8000-000000000000')")).status).toBe(404);
    await http.patch(control(), { body: { permissions: { graph: ['User.Read.All'] } } });
    const res = await assignments();
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('Authorization_RequestDenied');
  });
});
