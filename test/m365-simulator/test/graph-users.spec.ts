import { graphHarness, type Json } from './graph-support/harness';
import { ADMIN_ID, ALICE_ID, APP_ID, HELPDESK_ID, makeApp, makeTenant, tokenFor } from './graph-support/fake-context';

const READ = tokenFor(['User.Read.All']);

function setup(appRoles: string[] = [], scenario = {}) {
  const tenant = makeTenant({ apps: [makeApp({ directoryRoles: appRoles })] });
  return { tenant, h: graphHarness([tenant], scenario) };
}

describe('GET /v1.0/users/{id|upn}', () => {
  it('finds a user by id or UPN (case-insensitive) with the default property set', async () => {
    const { h } = setup();
    const byUpn = await h.call('GET', '/v1.0/users/ALICE@contoso.com', { token: READ });
    expect(byUpn.status).toBe(200);
    expect(byUpn.body['@odata.context']).toBe('https://localhost:9443/v1.0/$metadata#users/$entity');
    expect(byUpn.body.id).toBe(ALICE_ID);
    // accountEnabled is not in Graph's default property set.
    expect(byUpn.body).not.toHaveProperty('accountEnabled');
    const byId = await h.call('GET', `/v1.0/users/${ALICE_ID}`, { token: READ });
    expect(byId.body.userPrincipalName).toBe('alice@contoso.com');
  });

  it('honours $select and rejects unknown properties', async () => {
    const { h } = setup();
    const res = await h.call('GET', '/v1.0/users/alice@contoso.com?$select=id,accountEnabled,signInSessionsValidFromDateTime', { token: READ });
    expect(res.body).toEqual({
      '@odata.context': 'https://localhost:9443/v1.0/$metadata#users(id,accountEnabled,signInSessionsValidFromDateTime)/$entity',
      id: ALICE_ID,
      accountEnabled: true,
      signInSessionsValidFromDateTime: '2025-01-01T00:00:00Z',
    });
    const bad = await h.call('GET', '/v1.0/users/alice@contoso.com?$select=shoeSize', { token: READ });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('Request_BadRequest');
  });

  it('answers 404 Request_ResourceNotFound with the Graph error body', async () => {
    const { h } = setup();
    const res = await h.call('GET', '/v1.0/users/bob@contoso.com', {
      token: READ,
      headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000000' },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('Request_ResourceNotFound');
    expect(res.body.error.message).toContain("'bob@contoso.com'");
    expect(res.body.error.innerError).toEqual({
      date: '2025-03-04T10:00:00',
      'request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'client-request-id': 'c0ffee00-0000-4000-8000-000000000000',
    });
  });

  it('needs a read permission', async () => {
    const { h } = setup();
    const res = await h.call('GET', '/v1.0/users/alice@contoso.com', { token: tokenFor(['AuditLog.Read.All']) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Authorization_RequestDenied');
    expect((await h.call('GET', '/v1.0/users/alice@contoso.com')).status).toBe(401);
  });
});

describe('PATCH /v1.0/users/{id} accountEnabled', () => {
  it.each([
    [['User.EnableDisableAccount.All', 'User.Read.All'], 204],
    [['User.ReadWrite.All'], 204],
    [['Directory.ReadWrite.All'], 204],
    [['User.EnableDisableAccount.All'], 403], // needs User.Read.All alongside (microsoft-notes §4.1)
    [['User.Read.All'], 403],
    [['User-PasswordProfile.ReadWrite.All'], 403],
  ])('with %j ⇒ %d', async (roles, status) => {
    const { tenant, h } = setup();
    const res = await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token: tokenFor(roles), body: { accountEnabled: false } });
    expect(res.status).toBe(status);
    expect(tenant.users[0].accountEnabled).toBe(status !== 204);
    if (status === 204) expect(res.body).toBeUndefined();
    else expect(res.body.error.code).toBe('Authorization_RequestDenied');
  });

  it('records "Update user" and "Disable account" in directoryAudits, initiated by the app', async () => {
    const { tenant, h } = setup();
    await h.call('PATCH', `/v1.0/users/${ALICE_ID}`, { token: tokenFor(['User.ReadWrite.All']), body: { accountEnabled: false } });
    const audits = await h.call('GET', '/v1.0/auditLogs/directoryAudits', { token: tokenFor(['AuditLog.Read.All']) });
    const names = audits.body.value.map((a: Json) => a.activityDisplayName).sort();
    expect(names).toEqual(['Disable account', 'Update user']);
    const update = audits.body.value.find((a: Json) => a.activityDisplayName === 'Update user');
    expect(update).toMatchObject({
      category: 'UserManagement',
      loggedByService: 'Core Directory',
      operationType: 'Update',
      result: 'success',
      activityDateTime: '2025-03-04T10:00:00.000Z',
      initiatedBy: { user: null, app: { appId: APP_ID, displayName: 'Cordon', servicePrincipalId: expect.any(String) } },
      targetResources: [
        {
          id: ALICE_ID,
          type: 'User',
          userPrincipalName: 'alice@contoso.com',
          modifiedProperties: [
            { displayName: 'AccountEnabled', oldValue: '[true]', newValue: '[false]' },
            { displayName: 'Included Updated Properties', oldValue: null, newValue: '"AccountEnabled"' },
          ],
        },
      ],
    });
    expect(tenant.directoryAudits).toHaveLength(2);
  });

  it('refuses to disable an admin unless the app holds a higher directory role (microsoft-notes M13)', async () => {
    const token = tokenFor(['User.ReadWrite.All']);
    const denied = setup();
    const res = await denied.h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token, body: { accountEnabled: false } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    expect(denied.tenant.users[1].accountEnabled).toBe(true);
    expect(denied.tenant.directoryAudits).toHaveLength(0);

    const userAdmin = setup(['User Administrator']);
    expect((await userAdmin.h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token, body: { accountEnabled: false } })).status).toBe(403);
    // A User Administrator may manage a limited admin such as a Helpdesk Administrator.
    expect((await userAdmin.h.call('PATCH', `/v1.0/users/${HELPDESK_ID}`, { token, body: { accountEnabled: false } })).status).toBe(204);

    const pam = setup(['Privileged Authentication Administrator']);
    expect((await pam.h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token, body: { accountEnabled: false } })).status).toBe(204);
    expect(pam.tenant.users[1].accountEnabled).toBe(false);
  });

  it('validates the body and 404s unknown users', async () => {
    const { h } = setup();
    const token = tokenFor(['User.ReadWrite.All']);
    expect((await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token, body: { accountEnabled: 'no' } })).status).toBe(400);
    expect((await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token, body: { shoeSize: 9 } })).body.error.code).toBe('Request_BadRequest');
    const missing = await h.call('PATCH', '/v1.0/users/nobody@contoso.com', { token, body: { accountEnabled: false } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
  });
});

describe('PATCH /v1.0/users/{id} passwordProfile', () => {
  const body = { passwordProfile: { password: 'xY7!correct-horse', forceChangePasswordNextSignIn: true } };

  it('needs User-PasswordProfile.ReadWrite.All; User.ReadWrite.All is not enough (microsoft-notes M14)', async () => {
    const { tenant, h } = setup();
    const denied = await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token: tokenFor(['User.ReadWrite.All']), body });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('Authorization_RequestDenied');
    const ok = await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token: tokenFor(['User-PasswordProfile.ReadWrite.All']), body });
    expect(ok.status).toBe(204);
    expect(tenant.users[0]).toMatchObject({ lastPasswordChangeDateTime: '2025-03-04T10:00:00.000Z', forceChangePasswordNextSignIn: true });
    expect(tenant.directoryAudits.map((a) => a.activityDisplayName)).toEqual(['Reset user password', 'Set force change user password']);
  });

  it('also accepts User.ReadWrite.All when the app holds a password-reset directory role (older doc)', async () => {
    const { h } = setup(['User Administrator']);
    const res = await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token: tokenFor(['User.ReadWrite.All']), body });
    expect(res.status).toBe(204);
    // A User Administrator still may not reset a Global Administrator's password (microsoft-notes M13).
    expect((await h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token: tokenFor(['User.ReadWrite.All']), body })).status).toBe(403);
  });

  it('refuses weak passwords and privileged targets', async () => {
    const { h } = setup();
    const token = tokenFor(['User-PasswordProfile.ReadWrite.All']);
    const weak = await h.call('PATCH', '/v1.0/users/alice@contoso.com', { token, body: { passwordProfile: { password: 'short' } } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toMatch(/complexity/);
    const admin = await h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token, body });
    expect(admin.status).toBe(403);
  });
});

describe('POST /v1.0/users/{id}/revokeSignInSessions', () => {
  it('answers 200 {value:true}, moves signInSessionsValidFromDateTime to now, and audits it', async () => {
    const { tenant, h } = setup();
    h.ctx.clock.advance(90_500);
    const res = await h.call('POST', '/v1.0/users/alice@contoso.com/revokeSignInSessions', { token: tokenFor(['User.RevokeSessions.All']) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ '@odata.context': 'https://localhost:9443/v1.0/$metadata#Edm.Boolean', value: true });
    expect(tenant.users[0].signInSessionsValidFromDateTime).toBe('2025-03-04T10:01:30Z');
    expect(tenant.directoryAudits[0]).toMatchObject({
      activityDisplayName: 'Update StsRefreshTokenValidFrom Timestamp',
      targetResources: [
        {
          id: ALICE_ID,
          modifiedProperties: [{ displayName: 'StsRefreshTokensValidFrom', oldValue: '["2025-01-01T00:00:00Z"]', newValue: '["2025-03-04T10:01:30Z"]' }],
        },
      ],
    });
  });

  it('can answer 204 when the scenario says so', async () => {
    const { h } = setup([], { graph: { revokeSignInSessionsStatus: 204 } });
    const res = await h.call('POST', `/v1.0/users/${ALICE_ID}/revokeSignInSessions`, { token: tokenFor(['User.ReadWrite.All']) });
    expect(res.status).toBe(204);
  });

  it.each([
    [['User.RevokeSessions.All'], 200],
    [['User.ReadWrite.All'], 200],
    [['Directory.ReadWrite.All'], 200],
    [['User.Read.All'], 403],
    [['User.EnableDisableAccount.All', 'User.Read.All'], 403],
  ])('with %j ⇒ %d', async (roles, status) => {
    const { h } = setup();
    const res = await h.call('POST', `/v1.0/users/${ALICE_ID}/revokeSignInSessions`, { token: tokenFor(roles) });
    expect(res.status).toBe(status);
  });

  it('404s unknown users', async () => {
    const { h } = setup();
    const res = await h.call('POST', '/v1.0/users/ghost@contoso.com/revokeSignInSessions', { token: tokenFor(['User.RevokeSessions.All']) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('Request_ResourceNotFound');
  });
});

describe('GET /v1.0/users/{id}/memberOf', () => {
  it('lists groups and directory roles, so a client can spot a privileged target', async () => {
    const tenant = makeTenant({ groups: [{ id: 'g-1', displayName: 'Finance' }] });
    tenant.users[1].memberOf = ['g-1'];
    const h = graphHarness([tenant]);
    const res = await h.call('GET', `/v1.0/users/${ADMIN_ID}/memberOf`, { token: READ });
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([
      { '@odata.type': '#microsoft.graph.group', id: 'g-1', displayName: 'Finance' },
      {
        '@odata.type': '#microsoft.graph.directoryRole',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        displayName: 'Global Administrator',
        roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
      },
    ]);
    expect((await h.call('GET', '/v1.0/users/alice@contoso.com/memberOf', { token: READ })).body.value).toEqual([]);
    expect((await h.call('GET', '/v1.0/users/ghost@contoso.com/memberOf', { token: READ })).status).toBe(404);
  });
});

describe('GET /v1.0/users', () => {
  it('filters, selects and pages', async () => {
    const { h } = setup();
    const res = await h.call('GET', "/v1.0/users?$filter=startswith(userPrincipalName,'ALICE') or accountEnabled eq false", { token: READ });
    expect(res.status).toBe(200);
    expect(res.body.value.map((u: Json) => u.id)).toEqual([ALICE_ID]);
    expect(res.body.value[0]).not.toHaveProperty('accountEnabled');
    const selected = await h.call('GET', '/v1.0/users?$select=userPrincipalName,accountEnabled&$top=2', { token: READ });
    expect(selected.body.value).toEqual([
      { userPrincipalName: 'alice@contoso.com', accountEnabled: true },
      { userPrincipalName: 'gadmin@contoso.com', accountEnabled: true },
    ]);
    const rest = await h.call('GET', selected.body['@odata.nextLink'], { token: READ });
    expect(rest.body.value).toEqual([{ userPrincipalName: 'helpdesk@contoso.com', accountEnabled: true }]);
    expect((await h.call('GET', '/v1.0/users?$top=1000', { token: READ })).body.error.code).toBe('Request_BadRequest');
    expect((await h.call('GET', "/v1.0/users?$filter=jobTitle eq 'x'", { token: READ })).body.error.code).toBe('Request_UnsupportedQuery');
  });
});
