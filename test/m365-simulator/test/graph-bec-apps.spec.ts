/** Consent grants, app role assignments and service principals (microsoft-notes §9.2). */
import { guidFrom } from '../src/ids';
import { MICROSOFT_GRAPH_APP_ID } from '../src/persistence';
import { graphHarness, type Json } from './graph-support/harness';
import { APP_ID, TENANT_ID, tokenFor } from './graph-support/fake-context';
import { becTenant, EVIL_APP_ID, TRUSTED_APP_ID, VICTIM_ID } from './graph-support/bec-tenant';

const GRANTS_RW = tokenFor(['DelegatedPermissionGrant.ReadWrite.All']);
const ASSIGN_RW = tokenFor(['AppRoleAssignment.ReadWrite.All']);
const APPS_RW = tokenFor(['Application.ReadWrite.All']);
const spId = (appId: string) => guidFrom('sp', TENANT_ID, appId);

function setup() {
  const tenant = becTenant();
  return { tenant, h: graphHarness([tenant]) };
}

describe('oauth2PermissionGrants', () => {
  it("lists only the user's own Principal grants, with object ids resolved", async () => {
    const { h } = setup();
    const res = await h.call('GET', '/v1.0/users/victim@contoso.com/oauth2PermissionGrants', { token: tokenFor(['Directory.Read.All']) });
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe('https://localhost:9443/v1.0/$metadata#oauth2PermissionGrants');
    expect(res.body.value).toEqual([
      {
        clientId: spId(EVIL_APP_ID),
        consentType: 'Principal',
        id: expect.stringMatching(/^[A-Za-z0-9_-]{64}$/),
        principalId: VICTIM_ID,
        resourceId: spId(MICROSOFT_GRAPH_APP_ID),
        scope: 'Mail.ReadWrite offline_access',
      },
    ]);
  });

  it('lists every grant tenant-wide with $filter on clientId; gets one by id', async () => {
    const { h } = setup();
    const all = await h.call('GET', '/v1.0/oauth2PermissionGrants', { token: GRANTS_RW });
    expect(all.body.value.map((g: Json) => g.consentType).sort()).toEqual(['AllPrincipals', 'Principal']);
    const filtered = await h.call('GET', `/v1.0/oauth2PermissionGrants?$filter=clientId eq '${spId(TRUSTED_APP_ID)}'`, { token: GRANTS_RW });
    expect(filtered.body.value).toHaveLength(1);
    expect(filtered.body.value[0]).toMatchObject({ consentType: 'AllPrincipals', principalId: null });
    const one = await h.call('GET', `/v1.0/oauth2PermissionGrants/${filtered.body.value[0].id}`, { token: GRANTS_RW });
    expect(one.status).toBe(200);
    expect(one.body.scope).toBe('User.Read');
  });

  it('deletes a grant with 204, records it, and answers 404 Request_ResourceNotFound the second time', async () => {
    const { tenant, h } = setup();
    const [grant] = (await h.call('GET', `/v1.0/users/${VICTIM_ID}/oauth2PermissionGrants`, { token: GRANTS_RW })).body.value;
    const res = await h.call('DELETE', `/v1.0/oauth2PermissionGrants/${grant.id}`, { token: GRANTS_RW });
    expect(res.status).toBe(204);
    expect(tenant.oauth2PermissionGrants.map((g) => g.consentType)).toEqual(['AllPrincipals']);
    expect(tenant.directoryAudits.at(-1)).toMatchObject({ activityDisplayName: 'Remove delegated permission grant', category: 'ApplicationManagement' });
    const again = await h.call('DELETE', `/v1.0/oauth2PermissionGrants/${grant.id}`, { token: GRANTS_RW });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('Request_ResourceNotFound');
    expect(again.body.error.message).toContain(`'${grant.id}'`);
  });

  it('needs DelegatedPermissionGrant.ReadWrite.All (or Directory.ReadWrite.All) to delete', async () => {
    const { tenant, h } = setup();
    const id = tenant.oauth2PermissionGrants[0].id;
    for (const roles of [['Directory.Read.All'], ['DelegatedPermissionGrant.Read.All'], ['Application.ReadWrite.All']]) {
      const res = await h.call('DELETE', `/v1.0/oauth2PermissionGrants/${id}`, { token: tokenFor(roles) });
      expect([res.status, res.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    }
    expect((await h.call('GET', `/v1.0/users/${VICTIM_ID}/oauth2PermissionGrants`, { token: tokenFor(['User.Read.All']) })).status).toBe(403);
    expect((await h.call('DELETE', `/v1.0/oauth2PermissionGrants/${id}`, { token: tokenFor(['Directory.ReadWrite.All']) })).status).toBe(204);
  });

  it('answers 404 for an unknown user', async () => {
    const { h } = setup();
    const res = await h.call('GET', '/v1.0/users/nobody@contoso.com/oauth2PermissionGrants', { token: GRANTS_RW });
    expect([res.status, res.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
  });
});

describe('appRoleAssignments', () => {
  it("lists the user's assignments with createdDateTime and the resource's name", async () => {
    const { h } = setup();
    const res = await h.call('GET', `/v1.0/users/${VICTIM_ID}/appRoleAssignments`, { token: tokenFor(['User.Read.All']) });
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([
      {
        id: expect.any(String),
        deletedDateTime: null,
        appRoleId: '00000000-0000-0000-0000-000000000000',
        createdDateTime: '2025-02-22T10:00:00.000Z',
        principalDisplayName: 'Victim',
        principalId: VICTIM_ID,
        principalType: 'User',
        resourceDisplayName: 'Docs',
        resourceId: spId(TRUSTED_APP_ID),
      },
    ]);
  });

  it('deletes through the user (204) or through the resource service principal, never the client', async () => {
    const { tenant, h } = setup();
    const id = tenant.appRoleAssignments[0].id;
    const wrongSp = await h.call('DELETE', `/v1.0/servicePrincipals/${spId(EVIL_APP_ID)}/appRoleAssignedTo/${id}`, { token: ASSIGN_RW });
    expect([wrongSp.status, wrongSp.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
    const listed = await h.call('GET', `/v1.0/servicePrincipals(appId='${TRUSTED_APP_ID}')/appRoleAssignedTo`, { token: tokenFor(['Application.Read.All']) });
    expect(listed.body.value.map((a: Json) => a.id)).toEqual([id]);
    const byResource = await h.call('DELETE', `/v1.0/servicePrincipals/${spId(TRUSTED_APP_ID)}/appRoleAssignedTo/${id}`, { token: ASSIGN_RW });
    expect(byResource.status).toBe(204);
    expect(tenant.appRoleAssignments).toEqual([]);
    expect((await h.call('DELETE', `/v1.0/users/${VICTIM_ID}/appRoleAssignments/${id}`, { token: ASSIGN_RW })).status).toBe(404);
  });

  it('DELETE /users/{id}/appRoleAssignments/{id} needs AppRoleAssignment.ReadWrite.All', async () => {
    const { tenant, h } = setup();
    const id = tenant.appRoleAssignments[0].id;
    const denied = await h.call('DELETE', `/v1.0/users/${VICTIM_ID}/appRoleAssignments/${id}`, {
      token: tokenFor(['Directory.ReadWrite.All', 'Application.ReadWrite.All']),
    });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect((await h.call('DELETE', `/v1.0/users/${VICTIM_ID}/appRoleAssignments/${id}`, { token: ASSIGN_RW })).status).toBe(204);
    expect(tenant.directoryAudits.at(-1)!.activityDisplayName).toBe('Remove app role assignment from user');
  });
});

describe('servicePrincipals', () => {
  it('serves publisher facts; an unverified publisher is an object of nulls', async () => {
    const { h } = setup();
    const evil = await h.call('GET', `/v1.0/servicePrincipals(appId='${EVIL_APP_ID}')`, { token: tokenFor(['Application.Read.All']) });
    expect(evil.status).toBe(200);
    expect(evil.body).toMatchObject({
      '@odata.context': 'https://localhost:9443/v1.0/$metadata#servicePrincipals/$entity',
      id: spId(EVIL_APP_ID),
      appId: EVIL_APP_ID,
      displayName: 'Mail Helper',
      publisherName: 'Mail Helper',
      accountEnabled: true,
      verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    });
    const trusted = await h.call('GET', `/v1.0/servicePrincipals/${spId(TRUSTED_APP_ID)}`, { token: tokenFor(['Directory.Read.All']) });
    expect(trusted.body.verifiedPublisher).toEqual({ displayName: 'Fabrikam', verifiedPublisherId: '123', addedDateTime: '2022-09-16T10:00:00.000Z' });
    const graph = await h.call('GET', `/v1.0/servicePrincipals(appId='${MICROSOFT_GRAPH_APP_ID}')`, { token: tokenFor(['Application.Read.All']) });
    expect(graph.body.displayName).toBe('Microsoft Graph');
    const missing = await h.call('GET', `/v1.0/servicePrincipals(appId='${VICTIM_ID}')`, { token: tokenFor(['Application.Read.All']) });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
    expect((await h.call('GET', `/v1.0/servicePrincipals/${spId(EVIL_APP_ID)}`, { token: tokenFor(['User.Read.All']) })).status).toBe(403);
    const other = await h.call('GET', '/v1.0/somethingElse', { token: tokenFor(['Application.Read.All']) });
    expect([other.status, other.body.error.code]).toEqual([404, 'itemNotFound']);
  });

  it('disables and re-enables with 204 by object id or appId; validates the body', async () => {
    const { tenant, h } = setup();
    const sp = () => tenant.servicePrincipals.find((s) => s.appId === EVIL_APP_ID)!;
    expect((await h.call('PATCH', `/v1.0/servicePrincipals(appId='${EVIL_APP_ID}')`, { token: APPS_RW, body: { accountEnabled: false } })).status).toBe(204);
    expect(sp().accountEnabled).toBe(false);
    expect((await h.call('PATCH', `/v1.0/servicePrincipals(appId='${EVIL_APP_ID}')`, { token: APPS_RW, body: { accountEnabled: false } })).status).toBe(204);
    expect((await h.call('PATCH', `/v1.0/servicePrincipals/${sp().id}`, { token: APPS_RW, body: { accountEnabled: true } })).status).toBe(204);
    expect(sp().accountEnabled).toBe(true);
    for (const body of [{ accountEnabled: 'no' }, { appId: VICTIM_ID }, 'x']) {
      const bad = await h.call('PATCH', `/v1.0/servicePrincipals/${sp().id}`, { token: APPS_RW, body });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'Request_BadRequest']);
    }
  });

  it('Application.ReadWrite.OwnedBy reaches only the caller’s own app; reading permissions cannot write', async () => {
    const { tenant, h } = setup();
    const owned = tokenFor(['Application.ReadWrite.OwnedBy']);
    const foreign = await h.call('PATCH', `/v1.0/servicePrincipals(appId='${EVIL_APP_ID}')`, { token: owned, body: { accountEnabled: false } });
    expect([foreign.status, foreign.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect((await h.call('PATCH', `/v1.0/servicePrincipals(appId='${APP_ID}')`, { token: owned, body: { displayName: 'Cordon 2' } })).status).toBe(204);
    expect(
      (await h.call('PATCH', `/v1.0/servicePrincipals(appId='${EVIL_APP_ID}')`, { token: tokenFor(['Application.Read.All']), body: { accountEnabled: false } }))
        .status,
    ).toBe(403);
    expect(tenant.servicePrincipals.find((s) => s.appId === EVIL_APP_ID)!.accountEnabled).toBe(true);
  });
});
