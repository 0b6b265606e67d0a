import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
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
