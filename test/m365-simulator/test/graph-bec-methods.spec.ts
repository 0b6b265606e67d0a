/** Authentication methods (microsoft-notes §9.3, M35). */
import { PASSWORD_METHOD_ID } from '../src/persistence';
import { graphHarness, type Json } from './graph-support/harness';
import { tokenFor } from './graph-support/fake-context';
import { ALT_MOBILE_ID, AUTHENTICATOR_ID, becTenant, MOBILE_ID, VICTIM_ID } from './graph-support/bec-tenant';

const READ = tokenFor(['UserAuthenticationMethod.Read.All']);
const WRITE = tokenFor(['UserAuthenticationMethod.ReadWrite.All']);
const BASE = `/v1.0/users/${VICTIM_ID}/authentication`;

function setup() {
  const tenant = becTenant();
  return { tenant, h: graphHarness([tenant]) };
}

describe('GET authentication/methods', () => {
  it('lists every method with its @odata.type, createdDateTime only where Graph has one, secrets null', async () => {
    const { h } = setup();
    const res = await h.call('GET', `${BASE}/methods`, { token: READ });
    expect(res.status).toBe(200);
    const byType = Object.fromEntries(res.body.value.map((m: Json) => [m['@odata.type'], m]));
    expect(Object.keys(byType).sort()).toEqual([
      '#microsoft.graph.emailAuthenticationMethod',
      '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
      '#microsoft.graph.passwordAuthenticationMethod',
      '#microsoft.graph.phoneAuthenticationMethod',
      '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
    ]);
    expect(byType['#microsoft.graph.passwordAuthenticationMethod']).toEqual({
      '@odata.type': '#microsoft.graph.passwordAuthenticationMethod',
      id: PASSWORD_METHOD_ID,
      password: null,
      createdDateTime: '2025-03-04T10:00:00.000Z',
    });
    expect(byType['#microsoft.graph.microsoftAuthenticatorAuthenticationMethod']).toMatchObject({
      id: AUTHENTICATOR_ID,
      displayName: 'iPhone',
      createdDateTime: '2024-11-24T10:00:00.000Z',
    });
    const phones = res.body.value.filter((m: Json) => m['@odata.type'] === '#microsoft.graph.phoneAuthenticationMethod');
    expect(phones.map((p: Json) => p.id).sort()).toEqual([MOBILE_ID, ALT_MOBILE_ID].sort());
    for (const p of phones) expect(p).not.toHaveProperty('createdDateTime');
    expect(byType['#microsoft.graph.emailAuthenticationMethod']).not.toHaveProperty('createdDateTime');
    expect(byType['#microsoft.graph.temporaryAccessPassAuthenticationMethod']).toMatchObject({
      temporaryAccessPass: null,
      createdDateTime: '2025-03-03T10:00:00.000Z',
    });
    expect(JSON.stringify(res.body)).not.toContain('leaked!');
  });

  it('serves the typed collections and single methods; unknown ids answer 404', async () => {
    const { h } = setup();
    const phones = await h.call('GET', `${BASE}/phoneMethods`, { token: tokenFor(['UserAuthMethod-Phone.Read.All']) });
    expect(phones.status).toBe(200);
    expect(phones.body['@odata.context']).toBe(`https://localhost:9443/v1.0/$metadata#users('${VICTIM_ID}')/authentication/phoneMethods`);
    expect(phones.body.value).toHaveLength(2);
    for (const segment of ['fido2Methods', 'softwareOathMethods', 'windowsHelloForBusinessMethods', 'platformCredentialMethods']) {
      const res = await h.call('GET', `${BASE}/${segment}`, { token: READ });
      expect([res.status, res.body.value]).toEqual([200, []]);
    }
    const one = await h.call('GET', `${BASE}/microsoftAuthenticatorMethods/${AUTHENTICATOR_ID}`, { token: READ });
    expect(one.body.id).toBe(AUTHENTICATOR_ID);
    // a method of another type is not found under this segment
    expect((await h.call('GET', `${BASE}/fido2Methods/${AUTHENTICATOR_ID}`, { token: READ })).status).toBe(404);
    expect((await h.call('GET', `${BASE}/methods/${PASSWORD_METHOD_ID}`, { token: READ })).body.id).toBe(PASSWORD_METHOD_ID);
  });

  it('needs a UserAuthenticationMethod permission (a per-method one reads only its type)', async () => {
    const { h } = setup();
    const denied = await h.call('GET', `${BASE}/methods`, { token: tokenFor(['User.ReadWrite.All', 'UserAuthMethod-Phone.Read.All']) });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect((await h.call('GET', `${BASE}/emailMethods`, { token: tokenFor(['UserAuthMethod-Phone.Read.All']) })).status).toBe(403);
    expect((await h.call('GET', '/v1.0/users/nobody@contoso.com/authentication/methods', { token: READ })).body.error.code).toBe('Request_ResourceNotFound');
  });
});

describe('DELETE authentication/{type}Methods/{id}', () => {
  it('deletes with 204, records "Admin deleted security info", and answers 404 the second time', async () => {
    const { tenant, h } = setup();
    const res = await h.call('DELETE', `${BASE}/emailMethods/${tenant.users[0].authMethods!.find((m) => m.type === 'email')!.id}`, { token: WRITE });
    expect(res.status).toBe(204);
    expect(tenant.users[0].authMethods!.some((m) => m.type === 'email')).toBe(false);
    expect(tenant.directoryAudits.at(-1)).toMatchObject({
      activityDisplayName: 'Admin deleted security info',
      loggedByService: 'Authentication Methods',
      additionalDetails: [{ key: 'Method', value: 'Email' }],
    });
    const tap = tenant.users[0].authMethods!.find((m) => m.type === 'temporaryAccessPass')!.id;
    expect((await h.call('DELETE', `${BASE}/temporaryAccessPassMethods/${tap}`, { token: WRITE })).status).toBe(204);
    const again = await h.call('DELETE', `${BASE}/temporaryAccessPassMethods/${tap}`, { token: WRITE });
    expect(again.status).toBe(404);
  });

  it('keeps the mobile phone while an alternateMobile exists, and the default method while others remain', async () => {
    const { tenant, h } = setup();
    const mobile = await h.call('DELETE', `${BASE}/phoneMethods/${MOBILE_ID}`, { token: WRITE });
    expect([mobile.status, mobile.body.error.code]).toEqual([400, 'badRequest']);
    const dflt = await h.call('DELETE', `${BASE}/microsoftAuthenticatorMethods/${AUTHENTICATOR_ID}`, { token: WRITE });
    expect(dflt.status).toBe(400);
    expect(dflt.body.error.message).toBe('Cannot delete default method with other methods configured. Please change default method before deletion.');
    // others first, the default last (microsoft-notes M30)
    const methods = tenant.users[0].authMethods!;
    for (const [segment, id] of [
      ['phoneMethods', ALT_MOBILE_ID],
      ['phoneMethods', MOBILE_ID],
      ['emailMethods', methods.find((m) => m.type === 'email')!.id],
      ['temporaryAccessPassMethods', methods.find((m) => m.type === 'temporaryAccessPass')!.id],
    ]) {
      expect((await h.call('DELETE', `${BASE}/${segment}/${id}`, { token: WRITE })).status).toBe(204);
    }
    expect((await h.call('DELETE', `${BASE}/microsoftAuthenticatorMethods/${AUTHENTICATOR_ID}`, { token: WRITE })).status).toBe(204);
    expect(tenant.users[0].defaultAuthMethodId).toBeUndefined();
    const left = await h.call('GET', `${BASE}/methods`, { token: READ });
    expect(left.body.value.map((m: Json) => m.id)).toEqual([PASSWORD_METHOD_ID]);
  });

  it('has no DELETE route for the password method and needs a write permission', async () => {
    const { tenant, h } = setup();
    const denied = await h.call('DELETE', `${BASE}/phoneMethods/${ALT_MOBILE_ID}`, { token: READ });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
    expect((await h.call('DELETE', `${BASE}/phoneMethods/${ALT_MOBILE_ID}`, { token: tokenFor(['UserAuthMethod-Phone.ReadWrite.All']) })).status).toBe(204);
    // a per-method permission covers only its own type
    expect(
      (
        await h.call('DELETE', `${BASE}/emailMethods/${tenant.users[0].authMethods!.find((m) => m.type === 'email')!.id}`, {
          token: tokenFor(['UserAuthMethod-Phone.ReadWrite.All']),
        })
      ).status,
    ).toBe(403);
    // the harness answers 404 NoRoute where the server answers 405: no DELETE route exists
    expect((await h.call('DELETE', `${BASE}/passwordMethods/${PASSWORD_METHOD_ID}`, { token: WRITE })).body.error.code).toBe('NoRoute');
    expect(tenant.users[0].authMethods!.some((m) => m.type === 'password')).toBe(true);
  });
});
