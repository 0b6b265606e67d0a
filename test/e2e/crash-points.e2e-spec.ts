import { prng } from '../m365-simulator/src/ids';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { generateApiKey } from '../../src/auth/api-key-secret';
import { CRASH_POINTS, CrashPoint } from '../../src/common/crash-points';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import { CORDON_PERMISSIONS } from '../m365-simulator/src/scenario';
import type { Scenario } from '../m365-simulator/src/types';
import { collectionStatus, streamOf } from './support/collection-runs';
import { registerTenant, simApp, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { spawnEntry, Spawned, waitForOutput } from './support/spawn';
import { allPages, bearer, createKey, startTestApp, TEST_ENCRYPTION_KEY, waitFor } from './support/test-app';

/**
 * Cordon killed with SIGKILL at seeded random points of its work — a user isolation, a device isolation
 * and a collection run at once — through the test-only crash points (src/common/crash-points.ts): the
 * n-th audit append, commit or seal, or the n-th request to or answer from Microsoft. After a restart:
 * the playbook's retries (same Idempotency-Key) and every action end in a final state; the account is
 * disabled and the device isolated at Microsoft with no second disable or isolation sent; the audit
 * chain verifies; the stream holds every record exactly once.
 * `CORDON_CRASH_POINTS` (default 20) points, seeded by `CORDON_CRASH_SEED`; each failure names both.
 */
const POINTS = Number(process.env.CORDON_CRASH_POINTS ?? 20);
const SEED = Number(process.env.CORDON_CRASH_SEED ?? 1806);
const HOUR = 3_600_000;
const STREAM = 'Audit.Exchange';
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];

/** How often the work of one point passes each crash point at least (measured), so the n-th is reached. */
const REACHED_AT_LEAST: Record<CrashPoint, number> = {
  'audit.appended': 2,
  'audit.committed': 6,
  'audit.sealing': 3,
  'microsoft.request': 12,
  'microsoft.response': 12,
};

interface Target {
  tenantId: string;
  clientId: string;
  secret: string;
  userId: string;
  deviceId: string;
  records: string[];
  cordonId?: string;
}

function targets(count: number): Target[] {
  return Array.from({ length: count }, (_, i) => ({
    tenantId: randomUUID(),
    clientId: randomUUID(),
    secret: `crash-point-secret-${i}-0123456789`,
    userId: randomUUID(),
    deviceId: randomUUID().replace(/-/g, '').padEnd(40, '0'),
    records: Array.from({ length: 60 }, () => randomUUID()),
  }));
}

describe('crash points: SIGKILL anywhere, restart, nothing lost, nothing done twice', () => {
  const next = prng(SEED);
  const plan = Array.from({ length: POINTS }, () => {
    const point = CRASH_POINTS[Math.floor(next() * CRASH_POINTS.length)];
    return { point, n: 1 + Math.floor(next() * REACHED_AT_LEAST[point]) };
  });
  const tenants = targets(POINTS);
  const adminKey = generateApiKey();
  let sim: RunningSimulator;
  let dataDir: string;
  let responder: string;
  const children: Spawned[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const scenario: Scenario = {
      graph: UNTHROTTLED_GRAPH,
      machineActions: { pendingMs: 200, inProgressMs: 300, timeoutMs: 60_000 },
      tenants: tenants.map((t, i) => ({
        tenantId: t.tenantId,
        displayName: `Crash ${i}`,
        domains: [`crash${i}.example`],
        apps: [{ ...simApp(t.clientId, t.secret), permissions: structuredClone(CORDON_PERMISSIONS) }],
        users: [{ id: t.userId, userPrincipalName: `victim@crash${i}.example`, displayName: 'Victim' }],
        devices: [
          {
            id: t.deviceId,
            computerDnsName: `pc-${i}.crash${i}.example`,
            aadDeviceId: randomUUID(),
            osPlatform: 'Windows11',
            healthStatus: 'Active',
            lastSeen: new Date(now - 60_000).toISOString(),
            online: true,
            isolated: false,
            appExecutionRestricted: false,
          },
        ],
        auditRecords: t.records.map((id, r) => ({
          Id: id,
          RecordType: 2,
          Workload: 'Exchange',
          Operation: 'MailItemsAccessed',
          CreationTime: new Date(now - 3 * HOUR + r * 2 * 60_000).toISOString().slice(0, 19),
          UserId: `victim@crash${i}.example`,
        })),
      })) as never,
      manage: { pageSize: 5 },
    };
    sim = await startSimulator({ quiet: true, scenario });
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-crash-points-'));
    // Registered (and probed) once, by an app with no workers, before any process is killed.
    const setup = await startTestApp({ ...serviceEnv(), CORDON_WORKERS: 'false' });
    for (const [i, t] of tenants.entries()) {
      t.cordonId = await registerTenant(setup, `Crash ${i}`, t);
      const caps = await setup.http.post(`/v1/tenants/${t.cordonId}/capabilities/refresh`).set(bearer(adminKey));
      if (caps.body.connection !== 'connected') throw new Error(`Crash ${i} did not connect: ${JSON.stringify(caps.body)}`);
    }
    responder = (await createKey(setup, ['responder'])).key;
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    console.log(`crash points: ${POINTS} points, seed ${SEED}: ${plan.map((p) => `${p.point}:${p.n}`).join(', ')}`);
    for (const child of children) child.child.kill('SIGKILL');
    // Other suites share the database: no tenant of this one stays enabled for their schedulers.
    const cleanup = await startTestApp({ ...serviceEnv(), CORDON_WORKERS: 'false' });
    for (const t of tenants) if (t.cordonId) await cleanup.http.delete(`/v1/tenants/${t.cordonId}`).set(bearer(adminKey));
    await cleanup.close();
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function serviceEnv(): Record<string, string> {
    return {
      CORDON_DATA_DIR: dataDir,
      CORDON_BOOTSTRAP_ADMIN_KEY: adminKey,
      CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ...simEnv(sim),
      CORDON_ACTION_LEASE_S: '5',
      CORDON_IDEMPOTENCY_HOLD_S: '3',
      CORDON_COLLECTION_LEASE_S: '3',
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_DEFENDER_POLL_INITIAL_MS: '200',
      CORDON_DEFENDER_POLL_MAX_MS: '800',
    };
  }

  async function start(crashAt?: string): Promise<{ proc: Spawned; http: TestAgent }> {
    const proc = spawnEntry('main', {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: process.env.DATABASE_URL,
      ...serviceEnv(),
      ...(crashAt ? { CORDON_TEST_CRASH_AT: crashAt } : {}),
    });
    children.push(proc);
    const [, port] = await waitForOutput(proc.stderr, /Cordon listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return { proc, http: request(`http://127.0.0.1:${port}`) };
  }

  /** What a playbook sends for one target: isolate the user and the device, collect now. Retried with the same keys. */
  function work(http: TestAgent, t: Target, keys: { user: string; device: string }, collect = true) {
    const swallow = (p: PromiseLike<{ status: number; body: { id?: string } }>) =>
      Promise.resolve(p).then(
        (r) => r,
        () => undefined,
      ); // the process may die mid-request
    return Promise.all([
      swallow(
        http
          .post(`/v1/tenants/${t.cordonId}/users/${t.userId}/isolate`)
          .set(bearer(responder))
          .set('Idempotency-Key', keys.user)
          .send({ reason: 'crash point' }),
      ),
      swallow(
        http
          .post(`/v1/tenants/${t.cordonId}/devices/${t.deviceId}/isolate`)
          .set(bearer(responder))
          .set('Idempotency-Key', keys.device)
          .send({ reason: 'crash point' }),
      ),
      collect ? swallow(http.post(`/v1/tenants/${t.cordonId}/collection/${STREAM}/run`).set(bearer(adminKey))) : undefined,
    ]);
  }

  plan.forEach(({ point, n }, index) => {
    it(`point ${index + 1}/${POINTS}: SIGKILL at ${point}:${n} (seed ${SEED})`, async () => {
      const t = tenants[index];
      const since = sim.journal.lastSeq();
      const keys = { user: `crash-${index}-user`, device: `crash-${index}-device` };

      // Counted for this target only: its tenant's audit entries, and Microsoft URLs naming the tenant, user or device.
      const doomed = await start(`${point}:${n}:${point.startsWith('audit') ? t.cordonId : [t.tenantId, t.userId, t.deviceId].join('|')}`);
      await work(doomed.http, t, keys);
      const until = Date.now() + 30_000;
      while (doomed.proc.child.exitCode === null && doomed.proc.child.signalCode === null) {
        if (Date.now() > until) throw new Error(`${point}:${n} was not reached in 30 s (seed ${SEED}); stderr:\n${doomed.proc.stderr().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(doomed.proc.child.signalCode).toBe('SIGKILL');
      expect(doomed.proc.stderr()).toContain(`crash point ${point}:${n} reached`);

      const { proc, http } = await start();
      // The playbook retries, as it would after a timeout, while the answer is `request-in-progress`: the key the
      // killed process held is free once its hold lapses (CORDON_IDEMPOTENCY_HOLD_S), and the retry carries on with
      // the action that request had recorded, if it had; a request that died before recording one is made anew.
      let retried = await work(http, t, keys);
      const retryUntil = Date.now() + 30_000;
      const inProgress = (r: (typeof retried)[number]) => r?.status === 409 && (r.body as { type?: string }).type === '/problems/request-in-progress';
      while (retried.slice(0, 2).some(inProgress) && Date.now() < retryUntil) {
        await new Promise((r) => setTimeout(r, 1000));
        retried = await work(http, t, keys, false);
      }
      for (const r of retried.slice(0, 2)) {
        const ok = r && (r.status === 200 || r.status === 202);
        expect({ ok, answer: r && [r.status, r.body] }).toEqual({ ok: true, answer: expect.anything() });
      }
      const actions = await waitFor(
        () => allPages<{ id: string; type: string; status: string }>({ http, adminKey }, `/v1/actions?tenantId=${t.cordonId}`, 50),
        (list) => list.every((a) => FINAL.includes(a.status)),
        45_000,
      );
      // At most one action per request, however often it was sent; each finished, and done at Microsoft
      // once: a second disable or a second machine isolation would be a request carried out twice.
      const simTenant = sim.context.tenants.get(t.tenantId)!;
      const calls = sim.journal.list({ since }).filter((e) => e.status < 300);
      const disables = calls.filter((e) => e.method === 'PATCH' && e.path === `/v1.0/users/${t.userId}`);
      const isolations = calls.filter((e) => e.method === 'POST' && e.path.toLowerCase() === `/api/machines/${t.deviceId}/isolate`);
      const ofType = (type: string) => actions.filter((a) => a.type === type);
      expect(ofType('user.isolate').length).toBeLessThanOrEqual(1);
      expect(ofType('device.isolate').length).toBeLessThanOrEqual(1);
      expect(actions.map((a) => [a.type, a.status])).toEqual(
        actions.map((a) => [a.type, a.type === 'user.isolate' ? expect.stringMatching(/succeeded$/) : 'succeeded']),
      );
      expect([simTenant.users[0].accountEnabled, disables.length]).toEqual(ofType('user.isolate').length ? [false, 1] : [true, 0]);
      expect([simTenant.devices[0].isolated, isolations.length]).toEqual(ofType('device.isolate').length ? [true, 1] : [false, 0]);
      // Each retry answers the one action of its request: the one the killed process had recorded, or a new one.
      for (const [i, type] of ['user.isolate', 'device.isolate'].entries()) expect(ofType(type).map((a) => a.id)).toEqual([retried[i]!.body.id]);

      // The run killed (or never started) is run again once its lease lapses: every record, once.
      await new Promise((r) => setTimeout(r, 3100));
      // Asked again every 2 s until the records are in: a request for a run while one is queued or running is folded into it.
      const storedIds = () =>
        allPages<{ recordId: string }>({ http, adminKey }, `/v1/events?tenantId=${t.cordonId}&source=management-activity`, 1000).then((all) =>
          all.map((e) => e.recordId),
        );
      let askedAt = 0;
      await waitFor(
        async () => {
          if (Date.now() - askedAt > 2000) {
            askedAt = Date.now();
            await http.post(`/v1/tenants/${t.cordonId}/collection/${STREAM}/run`).set(bearer(adminKey)).expect(202);
          }
          return storedIds();
        },
        (ids) => ids.length >= t.records.length,
        45_000,
      );
      const stream = await waitFor(
        async () => streamOf(await collectionStatus({ http, adminKey }, t.cordonId!), STREAM),
        (s) => Boolean(s.lastRun?.finishedAt),
        45_000,
      );
      expect(stream.lastRun).toMatchObject({ status: 'succeeded' });
      const stored = await storedIds();
      expect(stored.length).toBe(t.records.length);
      expect(new Set(stored)).toEqual(new Set(t.records));

      expect((await http.get('/v1/audit-log/verify').set(bearer(adminKey)).expect(200)).body).toMatchObject({ ok: true });
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }, 150_000);
  });
});
