import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataSource } from 'typeorm';
import { startSimulator, type RunningSimulator } from '../test/m365-simulator/src';
import { DEMO, demoScenario } from '../test/m365-simulator/src/demo-scenario';
import type { JournalEntry } from '../test/m365-simulator/src/journal';
import type { Scenario, SimUser } from '../test/m365-simulator/src/types';
import { percentile, startBenchApp } from './bench-app';

/** Generated target users: Cordon's and the baseline's are disjoint, so both see the same starting state. */
const CORDON_PREFIX = 'c0de0000';
const BASELINE_PREFIX = 'ba5e0000';
const userId = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;
const USER_ID = /\b(c0de0000|ba5e0000)-0000-4000-8000-\d{12}\b/;
const USER_SELECT = 'id,userPrincipalName,displayName,accountEnabled,userType,signInSessionsValidFromDateTime';

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

interface Reply {
  status: number;
  body: string;
}

function send(agent: HttpAgent | HttpsAgent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-type': headers['content-type'] ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function expectOk(reply: Promise<Reply>, what: string, statuses = [200, 201, 204]): Promise<Reply> {
  const r = await reply;
  if (!statuses.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 500)}`);
  return r;
}

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
  await expectOk(send(agent, `${graph}/v1.0/identityProtection/riskyUsers/confirmCompromised`, 'POST', h(cid), JSON.stringify({ userIds: [id] })), 'confirmCompromised');
  await get(`/identityProtection/riskyUsers/${id}`);
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: Number(sorted[sorted.length - 1].toFixed(2)), mean: Number((sorted.reduce((s, v) => s + v, 0) / sorted.length).toFixed(2)) };
};
const round = (n: number) => Number(n.toFixed(2));

/** The Graph calls of one user's isolate, in order of arrival at the simulator. */
function callsByUser(entries: JournalEntry[]): Map<string, JournalEntry[]> {
  const byUser = new Map<string, JournalEntry[]>();
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

const callName = (e: JournalEntry) => `${e.method} ${e.path.replace(USER_ID, '{id}')}${e.query.includes('select') ? `?${decodeURIComponent(e.query).replace(/^.*\$select=/, '$select=')}` : ''}`;

/** Median gap between the arrivals of consecutive Graph calls of one action, per position (where the time goes). */
function gaps(byUser: Map<string, JournalEntry[]>, ids: string[]): Array<{ between: string; p50: number; p99: number }> {
  const first = byUser.get(ids[0]) ?? [];
  return first.slice(1).map((e, i) => {
    const values = ids.map((id) => byUser.get(id)!).filter((l) => l.length === first.length).map((l) => Date.parse(l[i + 1].time) - Date.parse(l[i].time));
    const s = stats(values);
    return { between: `${callName(first[i])} → ${callName(e)}`, p50: s.p50, p99: s.p99 };
  });
}

/**
 * bench/actions: BENCH_ACTIONS (default 1,000) user.isolate actions, BENCH_CONCURRENCY (default 50) at
 * a time, against the simulator with zero latency, each with `Prefer: wait=60`; the baseline makes the
 * same Graph calls for as many other users directly. Reports Cordon's end-to-end and added latency
 * (quantile by quantile), and request-to-first-Graph-call from the simulator's journal.
 */
export async function actionsBench(): Promise<Record<string, unknown>> {
  const total = Number(process.env.BENCH_ACTIONS ?? 1000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
  const warmup = Math.min(100, total);
  const load: { start: number[]; end?: number[] } = { start: loadavg().map(round) };

  const scenario = demoScenario() as Scenario;
  scenario.graph = { ...(scenario.graph ?? {}), throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } } as never;
  const contoso = scenario.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
  const now = Date.now();
  contoso.users = [...(contoso.users ?? []), ...generatedUsers(CORDON_PREFIX, warmup + total, now), ...generatedUsers(BASELINE_PREFIX, warmup + total, now)];
  const sim: RunningSimulator = await startSimulator({ quiet: true, scenario });
  // The journal keeps the last 10,000 requests; keep every one for the correlation.
  const journal: JournalEntry[] = [];
  const add = sim.journal.add.bind(sim.journal);
  sim.journal.add = (entry) => {
    const full = add(entry);
    journal.push(full);
    return full;
  };

  const env: Record<string, string> = { CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.caCertPath };
  if (process.env.BENCH_MICROSOFT_CONCURRENCY) env.CORDON_MICROSOFT_CONCURRENCY = process.env.BENCH_MICROSOFT_CONCURRENCY;
  const { app, base, adminKey, close } = await startBenchApp(env);
  const http = new HttpAgent({ keepAlive: true });
  const graphAgent = new HttpsAgent({ keepAlive: true, ca: sim.caCertPem });
  try {
    // Register the tenant, an empty policy, the probe, and a responder key.
    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const info = sim.tenants.find((t) => t.tenantId === DEMO.contoso.tenantId)!;
    const tenant = JSON.parse((await expectOk(send(http, `${base}/v1/tenants`, 'POST', admin, JSON.stringify({ displayName: info.displayName, tenantId: info.tenantId, cloud: 'global', clientId: info.clientId, credential: { type: 'secret', secret: info.clientSecret } })), 'register tenant')).body) as { id: string };
    await expectOk(send(http, `${base}/v1/tenants/${tenant.id}/policy`, 'PUT', admin, JSON.stringify({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })), 'policy');
    const caps = JSON.parse((await expectOk(send(http, `${base}/v1/tenants/${tenant.id}/capabilities/refresh`, 'POST', admin, '{}'), 'probe')).body) as { connection: string };
    if (caps.connection !== 'connected') throw new Error(`tenant did not connect: ${JSON.stringify(caps)}`);
    const responder = JSON.parse((await expectOk(send(http, `${base}/v1/api-keys`, 'POST', admin, JSON.stringify({ name: 'bench responder', roles: ['responder'] })), 'api key')).body) as { key: string };

    // Server-side arrival of each isolate request (the 'request' event, before Fastify routes it).
    const received = new Map<string, number>();
    app.getHttpServer().prependListener('request', (req: IncomingMessage) => {
      const m = req.method === 'POST' ? USER_ID.exec(req.url ?? '') : null;
      if (m) received.set(m[0], Date.now());
    });

    const cordonTimes = new Map<string, { sentAt: number; ms: number }>();
    let late = 0;
    const cordonIsolate = async (id: string) => {
      const sentAt = Date.now();
      const started = performance.now();
      const r = await send(http, `${base}/v1/tenants/${tenant.id}/users/${id}/isolate`, 'POST', { authorization: `Bearer ${responder.key}`, prefer: 'wait=60', 'content-type': 'application/json' }, JSON.stringify({ reason: 'bench: isolate' }));
      let body = JSON.parse(r.body) as { id?: string; status?: string };
      if (r.status === 202 && body.id) {
        // Not final within Prefer: wait=60: counted, and timed by polling until it is.
        late++;
        while (!['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'].includes(body.status ?? '')) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          body = JSON.parse((await send(http, `${base}/v1/actions/${body.id}`, 'GET', { authorization: `Bearer ${responder.key}` })).body) as typeof body;
        }
      } else if (r.status !== 200) {
        throw new Error(`isolate ${id}: ${r.status} ${r.body.slice(0, 500)}`);
      }
      const ms = performance.now() - started;
      if (body.status !== 'succeeded') throw new Error(`isolate ${id}: ${body.status} ${JSON.stringify(body).slice(0, 500)}`);
      cordonTimes.set(id, { sentAt, ms });
    };

    const token = (JSON.parse((await expectOk(send(graphAgent, `${sim.baseUrls.login}/${info.tenantId}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: 'client_credentials', client_id: info.clientId, client_secret: info.clientSecret!, scope: `${sim.baseUrls.graph}/.default` }).toString()), 'token')).body) as { access_token: string }).access_token;
    const baselineTimes = new Map<string, number>();
    const baseline = async (id: string) => {
      const started = performance.now();
      await baselineIsolate(sim.baseUrls.graph, graphAgent, token, id);
      baselineTimes.set(id, performance.now() - started);
    };

    // Warm-up (JIT, connections, pools), then the measured runs in two alternating halves so that
    // background load on the machine falls on both alike.
    await pool(warmup, concurrency, (i) => baseline(userId(BASELINE_PREFIX, total + i)));
    await pool(warmup, concurrency, (i) => cordonIsolate(userId(CORDON_PREFIX, total + i)));
    const half = Math.floor(total / 2);
    let baselineWall = 0;
    let cordonWall = 0;
    for (const [from, to] of [[0, half], [half, total]]) {
      baselineWall += await pool(to - from, concurrency, (i) => baseline(userId(BASELINE_PREFIX, from + i)));
      cordonWall += await pool(to - from, concurrency, (i) => cordonIsolate(userId(CORDON_PREFIX, from + i)));
    }
    load.end = loadavg().map(round);

    // Correlate with the journal.
    const offset = sim.clock.offset();
    const byUser = callsByUser(journal);
    const cordonIds = Array.from({ length: total }, (_, i) => userId(CORDON_PREFIX, i));
    const baselineIds = Array.from({ length: total }, (_, i) => userId(BASELINE_PREFIX, i));
    const sequence = (id: string) => (byUser.get(id) ?? []).map(callName);
    const sameCalls = cordonIds.every((id, i) => JSON.stringify(sequence(id)) === JSON.stringify(sequence(baselineIds[i])));
    const arrival = (e: JournalEntry) => Date.parse(e.time) - offset;
    const receivedToFirst = cordonIds.map((id) => arrival(byUser.get(id)![0]) - received.get(id)!);
    const sentToFirst = cordonIds.map((id) => arrival(byUser.get(id)![0]) - cordonTimes.get(id)!.sentAt);
    const lastToAnswer = cordonIds.map((id) => cordonTimes.get(id)!.sentAt + cordonTimes.get(id)!.ms - arrival(byUser.get(id)!.at(-1)!));
    const cordon = stats(cordonIds.map((id) => cordonTimes.get(id)!.ms));
    const direct = stats(baselineIds.map((id) => baselineTimes.get(id)!));
    const auditEntries = Number((await app.get(DataSource).query(`SELECT count(*)::int AS n FROM audit_log WHERE event LIKE 'action.%'`))[0].n);

    return {
      actions: total,
      concurrency,
      microsoftConcurrency: process.env.BENCH_MICROSOFT_CONCURRENCY ? Number(process.env.BENCH_MICROSOFT_CONCURRENCY) : 'default',
      notFinalWithin60s: late,
      graphCallsPerAction: sequence(cordonIds[0]).length,
      sameCalls,
      calls: sequence(cordonIds[0]),
      throughputPerSecond: { cordon: round(total / (cordonWall / 1000)), baseline: round(total / (baselineWall / 1000)) },
      cordonMs: cordon,
      baselineMs: direct,
      addedMs: { p50: round(cordon.p50 - direct.p50), p99: round(cordon.p99 - direct.p99), mean: round(cordon.mean - direct.mean) },
      requestToFirstGraphCallMs: stats(receivedToFirst),
      clientSendToFirstGraphCallMs: stats(sentToFirst),
      lastGraphCallToAnswerMs: stats(lastToAnswer),
      gapsMs: { cordon: gaps(byUser, cordonIds), baseline: gaps(byUser, baselineIds) },
      auditEntriesPerAction: round(auditEntries / (total + warmup)),
      loadAverage: load,
    };
  } finally {
    http.destroy();
    graphAgent.destroy();
    await close();
    await sim.stop();
  }
}
