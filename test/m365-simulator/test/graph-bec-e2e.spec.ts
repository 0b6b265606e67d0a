/**
 * The BEC persistence routes end to end over HTTPS on the built-in demo: the seeded victim as Graph
 * shows it (and what it hides), `@microsoft/microsoft-graph-client` evicting all of it, the journal
 * (password redacted), state under /_sim/state, faults, 405s, and the Fabrikam app without the BEC
 * permissions (403).
 */
import { AuthenticationHandler, Client, GraphError, RetryHandler, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startSimulator, type RunningSimulator } from '../src';
import { BEC_PERMISSIONS, DEMO, DEMO_BEC, DEMO_GROUP_CONTAINMENT } from '../src/demo-scenario';
import { PASSWORD_METHOD_ID } from '../src/persistence';
import { CaTrustingHttpHandler } from './graph-support/https-client';
import { appToken, client as httpClient, decodePayload } from './helpers';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('BEC persistence on the demo tenant, over HTTPS', () => {
  let sim: RunningSimulator;
  let graph: Client;
  let http: ReturnType<typeof httpClient>;
  let token: string;
  const victim = DEMO_BEC.userId;

  beforeAll(async () => {
    sim = await startSimulator({ quiet: true });
    http = httpClient(sim);
    token = await appToken(sim, 'https://graph.microsoft.com/.default');
    const auth = new AuthenticationHandler({ getAccessToken: async () => token });
    const retry = new RetryHandler(new RetryHandlerOptions(1, 1));
    auth.setNext(retry);
    retry.setNext(new CaTrustingHttpHandler(sim.caCertPem));
    graph = Client.initWithMiddleware({ middleware: auth, baseUrl: `${sim.baseUrls.graph}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']) });
  }, 30_000);

  afterAll(async () => {
    await sim?.stop();
  });

  it("grants the demo app the BEC permissions (the token's roles)", () => {
    expect(decodePayload(token).roles).toEqual(expect.arrayContaining([...BEC_PERMISSIONS, 'User-PasswordProfile.ReadWrite.All']));
  });

  it('seeds the victim: a forwarding rule to an outside address, a consent to an unverified app, a phone added yesterday', async () => {
    const rules = await graph.api(`/users/${DEMO_BEC.userPrincipalName}/mailFolders/inbox/messageRules`).get();
    const forwarding = rules.value.find((r: Json) => r.id === DEMO_BEC.forwardingRuleId);
    expect(forwarding.actions.forwardTo[0].emailAddress.address).toBe(DEMO_BEC.externalAddress);
    const domain = DEMO_BEC.externalAddress.split('@')[1];
    expect([DEMO.contoso.domain, DEMO.contoso.vanityDomain]).not.toContain(domain);
    expect(rules.value.map((r: Json) => r.id)).not.toContain(DEMO_BEC.hiddenRuleId);

    const grants = await graph.api(`/users/${victim}/oauth2PermissionGrants`).get();
    expect(grants.value).toHaveLength(1);
    expect(grants.value[0].scope).toBe('Mail.ReadWrite offline_access User.Read');
    const app = await graph.api(`/servicePrincipals/${grants.value[0].clientId}`).get();
    expect(app).toMatchObject({ appId: DEMO_BEC.maliciousAppId, displayName: 'Mail Helper Pro', verifiedPublisher: { verifiedPublisherId: null } });

    const phones = await graph.api(`/users/${victim}/authentication/phoneMethods`).get();
    expect(phones.value).toEqual([
      {
        '@odata.type': '#microsoft.graph.phoneAuthenticationMethod',
        id: DEMO_BEC.phoneMethodId,
        phoneNumber: '+234 8015550143',
        phoneType: 'mobile',
        smsSignInState: 'notAllowedByPolicy',
      },
    ]);
    // Graph gives phones no createdDateTime; the simulator's state has it (a day before start).
    const state = (await http.get(`${sim.baseUrls.graph}/_sim/state/tenants/${DEMO.contoso.tenantId}/users/${victim}`)).json;
    const phone = state.authMethods.find((m: Json) => m.id === DEMO_BEC.phoneMethodId);
    expect(Date.now() - Date.parse(phone.createdDateTime)).toBeGreaterThan(23 * 3_600_000);
    expect(Date.now() - Date.parse(phone.createdDateTime)).toBeLessThan(26 * 3_600_000);
    expect(state.inboxRules.find((r: Json) => r.id === DEMO_BEC.hiddenRuleId)).toMatchObject({ hidden: true, actions: { delete: true } });
  });

  it('evicts it all with the Graph SDK; Graph then shows none of it, and the journal has every call', async () => {
    const since = sim.journal.lastSeq();
    await graph.api(`/users/${victim}/mailFolders/inbox/messageRules/${DEMO_BEC.forwardingRuleId}`).patch({ isEnabled: false });
    await graph.api(`/users/${victim}/mailFolders/inbox/messageRules/${DEMO_BEC.forwardingRuleId}`).delete();
    const grants = await graph.api(`/users/${victim}/oauth2PermissionGrants`).get();
    await graph.api(`/oauth2PermissionGrants/${grants.value[0].id}`).delete();
    await graph.api(`/servicePrincipals(appId='${DEMO_BEC.maliciousAppId}')`).patch({ accountEnabled: false });
    await graph.api(`/users/${victim}/authentication/phoneMethods/${DEMO_BEC.phoneMethodId}`).delete();
    await graph.api(`/users/${victim}`).patch({ passwordProfile: { password: 'Xk7#pL9!qRt2$vW', forceChangePasswordNextSignIn: true } });
    await graph.api(`/groups/${DEMO_GROUP_CONTAINMENT}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${victim}` });

    const rules = await graph.api(`/users/${victim}/mailFolders/inbox/messageRules`).get();
    expect(rules.value.map((r: Json) => r.id)).toEqual([DEMO_BEC.newslettersRuleId]);
    expect((await graph.api(`/users/${victim}/oauth2PermissionGrants`).get()).value).toEqual([]);
    expect((await graph.api(`/servicePrincipals(appId='${DEMO_BEC.maliciousAppId}')`).get()).accountEnabled).toBe(false);
    const methods = await graph.api(`/users/${victim}/authentication/methods`).get();
    expect(methods.value.map((m: Json) => m.id).sort()).toEqual([DEMO_BEC.authenticatorMethodId, PASSWORD_METHOD_ID].sort());
    const members = await graph.api(`/groups/${DEMO_GROUP_CONTAINMENT}/members`).get();
    expect(members.value.map((m: Json) => m.id)).toEqual([victim]);

    const writes = sim.journal.list({ since }).filter((e) => e.method !== 'GET');
    expect(writes.map((e) => [e.method, e.status])).toEqual([
      ['PATCH', 200],
      ['DELETE', 204],
      ['DELETE', 204],
      ['PATCH', 204],
      ['DELETE', 204],
      ['PATCH', 204],
      ['POST', 204],
    ]);
    const reset = writes[5];
    expect(reset.body).toBe('{"passwordProfile":{"password":"(redacted)","forceChangePasswordNextSignIn":true}}');
    const everything = JSON.stringify({
      journal: (await http.get(`${sim.baseUrls.graph}/_sim/journal`)).json,
      state: (await http.get(`${sim.baseUrls.graph}/_sim/state/tenants/${DEMO.contoso.tenantId}/users/${victim}`)).json,
    });
    expect(everything).not.toContain('Xk7#pL9');
    expect(everything).toContain('lastPasswordChangeDateTime');
  });

  it('answers GraphError bodies the SDK reads, and 405 for a DELETE of the password method', async () => {
    const missing = await graph
      .api(`/users/${victim}/mailFolders/inbox/messageRules/AQAAAnope=`)
      .get()
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GraphError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'ErrorItemNotFound', requestId: expect.any(String) });
    const res = await http.del(`${sim.baseUrls.graph}/v1.0/users/${victim}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`, { token });
    expect(res.status).toBe(405);
    expect(res.json.error.code).toBe('MethodNotAllowed');
  });

  it('applies fault injection to the new routes', async () => {
    await http.post(`${sim.baseUrls.graph}/_sim/faults`, {
      body: {
        host: 'graph',
        method: 'DELETE',
        pathPattern: '/v1.0/oauth2PermissionGrants/*',
        status: 503,
        body: { error: { code: 'serviceNotAvailable', message: 'try later' } },
      },
    });
    const res = await http.del(`${sim.baseUrls.graph}/v1.0/oauth2PermissionGrants/anything`, { token });
    expect(res.status).toBe(503);
    expect(sim.journal.list({ path: '/v1.0/oauth2PermissionGrants/anything' }).pop()).toMatchObject({ status: 503, fault: 'status' });
    expect((await http.del(`${sim.baseUrls.graph}/v1.0/oauth2PermissionGrants/anything`, { token })).status).toBe(404);
  });

  it('shows the persistence in the tenant summary and seeds more through POST records', async () => {
    const base = `${sim.baseUrls.graph}/_sim/state/tenants/${DEMO.contoso.tenantId}`;
    const before = (await http.get(base)).json;
    expect(before).toMatchObject({ servicePrincipals: 6, oauth2PermissionGrants: 1, appRoleAssignments: 1 });
    const added = await http.post(`${base}/records`, {
      body: {
        servicePrincipals: [{ appId: '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9', displayName: 'Another App' }],
        oauth2PermissionGrants: [{ clientId: '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9', principalId: 'bob@contoso.example', scope: 'Mail.Read' }],
      },
    });
    expect(added.status).toBe(201);
    const listed = (await http.get(`${base}/records/oauth2PermissionGrants`)).json.oauth2PermissionGrants;
    expect(listed.map((g: Json) => g.scope)).toEqual(['User.Read', 'Mail.Read']); // the victim's grant was deleted above
    expect((await http.get(`${base}/records/servicePrincipals`)).json.servicePrincipals.map((sp: Json) => sp.displayName)).toContain('Another App');
    expect((await http.get(`${base}/records/nonsense`)).status).toBe(404);
    const bobGrants = await graph.api('/users/bob@contoso.example/oauth2PermissionGrants').get();
    expect(bobGrants.value).toEqual([expect.objectContaining({ scope: 'Mail.Read', principalId: '0b7c1e2d-0004-4a00-8000-000000000004' })]);
    const bad = await http.post(`${base}/records`, { body: { oauth2PermissionGrants: [{ scope: 'x' }] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('oauth2PermissionGrants[0].clientId');
    // rules and methods are seeded on the user, as any user field
    const patched = await http.patch(`${base}/users/bob@contoso.example`, {
      body: { inboxRules: [{ id: 'AQAAAbob=', displayName: 'x', sequence: 1, isEnabled: true, actions: { delete: true } }] },
    });
    expect(patched.status).toBe(200);
    expect((await graph.api('/users/bob@contoso.example/mailFolders/inbox/messageRules').get()).value[0].id).toBe('AQAAAbob=');
  });

  it('refuses the Fabrikam app, which holds no BEC permission, with each back end’s 403', async () => {
    const fabrikam = await appToken(sim, 'https://graph.microsoft.com/.default', 1);
    const user = `gina@${DEMO.fabrikam.domain}`;
    const rules = await http.get(`${sim.baseUrls.graph}/v1.0/users/${user}/mailFolders/inbox/messageRules`, { token: fabrikam });
    expect([rules.status, rules.json.error.code]).toEqual([403, 'ErrorAccessDenied']);
    const methods = await http.get(`${sim.baseUrls.graph}/v1.0/users/${user}/authentication/methods`, { token: fabrikam });
    expect([methods.status, methods.json.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    // Directory.Read.All, which Cordon holds anyway, reads grants and apps; no write goes through.
    expect((await http.get(`${sim.baseUrls.graph}/v1.0/users/${user}/oauth2PermissionGrants`, { token: fabrikam })).status).toBe(200);
    const writes: Array<[string, string, object | undefined]> = [
      ['DELETE', '/oauth2PermissionGrants/someGrant', undefined],
      ['DELETE', `/users/${user}/appRoleAssignments/someAssignment`, undefined],
      ['DELETE', `/users/${user}/authentication/phoneMethods/${DEMO_BEC.phoneMethodId}`, undefined],
      ['PATCH', `/servicePrincipals(appId='${DEMO.fabrikam.clientId}')`, { accountEnabled: false }],
      ['POST', `/groups/${DEMO_GROUP_CONTAINMENT}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${victim}` }],
    ];
    for (const [method, path, body] of writes) {
      const res = await (method === 'DELETE' ? http.del : method === 'PATCH' ? http.patch : http.post)(`${sim.baseUrls.graph}/v1.0${path}`, {
        token: fabrikam,
        body,
      });
      expect([path, res.status, res.json.error.code]).toEqual([path, 403, 'Authorization_RequestDenied']);
    }
  });
});
