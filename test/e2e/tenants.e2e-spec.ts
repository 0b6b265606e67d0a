import { execFileSync } from 'node:child_process';
import { DataSource } from 'typeorm';
import { demoScenario } from '../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { bearer, createKey, expectProblem, startTestApp, TestApp } from './support/test-app';

const LIMITED_TENANT = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const LIMITED_CLIENT = 'c3f2e1d0-9a8b-4c7d-8e6f-5a4b3c2d1e0f';
const LIMITED_SECRET = 'limited-app-secret-value-1234';

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('tenants and Microsoft connectivity (against the simulator)', () => {
  // The database may be shared with other suites: this suite's audit entries are those since it started.
  const suiteStart = new Date(Date.now() - 5_000).toISOString();
  let sim: RunningSimulator;
  let t: TestApp;
  const logLines: string[] = [];
  let contoso: RunningSimulator['tenants'][number];
  let fabrikam: RunningSimulator['tenants'][number];

  beforeAll(async () => {
    // The demo tenants plus one whose app lacks AuditLog.Read.All and Machine.Isolate.
    const scenario = demoScenario() as Scenario;
    scenario.graph = { ...(scenario.graph ?? {}), throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0 } } as never;
    const all = (p: Record<string, string[]>) => structuredClone(p);
    const base = scenario.tenants[0].apps![0].permissions;
    scenario.tenants.push({
      tenantId: LIMITED_TENANT,
      displayName: 'Limited Permissions',
      apps: [
        {
          clientId: LIMITED_CLIENT,
          displayName: 'Cordon (limited)',
          clientSecrets: [LIMITED_SECRET],
          certificates: [],
          directoryRoles: [],
          permissions: {
            ...all(base),
            graph: base.graph.filter((p) => p !== 'AuditLog.Read.All'),
            defender: base.defender.filter((p) => p !== 'Machine.Isolate'),
          },
        },
      ],
    } as never);
    sim = await startSimulator({ quiet: true, scenario });
    contoso = sim.tenants.find((x) => x.displayName === 'Contoso Demo')!;
    fabrikam = sim.tenants.find((x) => x.displayName === 'Fabrikam Basic')!;
    t = await startTestApp(
      { CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.caCertPath, CORDON_LOG_LEVEL: 'debug' },
      [],
      { logLines },
    );
    // On a database shared with other suites (PostgreSQL in CI) the demo tenants may be registered already.
    const simTenants = new Set(sim.tenants.map((x) => x.tenantId));
    for (const existing of (await t.http.get('/v1/tenants?limit=1000').set(bearer(t.adminKey))).body.items) {
      if (simTenants.has(existing.tenantId)) await t.http.delete(`/v1/tenants/${existing.id}`).set(bearer(t.adminKey)).expect(204);
    }
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  const register = (body: Record<string, unknown>) => t.http.post('/v1/tenants').set(bearer(t.adminKey)).send(body);
  const capabilities = async (id: string) => (await t.http.get(`/v1/tenants/${id}/capabilities`).set(bearer(t.adminKey)).expect(200)).body;
  const statusOf = (caps: { capabilities: Array<{ capability: string; status: string; detail: string | null }> }, name: string) =>
    caps.capabilities.find((c) => c.capability === name);
  let contosoId: string;

  it('registers a tenant with a client secret, never returns it, and probes it at once', async () => {
    const res = await register({
      displayName: 'Contoso',
      tenantId: contoso.tenantId,
      cloud: 'global',
      clientId: contoso.clientId,
      credential: { type: 'secret', secret: contoso.clientSecret },
    });
    expect(res.status).toBe(201);
    contosoId = res.body.id;
    expect(res.body).toMatchObject({
      displayName: 'Contoso',
      tenantId: contoso.tenantId,
      cloud: 'global',
      credential: { type: 'secret' },
      enabled: true,
      connection: { status: 'pending' },
    });
    expect(JSON.stringify(res.body)).not.toContain(contoso.clientSecret!);
    // the probe job runs on its own (workers are on in the test app)
    const caps = await waitFor(
      () => capabilities(contosoId),
      (c) => c.connection !== 'pending',
    );
    expect(caps.connection).toBe('connected');
    expect(caps.capabilities.filter((c: { status: string }) => c.status !== 'available')).toEqual([]);
    expect(caps.capabilities.map((c: { capability: string }) => c.capability)).toEqual(
      expect.arrayContaining(['sign-in-logs', 'alerts', 'defender-actions', 'management-activity:DLP.All', 'user-actions']),
    );
    const get = await t.http.get(`/v1/tenants/${contosoId}`).set(bearer(t.adminKey)).expect(200);
    expect(get.body.connection.status).toBe('connected');
  });

  it('refuses a second registration of the same app with 409', async () => {
    const res = await register({
      displayName: 'Again',
      tenantId: contoso.tenantId,
      cloud: 'global',
      clientId: contoso.clientId,
      credential: { type: 'secret', secret: 'x' },
    });
    expectProblem(res, 409, 'tenant-exists');
  });

  it('rotates the credential to a certificate and connects with it', async () => {
    const cert = contoso.certificate!;
    const res = await t.http
      .patch(`/v1/tenants/${contosoId}`)
      .set(bearer(t.adminKey))
      .send({ credential: { type: 'certificate', certificatePem: cert.certPem, privateKeyPem: cert.privateKeyPem } });
    expect(res.status).toBe(200);
    expect(res.body.credential).toMatchObject({ type: 'certificate', thumbprint: expect.stringMatching(/^[0-9A-Fa-f]{40}$/) });
    expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY');
    const refreshed = await t.http.post(`/v1/tenants/${contosoId}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
    expect(refreshed.body.connection).toBe('connected');
    // the simulator saw a certificate assertion, not a secret, for this token request
    const tokenRequests = sim.journal.list({ host: 'login', method: 'POST' });
    expect(JSON.stringify(tokenRequests[tokenRequests.length - 1])).toContain('client_assertion_type');
  });

  it('marks a wrong secret with a clear credential error', async () => {
    const res = await register({
      displayName: 'Fabrikam (wrong secret)',
      tenantId: fabrikam.tenantId,
      cloud: 'global',
      clientId: fabrikam.clientId,
      credential: { type: 'secret', secret: 'not-the-secret' },
    });
    expect(res.status).toBe(201);
    const caps = await t.http.post(`/v1/tenants/${res.body.id}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
    expect(caps.body.connection).toBe('credential-error');
    expect(caps.body.connectionDetail).toMatch(/AADSTS7000215/);
    await t.http.delete(`/v1/tenants/${res.body.id}`).set(bearer(t.adminKey)).expect(204);
    await t.http.get(`/v1/tenants/${res.body.id}`).set(bearer(t.adminKey)).expect(404);
  });

  it('sees a tenant without Entra ID P1/P2 as unlicensed for sign-ins and Identity Protection', async () => {
    const res = await register({
      displayName: 'Fabrikam',
      tenantId: fabrikam.tenantId,
      cloud: 'global',
      clientId: fabrikam.clientId,
      credential: { type: 'secret', secret: fabrikam.clientSecret },
    });
    const caps = (await t.http.post(`/v1/tenants/${res.body.id}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200)).body;
    expect(caps.connection).toBe('connected');
    expect(statusOf(caps, 'sign-in-logs')).toMatchObject({ status: 'unlicensed' });
    expect(statusOf(caps, 'identity-protection')).toMatchObject({ status: 'unlicensed' });
    expect(statusOf(caps, 'alerts')).toMatchObject({ status: 'available' });
    expect(statusOf(caps, 'directory-audits')).toMatchObject({ status: 'available' });
  });

  it('names the missing permission for an app that was not granted it', async () => {
    const res = await register({
      displayName: 'Limited',
      tenantId: LIMITED_TENANT,
      cloud: 'global',
      clientId: LIMITED_CLIENT,
      credential: { type: 'secret', secret: LIMITED_SECRET },
    });
    const caps = (await t.http.post(`/v1/tenants/${res.body.id}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200)).body;
    expect(statusOf(caps, 'sign-in-logs')).toMatchObject({ status: 'forbidden', detail: expect.stringContaining('AuditLog.Read.All') });
    expect(statusOf(caps, 'defender-actions')).toMatchObject({ status: 'forbidden', detail: expect.stringContaining('Machine.Isolate') });
    expect(statusOf(caps, 'alerts')).toMatchObject({ status: 'available' });
    const audit = await t.http.get(`/v1/audit-log?tenantId=${res.body.id}&event=tenant.capabilities.changed`).set(bearer(t.adminKey)).expect(200);
    expect(audit.body.items.length).toBeGreaterThanOrEqual(1);
  });

  it('validates input and changes nothing on bad input', async () => {
    const before = (await t.http.get('/v1/tenants?limit=1000').set(bearer(t.adminKey))).body.items.length;
    const res = await register({ displayName: '', tenantId: 'contoso.onmicrosoft.com', cloud: 'mars', clientId: 'x', credential: { type: 'secret' } });
    expectProblem(res, 400, 'validation-failed');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['displayName', 'tenantId', 'cloud', 'clientId', 'credential.secret']));
    const cert = await register({
      displayName: 'x',
      tenantId: LIMITED_TENANT,
      cloud: 'global',
      clientId: contoso.clientId,
      credential: {
        type: 'certificate',
        certificatePem: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----',
        privateKeyPem: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
      },
    });
    expectProblem(cert, 400, 'validation-failed');
    expect((await t.http.get('/v1/tenants?limit=1000').set(bearer(t.adminKey))).body.items.length).toBe(before);
  });

  it('lets only admins write, analysts read, and a scoped key see only its tenants', async () => {
    const analyst = await createKey(t, ['analyst']);
    expectProblem(await t.http.post('/v1/tenants').set(bearer(analyst.key)).send({}), 403, 'forbidden');
    expectProblem(await t.http.put(`/v1/tenants/${contosoId}/policy`).set(bearer(analyst.key)).send({}), 403, 'forbidden');
    await t.http.get(`/v1/tenants/${contosoId}`).set(bearer(analyst.key)).expect(200);
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await t.http.get('/v1/tenants').set(bearer(auditor.key)), 403, 'forbidden');

    const scoped = await createKey(t, ['analyst'], { tenantIds: [contosoId] });
    const list = await t.http.get('/v1/tenants').set(bearer(scoped.key)).expect(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([contosoId]);
    const others = (await t.http.get('/v1/tenants?limit=1000').set(bearer(t.adminKey))).body.items.filter((x: { id: string }) => x.id !== contosoId);
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) {
      expectProblem(await t.http.get(`/v1/tenants/${other.id}`).set(bearer(scoped.key)), 404, 'not-found');
      expectProblem(await t.http.get(`/v1/tenants/${other.id}/capabilities`).set(bearer(scoped.key)), 404, 'not-found');
    }
  });

  it('stores and audits policies', async () => {
    const policy = {
      protectedUsers: ['BreakGlass@contoso.example', '0b7c1e2d-0002-4a00-8000-000000000002'],
      protectedGroups: [],
      approvalRequired: ['user.disable'],
      hourlyLimits: { 'user.disable': 20, 'device.isolate': 50 },
    };
    const put = await t.http.put(`/v1/tenants/${contosoId}/policy`).set(bearer(t.adminKey)).send(policy).expect(200);
    expect(put.body).toMatchObject({
      tenantId: contosoId,
      protectedUsers: ['breakglass@contoso.example', '0b7c1e2d-0002-4a00-8000-000000000002'],
      approvalRequired: ['user.disable'],
      hourlyLimits: { 'user.disable': 20 },
    });
    expect((await t.http.get(`/v1/tenants/${contosoId}/policy`).set(bearer(t.adminKey)).expect(200)).body).toEqual(put.body);
    const bad = await t.http
      .put(`/v1/tenants/${contosoId}/policy`)
      .set(bearer(t.adminKey))
      .send({ ...policy, approvalRequired: ['user.explode'], hourlyLimits: { 'user.disable': -1 } });
    expectProblem(bad, 400, 'validation-failed');
    const audit = await t.http.get(`/v1/audit-log?tenantId=${contosoId}&event=tenant.policy.updated`).set(bearer(t.adminKey)).expect(200);
    expect(audit.body.items).toHaveLength(1);
  });

  it('never shows a credential in logs, the audit log or the database', async () => {
    const secrets = [contoso.clientSecret!, fabrikam.clientSecret!, LIMITED_SECRET, contoso.certificate!.privateKeyPem.split('\n')[1]];
    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    const audit = JSON.stringify((await t.http.get(`/v1/audit-log?limit=1000&since=${suiteStart}`).set(bearer(t.adminKey))).body);
    for (const secret of secrets) expect(audit).not.toContain(secret);

    const db = t.app.get(DataSource);
    const tables: Array<{ table_name: string }> = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    let everything = '';
    for (const { table_name } of tables) everything += JSON.stringify(await db.query(`SELECT t::text AS row FROM "${table_name}" t`));
    for (const secret of secrets) expect(everything).not.toContain(secret);
    if (process.env.DATABASE_URL) {
      const dump = execFileSync('pg_dump', ['--data-only', process.env.DATABASE_URL], { maxBuffer: 512 * 1024 * 1024 }).toString();
      expect(dump).toContain('tenants');
      for (const secret of secrets) expect(dump).not.toContain(secret);
    }
  });

  it('registers a tenant with a certificate credential', async () => {
    await t.http.delete(`/v1/tenants/${contosoId}`).set(bearer(t.adminKey)).expect(204);
    const cert = contoso.certificate!;
    const res = await register({
      displayName: 'Contoso (certificate)',
      tenantId: contoso.tenantId,
      cloud: 'global',
      clientId: contoso.clientId,
      credential: { type: 'certificate', certificatePem: cert.certPem, privateKeyPem: cert.privateKeyPem },
    });
    expect(res.status).toBe(201);
    expect(res.body.credential).toMatchObject({ type: 'certificate', expiresAt: expect.any(String) });
    expect(res.body.credential.thumbprint.toLowerCase()).toBe(cert.thumbprint.toLowerCase());
    const caps = (await t.http.post(`/v1/tenants/${res.body.id}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200)).body;
    expect(caps.connection).toBe('connected');
    expect(statusOf(caps, 'alerts')).toMatchObject({ status: 'available' });
  });
});
