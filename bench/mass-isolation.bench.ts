import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DeviceInventoryService } from '../src/integrations/defender-endpoint/device-inventory.service';
import { startSimulator } from '../test/m365-simulator/src';
import { DEMO, demoScenario } from '../test/m365-simulator/src/demo-scenario';
import type { Scenario, SimDevice } from '../test/m365-simulator/src/types';
import { startBenchApp } from './bench-app';

/**
 * `npm run bench -- mass-isolation`: 500 device isolations for one tenant, with the simulator enforcing
 * Defender's limits (100 calls a minute and 1,500 an hour per API) on a clock running SCALE times
 * faster than real time, and Cordon's pacing windows scaled alike (CORDON_DEFENDER_RATE_TIME_SCALE).
 *
 * The baseline is the minimum the limits allow: the last of N calls can be accepted no sooner than
 * (ceil(N / 100) − 1) minutes after the first, and its machine action then needs the simulator's
 * pending + in-progress time to succeed. Completion is measured from the first request to the moment
 * every action reads `succeeded`, in simulated seconds; the result is their ratio (target ≤ 1.05) and
 * the number of 429s Defender answered (target 0).
 */

const COUNT = Number(process.env.BENCH_DEVICES ?? 500);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 2);
const PENDING_MS = 2_000;
const IN_PROGRESS_MS = 3_000;
const CONCURRENCY = 20;

const machineId = (n: number) => createHash('sha1').update(`bench-device-${n}`).digest('hex');

function benchDevices(now: number): SimDevice[] {
  return Array.from({ length: COUNT }, (_, n) => ({
    id: machineId(n),
    computerDnsName: `bench-${n}.contoso.example`,
    aadDeviceId: null,
    osPlatform: 'Windows11',
    healthStatus: 'Active',
    lastSeen: new Date(now - 60_000).toISOString(),
    online: true,
    isolated: false,
    appExecutionRestricted: false,
  }));
}

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok<T>(reply: Promise<{ status: number; body: unknown }>, what: string): Promise<T> {
  const r = await reply;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body as T;
}

export async function massIsolationBench(): Promise<Record<string, unknown>> {
  const now = Date.now();
  const scenario = demoScenario(now) as Scenario;
  const contoso = scenario.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
  contoso.devices = benchDevices(now);
  scenario.machineActions = { pendingMs: PENDING_MS, inProgressMs: IN_PROGRESS_MS };
  const sim = await startSimulator({ quiet: true, scenario });
  // The simulated clock runs SCALE times faster than real time from now on (the simulator's clock
  // has only a forward offset; the benchmark scales it on its own instance).
  const origin = Date.now();
  const baseNow = sim.clock.nowMs.bind(sim.clock);
  sim.clock.nowMs = () => baseNow() + (Date.now() - origin) * (SCALE - 1);
  const simSeconds = (realMs: number) => (realMs * SCALE) / 1000;

  const bench = await startBenchApp({
    CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
    CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
    CORDON_DEFENDER_RATE_TIME_SCALE: String(SCALE),
    CORDON_DEFENDER_POLL_INITIAL_MS: String(Math.round(1000 / SCALE)),
    CORDON_DEFENDER_POLL_MAX_MS: String(Math.round(2000 / SCALE)),
    // A window's 100 calls leave at once rather than 4 at a time, so each is sent at its booked slot.
    CORDON_MICROSOFT_CONCURRENCY: '64',
  });
  try {
    const { base, adminKey } = bench;
    const info = sim.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
    const tenant = await ok<{ id: string }>(
      call(base, adminKey, 'POST', '/v1/tenants', {
        displayName: info.displayName,
        tenantId: info.tenantId,
        cloud: 'global',
        clientId: info.clientId,
        credential: { type: 'secret', secret: info.clientSecret },
      }),
      'register tenant',
    );
    const caps = await ok<{ connection: string }>(call(base, adminKey, 'POST', `/v1/tenants/${tenant.id}/capabilities/refresh`, {}), 'probe');
    if (caps.connection !== 'connected') throw new Error(`tenant did not connect: ${JSON.stringify(caps)}`);
    const responder = await ok<{ key: string }>(call(base, adminKey, 'POST', '/v1/api-keys', { name: 'bench responder', roles: ['responder'] }), 'api key');
    // A deployment has its inventory already: sync it before the clock starts.
    const synced = await bench.app.get(DeviceInventoryService).sync(tenant.id);
    if (synced !== COUNT) throw new Error(`inventory has ${synced} devices, expected ${COUNT}`);
    const journalSince = sim.journal.lastSeq();

    const started = Date.now();
    const ids: string[] = [];
    let next = 0;
    let admittedAt = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COUNT) {
          const n = next++;
          const action = await ok<{ id: string }>(
            call(base, responder.key, 'POST', `/v1/tenants/${tenant.id}/devices/${machineId(n)}/isolate`, { reason: `bench: mass isolation ${n}` }),
            `isolate ${n}`,
          );
          ids.push(action.id);
        }
        admittedAt = Date.now();
      }),
    );

    // Watch: how many wait for capacity (visible on the action), until every one has succeeded.
    const dataSource = bench.app.get(DataSource);
    let mostWaiting = 0;
    let finishedAt = 0;
    for (;;) {
      const [row] = await dataSource.query(
        `SELECT count(*) FILTER (WHERE a.status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE a.status IN ('failed', 'partially_succeeded', 'rejected', 'cancelled'))::int AS failed,
                count(*) FILTER (WHERE a.status = 'queued' AND s.detail->>'waitingFor' = 'capacity')::int AS waiting
           FROM actions a JOIN action_steps s ON s.action_id = a.id WHERE a.tenant_id = $1 AND a.type = 'device.isolate'`,
        [tenant.id],
      );
      mostWaiting = Math.max(mostWaiting, row.waiting);
      if (row.failed > 0) throw new Error(`${row.failed} isolations failed`);
      if (row.succeeded === COUNT) {
        finishedAt = Date.now();
        break;
      }
      if (Date.now() - started > 3_600_000 / SCALE) throw new Error(`only ${row.succeeded} of ${COUNT} succeeded`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const calls = sim.journal.list({ host: 'defender', since: journalSince });
    const isolates = calls.filter((e) => e.method === 'POST' && e.path.endsWith('/isolate'));
    const throttled = calls.filter((e) => e.status === 429).length;
    const accepted = isolates
      .filter((e) => e.status === 201)
      .map((e) => Date.parse(e.time))
      .sort((a, b) => a - b);
    // Busiest simulated minute of accepted isolate calls (must be ≤ 100).
    let busiestMinute = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (accepted[i] - accepted[j] >= 60_000) j++;
      busiestMinute = Math.max(busiestMinute, i - j + 1);
    }
    const minimumSeconds = (Math.ceil(COUNT / 100) - 1) * 60 + (PENDING_MS + IN_PROGRESS_MS) / 1000;
    const completionSeconds = simSeconds(finishedAt - started);
    return {
      devices: COUNT,
      timeScale: SCALE,
      completionSimSeconds: Number(completionSeconds.toFixed(1)),
      minimumSimSeconds: minimumSeconds,
      ratio: Number((completionSeconds / minimumSeconds).toFixed(3)),
      responses429: throttled,
      // When (simulated seconds after the first request) Defender answered 429, if ever.
      throttledAtSimSeconds: calls.filter((e) => e.status === 429).map((e) => Number(((Date.parse(e.time) - Date.parse(calls[0].time)) / 1000).toFixed(1))),
      isolateCalls: isolates.length,
      busiestSimMinute: busiestMinute,
      firstToLastIsolateSimSeconds: Number(((accepted[accepted.length - 1] - accepted[0]) / 1000).toFixed(1)),
      admissionRealSeconds: Number(((admittedAt - started) / 1000).toFixed(2)),
      mostQueuedWaitingForCapacity: mostWaiting,
      statusReadCalls: calls.filter((e) => e.method === 'GET' && e.path === '/api/machineactions').length,
      realSeconds: Number(((finishedAt - started) / 1000).toFixed(1)),
    };
  } finally {
    await bench.close();
    await sim.stop();
  }
}
