import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { SimTenantInfo } from '../test/m365-simulator/src';
import { DEMO, demoScenario } from '../test/m365-simulator/src/demo-scenario';
import type { SimUser } from '../test/m365-simulator/src/types';
import { ownCpuMs, PhaseTotals, userId, type JournalCall, type LoadParams, type LoadResult, type PhaseMark, type Side } from './actions-load';
import { percentile, startBenchApp } from './bench-app';
import { expectOk, send } from './bench-http';
import { type SimInfo, startSimulatorProcess, stopProcess } from './sim-process';

const ROOT = join(__dirname, '..');
/** Generated target users: Cordon's and the baseline's are disjoint, so both see the same starting state. */
const PREFIXES: Record<Side, string> = { cordon: 'c0de0000', baseline: 'ba5e0000' };
const USER_ID = new RegExp(`\\b(${PREFIXES.cordon}|${PREFIXES.baseline})-0000-4000-8000-\\d{12}\\b`);

function generatedUsers(prefix: string, count: number, now: number): SimUser[] {
  return Array.from({ length: count }, (_, n) => ({
    id: userId(prefix, n),
    userPrincipalName: `bench-${prefix}-${n}@${DEMO.contoso.vanityDomain}`,
    displayName: `Bench user ${prefix} ${n}`,
    accountEnabled: true,
    userType: 'Member' as const,
    directoryRoles: [],
    memberOf: [],
    signInSessionsValidFromDateTime: new Date(now - 86_400_000).toISOString(),
    riskLevel: 'medium' as const,
    riskState: 'atRisk' as const,
    riskDetail: 'none',
    riskLastUpdatedDateTime: new Date(now - 3_600_000).toISOString(),
  }));
}

/**
 * The demo scenario with `users` generated users per side added to Contoso, written as JSON for the
 * simulator's `--scenario`. Graph throttling is off: this measures Cordon, not Microsoft's budgets.
 */
function writeScenario(dir: string, users: number): string {
  const scenario = demoScenario();
  scenario.graph = { ...scenario.graph, throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } };
  const contoso = scenario.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
  const now = Date.now();
  contoso.users = [...(contoso.users ?? []), ...generatedUsers(PREFIXES.cordon, users, now), ...generatedUsers(PREFIXES.baseline, users, now)];
  const path = join(dir, 'scenario.json');
  writeFileSync(path, JSON.stringify(scenario));
  return path;
}

/** The load generator (actions-load.ts) in its own process: answers its phase marks, parses its result. */
function runLoad(params: LoadParams, onMark: (m: PhaseMark) => void): { child: ChildProcess; result: Promise<LoadResult> } {
  const child = spawn(process.execPath, ['--experimental-vm-modules', '-r', '@swc-node/register', 'bench/actions-load.ts', JSON.stringify(params)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.on('message', (m: PhaseMark) => {
    onMark(m);
    child.send('ok');
  });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadResult)
        : reject(new Error(`the load generator exited with ${code ?? signal}`)),
    );
  });
  return { child, result };
}

/** /proc counts CPU time in ticks of USER_HZ, which is 100 for every user-space ABI. */
const TICK_MS = 10;

/**
 * CPU time (user + system, ms) of a process and its descendants, from /proc: the simulator runs in a
 * node child of tsx's. NaN (null in the report) where there is no /proc.
 */
function treeCpuMs(root: number): number {
  let procs: Array<{ pid: number; ppid: number; ticks: number }>;
  try {
    procs = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((pid) => {
        try {
          // Fields after the command name, which may hold spaces and parentheses: state ppid … utime(14) stime(15).
          const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
            .replace(/^.*\) /s, '')
            .split(' ');
          return [{ pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
        } catch {
          return []; // exited meanwhile
        }
      });
  } catch {
    return NaN;
  }
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!tree.has(p.pid) && tree.has(p.ppid)) grew = Boolean(tree.add(p.pid));
  }
  return procs.filter((p) => tree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) * TICK_MS;
}

/** CPU time (user + system, ms) of every PostgreSQL process on this machine (command name `postgres`). */
function postgresCpuMs(): number {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .reduce((sum, pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          if (!stat.includes(' (postgres) ')) return sum;
          const f = stat.replace(/^.*\) /s, '').split(' ');
          return sum + (Number(f[11]) + Number(f[12])) * TICK_MS;
        } catch {
          return sum; // exited meanwhile
        }
      }, 0);
  } catch {
    return NaN;
  }
}

/** CPU time (ms) the whole machine spent busy, all cores, idle and I/O wait excluded (/proc/stat). */
function machineCpuMs(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) * TICK_MS;
  } catch {
    return NaN;
  }
}

/**
 * Floors under the added latency that no change to Cordon's own code can go below on this machine.
 * With `concurrency` requests always in flight and no pause between them (a closed loop), the mean
 * latency is concurrency / throughput (Little's law), and the throughput cannot exceed the cores
 * divided by the CPU time each action costs the machine. Counted from what the other processes
 * (simulator, PostgreSQL, load generator) used per action during Cordon's phases: `cordonFree` if
 * Cordon's process used no CPU at all; `cordonAsBaselineClient` if it used only what the baseline
 * script's process spends on the same Graph calls (Cordon adding nothing of its own). Lower bounds
 * of the mean.
 */
function addedLatencyFloors(
  cordonPhases: { simulator: number; postgres: number; loadGenerator: number },
  baselineClientMs: number,
  actions: number,
  concurrency: number,
  baselineMeanMs: number,
) {
  const others = (cordonPhases.simulator + cordonPhases.postgres + cordonPhases.loadGenerator) / actions;
  const floor = (cpuPerAction: number) =>
    Number.isFinite(cpuPerAction) ? round(Math.max(0, (concurrency * cpuPerAction) / availableParallelism() - baselineMeanMs)) : null;
  return { cordonFree: floor(others), cordonAsBaselineClient: floor(others + baselineClientMs / actions) };
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: Number(sorted[sorted.length - 1].toFixed(2)),
    mean: Number((sorted.reduce((s, v) => s + v, 0) / sorted.length).toFixed(2)),
  };
};
const round = (n: number) => Number(n.toFixed(2));

/** The Graph calls of one user's isolate, in order of arrival at the simulator. */
function callsByUser(entries: JournalCall[]): Map<string, JournalCall[]> {
  const byUser = new Map<string, JournalCall[]>();
  for (const e of entries) {
    if (e.host !== 'graph') continue;
    const m = USER_ID.exec(`${e.path} ${e.body ?? ''}`);
    if (!m) continue;
    const list = byUser.get(m[0]) ?? byUser.set(m[0], []).get(m[0])!;
    list.push(e);
  }
  for (const list of byUser.values()) list.sort((a, b) => a.seq - b.seq);
  return byUser;
}

const callName = (e: JournalCall) =>
  `${e.method} ${e.path.replace(USER_ID, '{id}')}${e.query.includes('select') ? `?${decodeURIComponent(e.query).replace(/^.*\$select=/, '$select=')}` : ''}`;

/** Median gap between the arrivals of consecutive Graph calls of one action, per position (where the time goes). */
function gaps(byUser: Map<string, JournalCall[]>, ids: string[]): Array<{ between: string; p50: number; p99: number }> {
  const first = byUser.get(ids[0]) ?? [];
  return first.slice(1).map((e, i) => {
    const values = ids
      .map((id) => byUser.get(id)!)
      .filter((l) => l.length === first.length)
      .map((l) => Date.parse(l[i + 1].time) - Date.parse(l[i].time));
    const s = stats(values);
    return { between: `${callName(first[i])} → ${callName(e)}`, p50: s.p50, p99: s.p99 };
  });
}

/** How far the simulator's clock (journal times) is ahead of real time. */
async function simClockOffset(info: SimInfo): Promise<number> {
  const agent = new HttpsAgent({ ca: readFileSync(info.caCertPath, 'utf8') });
  try {
    return (JSON.parse((await expectOk(send(agent, `${info.baseUrls.graph}/_sim/clock`, 'GET', {}), 'clock')).body) as { offsetMs: number }).offsetMs;
  } finally {
    agent.destroy();
  }
}

/** Registers the tenant with an empty policy, probes it, and makes a responder key for the load. */
async function registerTenant(http: HttpAgent, base: string, adminKey: string, info: SimTenantInfo): Promise<LoadParams['cordon']> {
  const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const tenant = JSON.parse(
    (
      await expectOk(
        send(
          http,
          `${base}/v1/tenants`,
          'POST',
          admin,
          JSON.stringify({
            displayName: info.displayName,
            tenantId: info.tenantId,
            cloud: 'global',
            clientId: info.clientId,
            credential: { type: 'secret', secret: info.clientSecret },
          }),
        ),
        'register tenant',
      )
    ).body,
  ) as { id: string };
  await expectOk(
    send(
      http,
      `${base}/v1/tenants/${tenant.id}/policy`,
      'PUT',
      admin,
      JSON.stringify({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} }),
    ),
    'policy',
  );
  const caps = JSON.parse((await expectOk(send(http, `${base}/v1/tenants/${tenant.id}/capabilities/refresh`, 'POST', admin, '{}'), 'probe')).body) as {
    connection: string;
  };
  if (caps.connection !== 'connected') throw new Error(`tenant did not connect: ${JSON.stringify(caps)}`);
  const responder = JSON.parse(
    (await expectOk(send(http, `${base}/v1/api-keys`, 'POST', admin, JSON.stringify({ name: 'bench responder', roles: ['responder'] })), 'api key')).body,
  ) as { key: string };
  return { base, tenantId: tenant.id, responderKey: responder.key };
}

/**
 * bench/actions: BENCH_ACTIONS (default 1,000) user.isolate actions, BENCH_CONCURRENCY (default 50) at
 * a time, against the simulator with zero latency, each with `Prefer: wait=60`; the baseline makes the
 * same Graph calls for as many other users directly. Only Cordon runs in this process: the simulator
 * and the load generator (Cordon's client and the baseline script, bench/actions-load.ts) each run in
 * their own, so the figures are not mixed with their CPU. Reports Cordon's end-to-end and added
 * latency (quantile by quantile), request-to-first-Graph-call from the simulator's journal, and the
 * CPU time each process spent during the measured phases of each side.
 */
export async function actionsBench(): Promise<Record<string, unknown>> {
  const total = Number(process.env.BENCH_ACTIONS ?? 1000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
  const warmup = Math.min(100, total);
  const dir = mkdtempSync(join(tmpdir(), 'cordon-actions-'));
  // Stopped in this order whatever happens: the load, Cordon, the simulator.
  let loadChild: ChildProcess | undefined;
  let close = async () => undefined as void;
  let simChild: ChildProcess | undefined;
  const http = new HttpAgent({ keepAlive: true });
  try {
    const sim = await startSimulatorProcess(writeScenario(dir, warmup + total), dir);
    simChild = sim.child;
    const env: Record<string, string> = { CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.info.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.info.caCertPath };
    if (process.env.BENCH_MICROSOFT_CONCURRENCY) env.CORDON_MICROSOFT_CONCURRENCY = process.env.BENCH_MICROSOFT_CONCURRENCY;
    const bench = await startBenchApp(env);
    close = bench.close;
    const { app, base, adminKey } = bench;

    const info = sim.info.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
    const cordonParams = await registerTenant(http, base, adminKey, info);

    // Server-side arrival of each isolate request (the 'request' event, before Fastify routes it).
    const received = new Map<string, number>();
    app.getHttpServer().prependListener('request', (req: IncomingMessage) => {
      const m = req.method === 'POST' ? USER_ID.exec(req.url ?? '') : null;
      if (m) received.set(m[0], Date.now());
    });

    const cpu = new PhaseTotals(() => ({ cordon: ownCpuMs(), simulator: treeCpuMs(sim.child.pid!), postgres: postgresCpuMs(), machine: machineCpuMs() }));
    const load = runLoad(
      {
        cordon: cordonParams,
        simulator: {
          baseUrls: sim.info.baseUrls,
          caCertPath: sim.info.caCertPath,
          tenantId: info.tenantId,
          clientId: info.clientId,
          clientSecret: info.clientSecret!,
        },
        prefixes: PREFIXES,
        total,
        warmup,
        concurrency,
      },
      (m) => cpu.mark(m),
    );
    loadChild = load.child;
    const result = await load.result;

    // Correlate with the journal.
    const offset = await simClockOffset(sim.info);
    const byUser = callsByUser(result.journal);
    const cordonIds = Array.from({ length: total }, (_, i) => userId(PREFIXES.cordon, i));
    const baselineIds = Array.from({ length: total }, (_, i) => userId(PREFIXES.baseline, i));
    const sequence = (id: string) => (byUser.get(id) ?? []).map(callName);
    const sameCalls = cordonIds.every((id, i) => JSON.stringify(sequence(id)) === JSON.stringify(sequence(baselineIds[i])));
    const arrival = (e: JournalCall) => Date.parse(e.time) - offset;
    const times = (id: string) => result.cordon[id];
    const receivedToFirst = cordonIds.map((id) => arrival(byUser.get(id)![0]) - received.get(id)!);
    const sentToFirst = cordonIds.map((id) => arrival(byUser.get(id)![0]) - times(id).sentAt);
    const lastToAnswer = cordonIds.map((id) => times(id).sentAt + times(id).ms - arrival(byUser.get(id)!.at(-1)!));
    const cordon = stats(cordonIds.map((id) => times(id).ms));
    const direct = stats(baselineIds.map((id) => result.baseline[id]));
    const auditEntries = Number((await app.get(DataSource).query(`SELECT count(*)::int AS n FROM audit_log WHERE event LIKE 'action.%'`))[0].n);
    const cpuMs = (side: Side) => {
      const { cordon: own, simulator, postgres, machine } = cpu.totals[side];
      const { loadGenerator } = result.cpuMs[side];
      return { wall: round(result.wallMs[side]), cordon: round(own), simulator, postgres, loadGenerator: round(loadGenerator), machine };
    };

    return {
      actions: total,
      concurrency,
      microsoftConcurrency: process.env.BENCH_MICROSOFT_CONCURRENCY ? Number(process.env.BENCH_MICROSOFT_CONCURRENCY) : 'default',
      notFinalWithin60s: Object.values(result.cordon).filter((t) => t.late).length,
      graphCallsPerAction: sequence(cordonIds[0]).length,
      sameCalls,
      calls: sequence(cordonIds[0]),
      throughputPerSecond: { cordon: round(total / (result.wallMs.cordon / 1000)), baseline: round(total / (result.wallMs.baseline / 1000)) },
      cordonMs: cordon,
      baselineMs: direct,
      addedMs: { p50: round(cordon.p50 - direct.p50), p99: round(cordon.p99 - direct.p99), mean: round(cordon.mean - direct.mean) },
      requestToFirstGraphCallMs: stats(receivedToFirst),
      clientSendToFirstGraphCallMs: stats(sentToFirst),
      lastGraphCallToAnswerMs: stats(lastToAnswer),
      gapsMs: { cordon: gaps(byUser, cordonIds), baseline: gaps(byUser, baselineIds) },
      auditEntriesPerAction: round(auditEntries / (total + warmup)),
      // CPU time (ms) per process while each side's measured phases ran, next to their wall time, and
      // all cores of the machine (the remainder is the kernel's own work and other processes).
      cpuMs: { cordonPhases: cpuMs('cordon'), baselinePhases: cpuMs('baseline') },
      addedMeanMsFloor: addedLatencyFloors(cpuMs('cordon'), result.cpuMs.baseline.loadGenerator, total, concurrency, direct.mean),
      loadAverage: result.loadAverage,
    };
  } finally {
    if (loadChild) await stopProcess(loadChild);
    http.destroy();
    await close();
    if (simChild) await stopProcess(simChild);
    rmSync(dir, { recursive: true, force: true });
  }
}
