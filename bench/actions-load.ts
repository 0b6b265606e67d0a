import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { loadavg } from 'node:os';
import type { JournalEntry } from '../test/m365-simulator/src/journal';
import { expectOk, send } from './bench-http';

/**
 * The load of bench/actions (actions.bench.ts), in a process of its own so that the CPU it spends
 * making requests is not taken from Cordon's event loop: Cordon's client (user.isolate with
 * `Prefer: wait=60`) and the baseline script (the same Graph calls made directly). After every phase
 * it copies the simulator's journal, and at the end prints one LoadResult as JSON on stdout.
 *
 * Run as `node --experimental-vm-modules -r @swc-node/register bench/actions-load.ts '<LoadParams>'`.
 * Under a parent with an IPC channel, each measured phase is bracketed by PhaseMark messages that
 * the parent answers once it has sampled its own CPU.
 */

export type Side = 'cordon' | 'baseline';

/** Generated target users: `userId(prefix, n)`, one prefix per side so both sides start from the same state. */
export const userId = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;

export interface LoadParams {
  /** Cordon's API, the tenant registered there and a responder key. */
  cordon: { base: string; tenantId: string; responderKey: string };
  /** The simulator, and the Entra app the baseline takes its one token for. */
  simulator: { baseUrls: Record<string, string>; caCertPath: string; tenantId: string; clientId: string; clientSecret: string };
  prefixes: Record<Side, string>;
  /** Measured users per side are n in [0, total); warm-up users are n in [total, total + warmup). */
  total: number;
  warmup: number;
  concurrency: number;
}

/** The journal fields the report reads. */
export type JournalCall = Pick<JournalEntry, 'seq' | 'time' | 'host' | 'method' | 'path' | 'query' | 'body'>;

export interface LoadResult {
  /** Per user: when the isolate request was sent (epoch ms), its duration, and whether it needed polling (not final within wait=60). */
  cordon: Record<string, { sentAt: number; ms: number; late: boolean }>;
  /** Per user: duration of the baseline's calls, in ms. */
  baseline: Record<string, number>;
  /** Every request the simulator journaled during the run (its simulated clock). */
  journal: JournalCall[];
  /** Wall time of the measured phases, per side. */
  wallMs: Record<Side, number>;
  /** This process's CPU time during the measured phases, per side. */
  cpuMs: Record<Side, { loadGenerator: number }>;
  loadAverage: { start: number[]; end: number[] };
}

export interface PhaseMark {
  side: Side;
  at: 'start' | 'end';
}

/** Sums, per side, how much each sampled counter grew between the start and end marks of measured phases. */
export class PhaseTotals<K extends string> {
  readonly totals: Record<Side, Record<K, number>> = { cordon: {} as Record<K, number>, baseline: {} as Record<K, number> };
  private atStart?: Record<K, number>;

  constructor(private readonly sample: () => Record<K, number>) {}

  mark({ side, at }: PhaseMark): void {
    const now = this.sample();
    if (at === 'start') {
      this.atStart = now;
      return;
    }
    for (const key of Object.keys(now) as K[]) this.totals[side][key] = (this.totals[side][key] ?? 0) + now[key] - this.atStart![key];
  }
}

/** User and system CPU time of this process, in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const round = (n: number) => Number(n.toFixed(2));
const FINAL = ['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'];
const USER_SELECT = 'id,userPrincipalName,displayName,accountEnabled,userType,signInSessionsValidFromDateTime';
/**
 * Actions between two reads of the journal: about ten requests each, so half of the simulator's ring
 * of 10,000 requests. Phases of up to this many actions (the defaults) run in one piece.
 */
const JOURNAL_CHUNK = 500;

/** Runs `work(i)` for i in [0, count) with `concurrency` workers; returns the wall time in ms. */
async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return performance.now() - started;
}

/** Cordon's client: one user.isolate, polled until final when it is not within `Prefer: wait=60`. */
async function cordonIsolate(cordon: LoadParams['cordon'], agent: HttpAgent, id: string): Promise<LoadResult['cordon'][string]> {
  const auth = { authorization: `Bearer ${cordon.responderKey}` };
  const sentAt = Date.now();
  const started = performance.now();
  const r = await send(
    agent,
    `${cordon.base}/v1/tenants/${cordon.tenantId}/users/${id}/isolate`,
    'POST',
    { ...auth, prefer: 'wait=60', 'content-type': 'application/json' },
    JSON.stringify({ reason: 'bench: isolate' }),
  );
  let body = JSON.parse(r.body) as { id?: string; status?: string };
  const late = r.status === 202 && Boolean(body.id);
  if (late) {
    while (!FINAL.includes(body.status ?? '')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      body = JSON.parse((await send(agent, `${cordon.base}/v1/actions/${body.id}`, 'GET', auth)).body) as typeof body;
    }
  } else if (r.status !== 200) {
    throw new Error(`isolate ${id}: ${r.status} ${r.body.slice(0, 500)}`);
  }
  const ms = performance.now() - started;
  if (body.status !== 'succeeded') throw new Error(`isolate ${id}: ${body.status} ${JSON.stringify(body).slice(0, 500)}`);
  return { sentAt, ms, late };
}

async function baselineToken(sim: LoadParams['simulator'], agent: HttpsAgent): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: sim.clientId,
    client_secret: sim.clientSecret,
    scope: `${sim.baseUrls.graph}/.default`,
  });
  const reply = await expectOk(
    send(agent, `${sim.baseUrls.login}/${sim.tenantId}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString()),
    'token',
  );
  return (JSON.parse(reply.body) as { access_token: string }).access_token;
}

/**
 * The baseline: the Graph calls Cordon makes for one user.isolate (resolve: user + memberOf; disable:
 * read, PATCH, read back; revoke: read, POST, read back; confirm: POST, read back), straight from a
 * script with one token and a keep-alive agent, nothing recorded anywhere.
 */
async function baselineIsolate(graph: string, agent: HttpsAgent, token: string, id: string): Promise<void> {
  const h = (cid: string) => ({ authorization: `Bearer ${token}`, accept: 'application/json', 'client-request-id': cid });
  const cid = randomUUID();
  const get = (path: string) => expectOk(send(agent, `${graph}/v1.0${path}`, 'GET', h(cid)), `GET ${path}`);
  const user = JSON.parse((await get(`/users/${id}?$select=${USER_SELECT}`)).body) as { id: string };
  await get(`/users/${user.id}/memberOf?$select=id,displayName`);
  // disable-sign-in
  const before = JSON.parse((await get(`/users/${id}?$select=id,accountEnabled`)).body) as { accountEnabled: boolean };
  if (before.accountEnabled) await expectOk(send(agent, `${graph}/v1.0/users/${id}`, 'PATCH', h(cid), JSON.stringify({ accountEnabled: false })), 'PATCH user');
  await get(`/users/${id}?$select=id,accountEnabled`);
  // revoke-sessions
  await get(`/users/${id}?$select=id,signInSessionsValidFromDateTime`);
  await expectOk(send(agent, `${graph}/v1.0/users/${id}/revokeSignInSessions`, 'POST', h(cid), '{}'), 'revokeSignInSessions');
  await get(`/users/${id}?$select=id,signInSessionsValidFromDateTime`);
  // confirm-compromised
  await expectOk(
    send(agent, `${graph}/v1.0/identityProtection/riskyUsers/confirmCompromised`, 'POST', h(cid), JSON.stringify({ userIds: [id] })),
    'confirmCompromised',
  );
  await get(`/identityProtection/riskyUsers/${id}`);
}

/**
 * A copy of the simulator's journal (`GET /_sim/journal?since=`, served on every host), kept as it
 * grows. The journal is a ring of the last 10,000 requests: a gap in the sequence numbers means it
 * wrapped between two reads, and fails the run rather than correlating with missing calls.
 */
class JournalCopy {
  readonly calls: JournalCall[] = [];
  private lastSeq = 0;

  constructor(
    private readonly base: string,
    private readonly agent: HttpsAgent,
  ) {}

  async read(): Promise<void> {
    const reply = await expectOk(send(this.agent, `${this.base}/_sim/journal?since=${this.lastSeq}`, 'GET', {}), 'journal');
    const { lastSeq, entries } = JSON.parse(reply.body) as { lastSeq: number; entries: JournalEntry[] };
    if (entries.length && entries[0].seq !== this.lastSeq + 1)
      throw new Error(`the simulator's journal lost ${entries[0].seq - this.lastSeq - 1} requests between two reads`);
    for (const { seq, time, host, method, path, query, body } of entries) this.calls.push({ seq, time, host, method, path, query, body });
    this.lastSeq = lastSeq;
  }
}

/** Marks a measured phase here and, over IPC, in the parent, waiting for its answer so that both sample at that point. */
async function mark(m: PhaseMark, own: PhaseTotals<'loadGenerator'>): Promise<void> {
  own.mark(m);
  const toParent = process.send?.bind(process);
  if (!toParent) return;
  await new Promise((resolve) => {
    process.once('message', resolve);
    toParent(m);
  });
}

/**
 * Warm-up of both sides (JIT, connections, pools), then the measured runs in two alternating halves
 * (baseline, Cordon, baseline, Cordon) so that background load on the machine falls on both alike.
 */
async function runLoad(params: LoadParams, http: HttpAgent, graphAgent: HttpsAgent): Promise<LoadResult> {
  const { total, warmup, concurrency, prefixes } = params;
  const start = loadavg().map(round);
  const journal = new JournalCopy(params.simulator.baseUrls.graph, graphAgent);
  const token = await baselineToken(params.simulator, graphAgent);
  const cordon: LoadResult['cordon'] = {};
  const baseline: LoadResult['baseline'] = {};
  const act: Record<Side, (id: string) => Promise<void>> = {
    cordon: async (id) => {
      cordon[id] = await cordonIsolate(params.cordon, http, id);
    },
    baseline: async (id) => {
      const started = performance.now();
      await baselineIsolate(params.simulator.baseUrls.graph, graphAgent, token, id);
      baseline[id] = performance.now() - started;
    },
  };
  const cpu = new PhaseTotals(() => ({ loadGenerator: ownCpuMs() }));
  const wallMs: Record<Side, number> = { cordon: 0, baseline: 0 };
  const phase = async (side: Side, from: number, to: number, measured: boolean) => {
    for (let first = from; first < to; first += JOURNAL_CHUNK) {
      const count = Math.min(JOURNAL_CHUNK, to - first);
      if (measured) await mark({ side, at: 'start' }, cpu);
      const wall = await pool(count, concurrency, (i) => act[side](userId(prefixes[side], first + i)));
      if (measured) {
        await mark({ side, at: 'end' }, cpu);
        wallMs[side] += wall;
      }
      await journal.read();
    }
  };

  await phase('baseline', total, total + warmup, false);
  await phase('cordon', total, total + warmup, false);
  const half = Math.floor(total / 2);
  for (const [from, to] of [
    [0, half],
    [half, total],
  ]) {
    await phase('baseline', from, to, true);
    await phase('cordon', from, to, true);
  }
  return { cordon, baseline, journal: journal.calls, wallMs, cpuMs: cpu.totals, loadAverage: { start, end: loadavg().map(round) } };
}

async function main(): Promise<void> {
  if (!process.argv[2]) throw new Error('usage: actions-load.ts <LoadParams as JSON>');
  const params = JSON.parse(process.argv[2]) as LoadParams;
  const http = new HttpAgent({ keepAlive: true });
  const graphAgent = new HttpsAgent({ keepAlive: true, ca: readFileSync(params.simulator.caCertPath, 'utf8') });
  try {
    const result = await runLoad(params, http, graphAgent);
    await new Promise<void>((resolve, reject) => process.stdout.write(`${JSON.stringify(result)}\n`, (e) => (e ? reject(e) : resolve())));
  } finally {
    http.destroy();
    graphAgent.destroy();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`actions-load: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
