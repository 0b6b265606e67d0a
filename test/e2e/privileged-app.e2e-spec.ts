import type { RunningSimulator } from '../m365-simulator/src';
import { DEMO, DEMO_BEC } from '../m365-simulator/src/demo-scenario';
import type { SimApp } from '../m365-simulator/src/types';
import { registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

/** What lets an app grant itself more: the privileged app holds these, the main one must not. */
const ELEVATING = ['DelegatedPermissionGrant.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'Directory.ReadWrite.All'];
const PRIVILEGED = { clientId: '6a0f4c2e-91d3-4b7a-8e5c-2f1d0b9a8c7e', secret: 'privileged-app-secret~test' };
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

describe('a second app registration for the permissions that let an app grant itself more (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let responder: string;
  const simTenant = () => sim.context.tenants.get(DEMO.contoso.tenantId)!;
  const mainApp = () => simTenant().apps.find((a) => a.clientId === DEMO.contoso.clientId)!;
  const privilegedApp = () => simTenant().apps.find((a) => a.clientId === PRIVILEGED.clientId)!;
  const capability = async (name: string) => {
    const res = await t.http.post(`/v1/tenants/${contoso}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
    return res.body.capabilities.find((c: { capability: string }) => c.capability === name) as { status: string; detail: string | null };
  };
  const persistence = async () => {
    const res = await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(t.adminKey)).expect(200);
    return { body: res.body, module: res.body.modules.find((m: { name: string }) => m.name === 'persistence-removal') };
  };
  const putPrivileged = (body: Record<string, unknown>, key = t.adminKey) => t.http.put(`/v1/tenants/${contoso}/privileged-app`).set(bearer(key)).send(body);
  const final = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const res = await t.http.get(`/v1/actions/${id}`).set(bearer(t.adminKey));
      if (FINAL.includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`action ${id} did not finish`);
  };

  beforeAll(async () => {
    sim = await startDemoSimulator();
    // The customer's second app registration: only the permissions that let an app grant itself more.
    const second: SimApp = {
      clientId: PRIVILEGED.clientId,
      displayName: 'Cordon (privileged)',
      clientSecrets: [PRIVILEGED.secret],
      certificates: [],
      permissions: { graph: ELEVATING.slice(0, 3), manage: [], defender: [] },
      directoryRoles: [],
    };
    simTenant().apps.push(second);
    // ... and the main one without them.
    mainApp().permissions.graph = mainApp().permissions.graph.filter((p) => !ELEVATING.includes(p));
    t = await startTestApp(simEnv(sim));
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    responder = (await createKey(t, ['responder'])).key;
  });
  afterAll(async () => {
    // the registration is shared with other suites on one database: leave it as registerSimTenant made it
    if (contoso) await t.http.delete(`/v1/tenants/${contoso}/privileged-app`).set(bearer(t.adminKey));
    await t?.close();
    await sim?.stop();
  });

  it('without one, the main app lacks them and onboarding names them for the main app', async () => {
    expect(await capability('app-consents')).toMatchObject({ status: 'forbidden', detail: expect.stringContaining('DelegatedPermissionGrant.ReadWrite.All') });
    const { body, module } = await persistence();
    expect(body.privilegedApp).toBeNull();
    expect(module.status).toBe('missing-permissions');
    expect(module.missingPermissions).toEqual(expect.arrayContaining(['DelegatedPermissionGrant.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All']));
    expect(module.missingOnPrivilegedApp).toEqual([]);
  });

  it('refuses bad input and non-admins, and changes nothing', async () => {
    const secret = { type: 'secret', secret: PRIVILEGED.secret };
    expectProblem(await putPrivileged({ clientId: DEMO.contoso.clientId, credential: secret }), 400, 'validation-failed');
    expectProblem(await putPrivileged({ clientId: 'not-a-guid', credential: secret }), 400, 'validation-failed');
    expectProblem(await putPrivileged({ clientId: PRIVILEGED.clientId }), 400, 'validation-failed');
    expect((await putPrivileged({ clientId: PRIVILEGED.clientId, credential: secret }, responder)).status).toBe(403);
    expectProblem(await t.http.delete(`/v1/tenants/${contoso}/privileged-app`).set(bearer(t.adminKey)), 404, 'not-found');
    const tenant = await t.http.get(`/v1/tenants/${contoso}`).set(bearer(t.adminKey)).expect(200);
    expect(tenant.body.privilegedApp).toBeNull();
  });

  it('with one, its capabilities are probed with its token, and its own consent link is given', async () => {
    const since = new Date().toISOString();
    const res = await putPrivileged({ clientId: PRIVILEGED.clientId.toUpperCase(), credential: { type: 'secret', secret: PRIVILEGED.secret } });
    expect(res.status).toBe(200);
    expect(res.body.privilegedApp).toMatchObject({ clientId: PRIVILEGED.clientId, credential: { type: 'secret' } });
    expect(JSON.stringify(res.body)).not.toContain(PRIVILEGED.secret);
    const audit = await t.http.get(`/v1/audit-log?tenantId=${contoso}&event=tenant.privileged-app.set&since=${since}`).set(bearer(t.adminKey)).expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].data).toMatchObject({ clientId: PRIVILEGED.clientId, credential: { type: 'secret' } });
    expect(JSON.stringify(audit.body)).not.toContain(PRIVILEGED.secret);

    for (const name of ['app-consents', 'app-role-assignments', 'app-management']) expect(await capability(name)).toMatchObject({ status: 'available' });
    const { body, module } = await persistence();
    expect(module).toMatchObject({ status: 'ready', missingPermissions: [], missingOnPrivilegedApp: [] });
    expect(new URL(body.privilegedApp.adminConsentUrl).searchParams.get('client_id')).toBe(PRIVILEGED.clientId);
    expect(new URL(body.adminConsentUrl).searchParams.get('client_id')).toBe(DEMO.contoso.clientId);
    expect(body.warnings).toEqual([]);
  });

  it('warns while the main app still holds what the privileged one is for', async () => {
    mainApp().permissions.graph.push('AppRoleAssignment.ReadWrite.All');
    await capability('app-consents'); // a refresh: fresh tokens with the new roles
    const { body } = await persistence();
    expect(body.warnings).toEqual([expect.stringContaining('AppRoleAssignment.ReadWrite.All')]);
    mainApp().permissions.graph = mainApp().permissions.graph.filter((p) => p !== 'AppRoleAssignment.ReadWrite.All');
    await capability('app-consents');
    expect((await persistence()).body.warnings).toEqual([]);
  });

  it('removes a consent as the privileged app (the main one could not), and says so in the step', async () => {
    const res = await t.http
      .post(`/v1/tenants/${contoso}/users/${DEMO_BEC.userPrincipalName}/revoke-app-consents`)
      .set({ ...bearer(responder), Prefer: 'wait=30' })
      .send({ reason: 'INC-91: consent phishing', clientIds: [DEMO_BEC.maliciousAppId] });
    const done = await final(res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.steps[0].detail.madeAs).toEqual({ kind: 'privileged', clientId: PRIVILEGED.clientId });
    // Microsoft's side: the grant is gone
    expect(simTenant().oauth2PermissionGrants.filter((g) => g.principalId === DEMO_BEC.userId)).toEqual([]);
  });

  it('a permission revoked from the privileged app shows as missing on it, by name', async () => {
    privilegedApp().permissions.graph = privilegedApp().permissions.graph.filter((p) => p !== 'Application.ReadWrite.All');
    const management = await capability('app-management');
    expect(management.status).toBe('forbidden');
    expect(management.detail).toContain(`privileged app registration ${PRIVILEGED.clientId}`);
    const { module } = await persistence();
    expect(module).toMatchObject({ status: 'missing-permissions', missingPermissions: [], missingOnPrivilegedApp: ['Application.ReadWrite.All'] });
  });

  it('a privileged app that cannot sign in makes only its capabilities unreachable', async () => {
    await putPrivileged({ clientId: PRIVILEGED.clientId, credential: { type: 'secret', secret: 'wrong' } }).expect(200);
    expect(await capability('app-consents')).toMatchObject({ status: 'unreachable', detail: expect.stringContaining('got no token') });
    expect(await capability('mailbox-rules')).toMatchObject({ status: 'available' });
  });

  it('removed, its capabilities are the main app’s again', async () => {
    await t.http.delete(`/v1/tenants/${contoso}/privileged-app`).set(bearer(t.adminKey)).expect(204);
    expect(await capability('app-consents')).toMatchObject({ status: 'forbidden' });
    expect((await t.http.get(`/v1/tenants/${contoso}`).set(bearer(t.adminKey))).body.privilegedApp).toBeNull();
    expect((await persistence()).module.missingPermissions).toContain('DelegatedPermissionGrant.ReadWrite.All');
  });
});
