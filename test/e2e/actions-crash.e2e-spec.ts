import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { generateApiKey } from '../../src/auth/api-key-secret';
import type { RunningSimulator } from '../m365-simulator/src';
import { registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { spawnEntry, Spawned, waitForOutput } from './support/spawn';
import { bearer, TEST_ENCRYPTION_KEY } from './support/test-app';

const CAROL = '0b7c1e2d-0005-4a00-8000-000000000005';
const contosoTid = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';

/**
 * A process killed between two steps of an action: another process resumes it after the lease lapses
 * and finishes it without doing the first step again.
 */
describe('an action survives the death of its process', () => {
  let sim: RunningSimulator;
  let dataDir: string;
  const adminKey = generateApiKey();
  const children: Spawned[] = [];

  beforeAll(async () => {
    sim = await startDemoSimulator();
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-crash-'));
  });
  afterAll(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const child = spawnEntry('main', {
      PORT: '0',
      HOST: '127.0.0.1',
      CORDON_DATA_DIR: dataDir,
      DATABASE_URL: process.env.DATABASE_URL,
      CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
      CORDON_ACTION_LEASE_S: '3',
      ...simEnv(sim),
    });
    children.push(child);
    const [, port] = await waitForOutput(child.stderr, /Cordon listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return { proc: child, http: request(`http://127.0.0.1:${port}`) };
  };

  it('resumes after SIGKILL with one disable and one revoke at Microsoft', async () => {
    const first = await start();
    const tenant = await registerSimTenant({ http: first.http, adminKey }, sim, 'Contoso Demo');
    const responder = (
      await first.http
        .post('/v1/api-keys')
        .set(bearer(adminKey))
        .send({ name: 'crash responder', roles: ['responder'] })
    ).body.key;
    const since = sim.journal.lastSeq();
    // Microsoft is unavailable for revocation: the action sits in its second step, retrying.
    sim.faults.add({
      host: 'graph',
      method: 'POST',
      pathPattern: `/v1.0/users/${CAROL}/revokeSignInSessions`,
      times: 0,
      status: 503,
      headers: { 'Retry-After': '30' },
      body: { error: { code: 'serviceNotAvailable', message: 'try later' } },
    });
    const accepted = await first.http.post(`/v1/tenants/${tenant}/users/${CAROL}/isolate`).set(bearer(responder)).send({ reason: 'crash test' });
    expect(accepted.status).toBe(202);
    const until = Date.now() + 20000;
    while (!sim.journal.list({ host: 'graph', method: 'POST', since }).some((e) => e.path.endsWith('/revokeSignInSessions'))) {
      if (Date.now() > until) throw new Error('the revoke step never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.proc.child.kill('SIGKILL');
    expect(await first.proc.exited).toBe(null);
    sim.faults.clear();

    const second = await start();
    let action: { status: string; steps: Array<{ name: string; status: string; attempts: number }> } | undefined;
    const deadline = Date.now() + 45000;
    for (;;) {
      action = (await second.http.get(`/v1/actions/${accepted.body.id}`).set(bearer(adminKey))).body;
      if (action && ['succeeded', 'partially_succeeded', 'failed'].includes(action.status)) break;
      if (Date.now() > deadline) throw new Error(`not resumed: ${JSON.stringify(action)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(action.status).toBe('succeeded');
    expect(action.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['disable-sign-in', 'succeeded', 1],
      ['revoke-sessions', 'succeeded', 2],
      ['confirm-compromised', 'succeeded', 1],
    ]);
    const writes = sim.journal.list({ host: 'graph', since }).filter((e) => e.method !== 'GET' && e.status < 300);
    expect(writes.filter((e) => e.method === 'PATCH' && e.path === `/v1.0/users/${CAROL}`)).toHaveLength(1);
    expect(writes.filter((e) => e.path === `/v1.0/users/${CAROL}/revokeSignInSessions`)).toHaveLength(1);
    const carol = sim.context.tenants.get(contosoTid)!.users.find((u) => u.id === CAROL)!;
    expect(carol.accountEnabled).toBe(false);
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  });
});
