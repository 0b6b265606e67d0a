/** Group membership (microsoft-notes §9.4, M24) and password reset on the BEC victim (§9.5). */
import { graphHarness, type Json } from './graph-support/harness';
import { makeApp, tokenFor } from './graph-support/fake-context';
import { ADMIN_ID, becTenant, DYNAMIC_GROUP_ID, GROUP_ID, ROLE_GROUP_ID, VICTIM_ID } from './graph-support/bec-tenant';

const MEMBERS_RW = tokenFor(['GroupMember.ReadWrite.All']);
const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

function setup(tenant = becTenant()) {
  return { tenant, h: graphHarness([tenant]) };
}

describe('group members', () => {
  it('adds with 204, lists the member, and answers 400 when already a member', async () => {
    const { tenant, h } = setup();
    const res = await h.call('POST', `/v1.0/groups/${GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(VICTIM_ID) });
    expect(res.status).toBe(204);
    expect(tenant.users[0].memberOf).toEqual([GROUP_ID]);
    expect(tenant.directoryAudits.at(-1)).toMatchObject({ activityDisplayName: 'Add member to group', category: 'GroupManagement' });
    const list = await h.call('GET', `/v1.0/groups/${GROUP_ID}/members`, { token: tokenFor(['GroupMember.Read.All']) });
    expect(list.body.value).toEqual([
      expect.objectContaining({ '@odata.type': '#microsoft.graph.user', id: VICTIM_ID, userPrincipalName: 'victim@contoso.com' }),
    ]);
    const again = await h.call('POST', `/v1.0/groups/${GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(VICTIM_ID) });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({
      code: 'Request_BadRequest',
      message: "One or more added object references already exist for the following modified properties: 'members'.",
    });
  });

  it('answers 404 for an unknown group or object, 400 for a bad reference', async () => {
    const { h } = setup();
    const noGroup = await h.call('POST', `/v1.0/groups/${VICTIM_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(VICTIM_ID) });
    expect([noGroup.status, noGroup.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
    const noUser = await h.call('POST', `/v1.0/groups/${GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(GROUP_ID) });
    expect([noUser.status, noUser.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
    for (const body of [{}, { '@odata.id': 'victim@contoso.com' }, undefined]) {
      const bad = await h.call('POST', `/v1.0/groups/${GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'Request_BadRequest']);
    }
    expect((await h.call('GET', `/v1.0/groups/${VICTIM_ID}/members`, { token: MEMBERS_RW })).status).toBe(404);
  });

  it('removes through /$ref with 204; a non-member answers 404', async () => {
    const tenant = becTenant();
    tenant.users[0].memberOf.push(GROUP_ID);
    const { h } = setup(tenant);
    expect((await h.call('DELETE', `/v1.0/groups/${GROUP_ID}/members/${VICTIM_ID}/$ref`, { token: MEMBERS_RW })).status).toBe(204);
    expect(tenant.users[0].memberOf).toEqual([]);
    expect(tenant.directoryAudits.at(-1)!.activityDisplayName).toBe('Remove member from group');
    const again = await h.call('DELETE', `/v1.0/groups/${GROUP_ID}/members/${VICTIM_ID}/$ref`, { token: MEMBERS_RW });
    expect([again.status, again.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
  });

  it('without /$ref deletes the user object when the app may write users (microsoft-notes M24)', async () => {
    const tenant = becTenant();
    tenant.users[0].memberOf.push(GROUP_ID);
    const { h } = setup(tenant);
    const refused = await h.call('DELETE', `/v1.0/groups/${GROUP_ID}/members/${VICTIM_ID}`, { token: MEMBERS_RW });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect(tenant.users.some((u) => u.id === VICTIM_ID)).toBe(true);
    const gone = await h.call('DELETE', `/v1.0/groups/${GROUP_ID}/members/${VICTIM_ID}`, {
      token: tokenFor(['GroupMember.ReadWrite.All', 'User.ReadWrite.All']),
    });
    expect(gone.status).toBe(204);
    expect(tenant.users.some((u) => u.id === VICTIM_ID)).toBe(false);
  });

  it('needs a write permission; dynamic groups refuse; role-assignable groups need RoleManagement.ReadWrite.Directory', async () => {
    const { tenant, h } = setup();
    const denied = await h.call('POST', `/v1.0/groups/${GROUP_ID}/members/$ref`, {
      token: tokenFor(['GroupMember.Read.All', 'User.ReadWrite.All']),
      body: ref(VICTIM_ID),
    });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    const dynamic = await h.call('POST', `/v1.0/groups/${DYNAMIC_GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(VICTIM_ID) });
    expect([dynamic.status, dynamic.body.error.code]).toEqual([400, 'Request_BadRequest']);
    const roleGroup = await h.call('POST', `/v1.0/groups/${ROLE_GROUP_ID}/members/$ref`, { token: MEMBERS_RW, body: ref(VICTIM_ID) });
    expect([roleGroup.status, roleGroup.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect(tenant.users[0].memberOf).toEqual([]);
    const withRole = await h.call('POST', `/v1.0/groups/${ROLE_GROUP_ID}/members/$ref`, {
      token: tokenFor(['GroupMember.ReadWrite.All', 'RoleManagement.ReadWrite.Directory']),
      body: ref(VICTIM_ID),
    });
    expect(withRole.status).toBe(204);
  });
});

describe('password reset (PATCH passwordProfile)', () => {
  const RESET = tokenFor(['User-PasswordProfile.ReadWrite.All']);
  const profile = (password: string) => ({ passwordProfile: { password, forceChangePasswordNextSignIn: true } });

  it('sets the password (204) and keeps only when it was set, never the password', async () => {
    const { tenant, h } = setup();
    const res = await h.call('PATCH', `/v1.0/users/${VICTIM_ID}`, { token: RESET, body: profile('Tr0ub4dor&3-horse') });
    expect(res.status).toBe(204);
    const victim = tenant.users[0];
    expect(victim.lastPasswordChangeDateTime).toBe('2025-03-04T10:00:00.000Z');
    expect(victim.forceChangePasswordNextSignIn).toBe(true);
    expect(JSON.stringify(tenant)).not.toContain('Tr0ub4dor');
    const methods = await h.call('GET', `/v1.0/users/${VICTIM_ID}/authentication/passwordMethods`, { token: tokenFor(['UserAuthenticationMethod.Read.All']) });
    expect(methods.body.value[0]).toMatchObject({ password: null, createdDateTime: '2025-03-04T10:00:00.000Z' });
  });

  it("answers Microsoft's complexity error for a weak password", async () => {
    const { tenant, h } = setup();
    const res = await h.call('PATCH', `/v1.0/users/${VICTIM_ID}`, { token: RESET, body: profile('password') });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'Request_BadRequest',
      message: 'The specified password does not comply with password complexity requirements. Please provide a different password.',
    });
    expect(tenant.users[0].lastPasswordChangeDateTime).toBeUndefined();
  });

  it('refuses an admin target without an outranking directory role on the app (403 Authorization_RequestDenied)', async () => {
    const plain = setup();
    const res = await plain.h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token: RESET, body: profile('Tr0ub4dor&3-horse') });
    expect([res.status, res.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    const privileged = setup(becTenant());
    privileged.tenant.apps = [makeApp({ directoryRoles: ['Privileged Authentication Administrator'] })];
    expect((await privileged.h.call('PATCH', `/v1.0/users/${ADMIN_ID}`, { token: RESET, body: profile('Tr0ub4dor&3-horse') })).status).toBe(204);
    const withoutPermission = await plain.h.call('PATCH', `/v1.0/users/${VICTIM_ID}`, {
      token: tokenFor(['User.ReadWrite.All']),
      body: profile('Tr0ub4dor&3-horse'),
    });
    expect(withoutPermission.status).toBe(403);
  });
});

describe('group listing shape', () => {
  it('pages members with $top and nextLink', async () => {
    const tenant = becTenant();
    for (const u of tenant.users) u.memberOf.push(GROUP_ID);
    const { h } = setup(tenant);
    const { items, pages } = await h.pageAll(`/v1.0/groups/${GROUP_ID}/members?$top=2`, { token: MEMBERS_RW });
    expect(pages).toBe(2);
    expect(items.map((u: Json) => u.id).sort()).toEqual(tenant.users.map((u) => u.id).sort());
  });
});
