import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { RunningSimulator } from '../m365-simulator/src';
import { DEMO } from '../m365-simulator/src/demo-scenario';
import { CapabilityProbe } from '../../src/tenants/capability-probe';
import { TenantsService } from '../../src/tenants/tenants.service';
import { registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const GRAPH = '00000003-0000-0000-c000-000000000000';

describe('onboarding: the permission manifest', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('answers admins with every module, by name and app-role id', async () => {
    const res = await t.http.get('/v1/onboarding/manifest').set(bearer(t.adminKey));
    expect(res.status).toBe(200);
    expect(res.body.modules.map((m: { name: string }) => m.name)).toEqual(
      expect.arrayContaining(['audit-ingestion', 'entra-logs', 'user-actions', 'persistence-removal', 'defender-endpoint', 'hunting']),
    );
    const graph = res.body.requiredResourceAccess.find((r: { resourceAppId: string }) => r.resourceAppId === GRAPH);
    expect(graph.resourceAccess.length).toBeGreaterThan(10);
    const users = res.body.modules.find((m: { name: string }) => m.name === 'user-actions');
    expect(users.permissions.map((p: { name: string }) => p.name).sort()).toEqual([
      'User.EnableDisableAccount.All',
      'User.Read.All',
      'User.RevokeSessions.All',
    ]);
  });

  it('filters modules, writes the Azure CLI script, refuses unknown modules and non-admins', async () => {
    const one = await t.http.get('/v1/onboarding/manifest?modules=hunting&format=required-resource-access').set(bearer(t.adminKey));
    expect(one.status).toBe(200);
    expect(one.body).toEqual([{ resourceAppId: GRAPH, resourceAccess: [{ id: expect.any(String), type: 'Role' }] }]);
    const script = await t.http.get('/v1/onboarding/manifest?modules=user-actions&format=azure-cli').set(bearer(t.adminKey));
    expect(script.headers['content-type']).toMatch(/text\/x-shellscript/);
    expect(script.text).toContain('az ad app permission add');
    expectProblem(await t.http.get('/v1/onboarding/manifest?modules=nope').set(bearer(t.adminKey)), 400, 'validation-failed');
    const responder = (await createKey(t, ['responder'])).key;
    expect((await t.http.get('/v1/onboarding/manifest').set(bearer(responder))).status).toBe(403);
  });

  it('prints the same from the CLI, without a database', () => {
    const out = execFileSync(
      process.execPath,
      [join(__dirname, '../../dist/src/cli.js'), 'manifest', '--modules', 'hunting', '--format', 'required-resource-access'],
      {
        env: { ...process.env, DATABASE_URL: '' },
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(out)).toEqual([{ resourceAppId: GRAPH, resourceAccess: [{ id: expect.any(String), type: 'Role' }] }]);
  });
});

describe('onboarding a tenant: the admin-consent link and its callback (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  let fabrikam: string;
  beforeAll(async () => {
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_PUBLIC_URL: 'https://cordon.example.test/' });
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    fabrikam = await registerSimTenant(t, sim, 'Fabrikam Basic');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  /** Follows the consent link at the simulator's login host like a browser would, up to its redirect. */
  const visit = (url: string) =>
    new Promise<URL>((resolve, reject) => {
      https
        .get(url, { ca: readFileSync(sim.caCertPath) }, (res) => {
          res.resume();
          if (res.statusCode !== 302 || !res.headers.location) reject(new Error(`consent answered ${res.statusCode}`));
          else resolve(new URL(res.headers.location));
        })
        .on('error', reject);
    });

  it("links to the tenant cloud's admin consent, records the grant and probes at once", async () => {
    const res = await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(t.adminKey));
    expect(res.status).toBe(200);
    expect(res.body.redirectUri).toBe('https://cordon.example.test/v1/onboarding/consent-callback');
    const link = new URL(res.body.adminConsentUrl);
    expect(link.origin).toBe(sim.baseUrls.login);
    expect(link.pathname).toBe(`/${DEMO.contoso.tenantId}/v2.0/adminconsent`);
    expect(link.searchParams.get('client_id')).toBe(DEMO.contoso.clientId);
    expect(res.body.modules.find((m: { name: string }) => m.name === 'user-actions').status).toBe('ready');

    const back = await visit(res.body.adminConsentUrl);
    expect(back.origin + back.pathname).toBe(res.body.redirectUri);
    const done = await t.http.get(`${back.pathname}${back.search}`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ tenantId: contoso, outcome: 'granted' });
    const audit = await t.http.get(`/v1/audit-log?tenantId=${contoso}&event=tenant.consent`).set(bearer(t.adminKey));
    expect(JSON.stringify(audit.body)).toContain('"outcome":"granted"');
  });

  it('reads the error before admin_consent=True: a declined consent is recorded as declined', async () => {
    sim.context.tenants.get(DEMO.fabrikam.tenantId)!.apps[0].consentOutcome = 'decline';
    const res = await t.http.get(`/v1/tenants/${fabrikam}/onboarding`).set(bearer(t.adminKey));
    const persistence = res.body.modules.find((m: { name: string }) => m.name === 'persistence-removal');
    expect(persistence.status).toBe('missing-permissions');
    expect(persistence.missingPermissions).toContain('MailboxSettings.ReadWrite');
    const back = await visit(res.body.adminConsentUrl);
    expect(back.searchParams.get('admin_consent')).toBe('True');
    const done = await t.http.get(`${back.pathname}${back.search}`);
    expect(done.body).toMatchObject({ tenantId: fabrikam, outcome: 'declined', error: 'access_denied' });
  });

  it('refuses a state Cordon did not make, or one altered, with 400', async () => {
    const res = await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(t.adminKey));
    const state = new URL(res.body.adminConsentUrl).searchParams.get('state')!;
    const [payload, mac] = state.split('.');
    const forged = Buffer.from(JSON.stringify({ t: fabrikam, e: Date.now() + 3600_000, n: 'x' })).toString('base64url');
    expectProblem(await t.http.get('/v1/onboarding/consent-callback?admin_consent=True&state='), 400, 'validation-failed');
    for (const bad of ['nonsense', `${forged}.${mac}`, `${payload}.${'0'.repeat(mac.length)}`]) {
      expectProblem(await t.http.get(`/v1/onboarding/consent-callback?admin_consent=True&state=${encodeURIComponent(bad)}`), 400, 'consent-state-invalid');
    }
    const responder = (await createKey(t, ['responder'])).key;
    expect((await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(responder))).status).toBe(403);
  });
});

describe('onboarding walk: from no permission, through admin consent, to every module ready (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let contoso: string;
  const app = () => sim.context.tenants.get(DEMO.contoso.tenantId)!.apps[0];
  beforeAll(async () => {
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_PUBLIC_URL: 'https://cordon.example.test' });
    app().permissions = { graph: [], manage: [], defender: [] };
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('walks the tenant to ready, and a revoked permission shows as missing with its name', async () => {
    const before = await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(t.adminKey));
    expect(before.body.modules.every((m: { status: string }) => m.status === 'missing-permissions')).toBe(true);
    // The app registration asks for what the manifest lists (names per resource, as the simulator keeps them).
    const manifest = await t.http.get('/v1/onboarding/manifest').set(bearer(t.adminKey));
    const wanted: Record<string, string[]> = { graph: [], manage: [], defender: [] };
    for (const m of manifest.body.modules) for (const p of m.permissions) if (!wanted[p.resource].includes(p.name)) wanted[p.resource].push(p.name);
    app().requiredResourceAccess = wanted;

    const url = new URL(before.body.adminConsentUrl);
    const back = await new Promise<URL>((resolve, reject) => {
      https
        .get(url, { ca: readFileSync(sim.caCertPath) }, (res) => {
          res.resume();
          resolve(new URL(res.headers.location!));
        })
        .on('error', reject);
    });
    const done = await t.http.get(`${back.pathname}${back.search}`);
    expect(done.body.outcome).toBe('granted');
    const statuses = Object.fromEntries(done.body.modules.map((m: { name: string; status: string; detail: string[] }) => [m.name, m]));
    for (const name of Object.keys(statuses))
      expect({ name, status: statuses[name].status, detail: statuses[name].detail }).toEqual({ name, status: 'ready', detail: [] });

    app().permissions.graph = app().permissions.graph.filter((p) => p !== 'MailboxSettings.ReadWrite');
    await t.http.post(`/v1/tenants/${contoso}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
    const after = await t.http.get(`/v1/tenants/${contoso}/onboarding`).set(bearer(t.adminKey));
    const persistence = after.body.modules.find((m: { name: string }) => m.name === 'persistence-removal');
    expect(persistence).toMatchObject({ status: 'missing-permissions', missingPermissions: ['MailboxSettings.ReadWrite'] });
    const audit = await t.http.get(`/v1/audit-log?tenantId=${contoso}&event=tenant.capabilities.changed`).set(bearer(t.adminKey));
    expect(JSON.stringify(audit.body)).toContain('mailbox-rules');
  });

  it("sees a revocation on a probe that finds the old token cached (the daily one, another replica's), from the app's role assignments", async () => {
    const tenants = t.app.get(TenantsService);
    const credentials = tenants.credentialsOf((await tenants.findLive(contoso))!);
    const probe = t.app.get(CapabilityProbe);
    const status = (outcome: Awaited<ReturnType<CapabilityProbe['probe']>>, name: string) => outcome.capabilities.find((c) => c.capability === name)?.status;
    expect(status(await probe.probe(credentials), 'user-actions')).toBe('available'); // the token is cached now
    const since = Math.max(0, ...sim.journal.list().map((e) => e.seq));
    app().permissions.graph = app().permissions.graph.filter((p) => p !== 'User.RevokeSessions.All');
    try {
      const outcome = await probe.probe(credentials);
      expect(status(outcome, 'user-actions')).toBe('forbidden');
      expect(outcome.capabilities.find((c) => c.capability === 'user-actions')?.detail).toContain('User.RevokeSessions.All');
      const after = sim.journal.list().filter((e) => e.seq > since);
      expect(after.some((e) => e.host === 'graph' && /appRoleAssignments$/.test(e.path))).toBe(true);
      // a new token was asked for once the assignments said the cached one was stale
      expect(after.some((e) => e.host === 'login' && e.path.endsWith('/token'))).toBe(true);
    } finally {
      app().permissions.graph.push('User.RevokeSessions.All');
    }
  });
});
