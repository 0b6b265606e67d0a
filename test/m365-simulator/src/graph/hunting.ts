/**
 * Advanced Hunting through Graph: `POST /v1.0/security/runHuntingQuery` `{Query, Timespan?}`
 * (microsoft-notes §10). Answers `{schema, results}` over generated tables (hunting-tables.ts) with a
 * KQL subset (hunting-kql.ts); data reaches back 30 days at most, a result holds 100,000 rows at most
 * (microsoft-notes M39), and a tenant may make 45 calls a minute and spend a CPU quota per 15-minute cycle, both
 * answered with 429 and a body saying which limit was hit (microsoft-notes M41). Needs ThreatHunting.Read.All and a
 * Defender XDR licence.
 */
import { hash32 } from '../ids';
import type { SimRequest, SimResponse, SimRoute, SimTenant } from '../types';
import { authorize, type GraphEnv } from './access';
import { graphError } from './errors';
import { evaluate, KqlError, parseDatetimeTicks, parseKql, timestampBounds } from './hunting-kql';
import { HUNTING_SCHEMAS, HUNTING_TABLES, HuntingData, TICKS_PER_MS } from './hunting-tables';

const ROLES = ['ThreatHunting.Read.All'];
const DAY_MS = 86_400_000;
const RETENTION_MS = 30 * DAY_MS;
const CYCLE_MS = 15 * 60_000;

export interface HuntingLimits {
  maxRows: number;
  callsPerMinute: number;
  cpuRowsPer15Minutes: number;
}

interface TenantHunting {
  data: HuntingData;
  /** Admitted call times (ms) in the last minute. */
  calls: number[];
  cycle: number;
  cpuUsed: number;
  counts: { queries: number; rowsReturned: number; throttledCalls: number; cpuBlocked: number; badRequests: number };
}

const perTenant = new WeakMap<SimTenant, TenantHunting>();

function limitsOf(env: GraphEnv): HuntingLimits {
  const o = env.ctx.scenario.graph?.hunting ?? {};
  return { maxRows: o.maxRows ?? 100_000, callsPerMinute: o.callsPerMinute ?? 45, cpuRowsPer15Minutes: o.cpuRowsPer15Minutes ?? 5_000_000 };
}

/** The tenant's hunting data and counters, created once (the history starts where the simulator did). */
export function huntingOf(env: Pick<GraphEnv, 'ctx'>, tenant: SimTenant): TenantHunting {
  let state = perTenant.get(tenant);
  if (!state) {
    const o = env.ctx.scenario.graph?.hunting ?? {};
    const nowMs = env.ctx.clock.nowMs();
    state = {
      data: new HuntingData(tenant, {
        seed: o.seed ?? hash32(tenant.tenantId),
        rowsPerHour: o.rowsPerHour ?? {},
        historyStartMs: nowMs - (o.historyDays ?? 30) * DAY_MS,
        lateFraction: o.lateFraction ?? 0.05,
        lateMs: (o.lateMinutes ?? 20) * 60_000,
      }),
      calls: [],
      cycle: Math.floor(nowMs / CYCLE_MS),
      cpuUsed: 0,
      counts: { queries: 0, rowsReturned: 0, throttledCalls: 0, cpuBlocked: 0, badRequests: 0 },
    };
    perTenant.set(tenant, state);
  }
  return state;
}

/** What `/_sim/state` shows: the counters, and per table the rows that arrived in [fromMs, toMs). */
export function huntingState(env: Pick<GraphEnv, 'ctx'>, tenant: SimTenant, fromMs: number, toMs: number) {
  const state = huntingOf(env, tenant);
  const nowMs = env.ctx.clock.nowMs();
  const rows = Object.fromEntries(HUNTING_TABLES.map((t) => [t, state.data.rows(t, fromMs, toMs, nowMs).length]));
  return {
    ...state.counts,
    cpuUsedThisCycle: state.cpuUsed,
    window: { from: new Date(fromMs).toISOString(), to: new Date(Math.min(toMs, nowMs)).toISOString() },
    rows,
  };
}

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text.toUpperCase() === 'P' || text.toUpperCase() === 'PT') return undefined;
  return Number(m[1] ?? 0) * DAY_MS + Number(m[2] ?? 0) * 3_600_000 + Number(m[3] ?? 0) * 60_000 + Number(m[4] ?? 0) * 1000;
}

function instantMs(text: string): number | undefined {
  const ticks = parseDatetimeTicks(text);
  return ticks === undefined ? undefined : Math.floor(ticks / TICKS_PER_MS);
}

/** The documented Timespan forms: `P30D`, `start/end`, `P30D/end`, `start/P30D`, or a start alone (to now). */
export function parseTimespan(text: string | undefined, nowMs: number): { fromMs: number; toMs: number } | undefined {
  if (text === undefined) return { fromMs: nowMs - RETENTION_MS, toMs: nowMs };
  const parts = text.trim().split('/');
  if (parts.length === 1) {
    const d = durationMs(parts[0]);
    if (d !== undefined) return { fromMs: nowMs - d, toMs: nowMs };
    const start = instantMs(parts[0]);
    return start === undefined ? undefined : { fromMs: start, toMs: nowMs };
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts;
  const [da, db, ia, ib] = [durationMs(a), durationMs(b), instantMs(a), instantMs(b)];
  if (ia !== undefined && ib !== undefined) return { fromMs: ia, toMs: ib };
  if (da !== undefined && ib !== undefined) return { fromMs: ib - da, toMs: ib };
  if (ia !== undefined && db !== undefined) return { fromMs: ia, toMs: ia + db };
  return undefined;
}

function field(body: unknown, name: string): unknown {
  if (!body || typeof body !== 'object') return undefined;
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (body as Record<string, unknown>)[key];
}

/** The per-tenant call limit (all apps together), then the CPU quota of the current 15-minute cycle. */
function admit(env: GraphEnv, req: SimRequest, state: TenantHunting, limits: HuntingLimits, nowMs: number): void {
  const clock = env.ctx.clock;
  state.calls = state.calls.filter((t) => t > nowMs - 60_000);
  if (limits.callsPerMinute > 0 && state.calls.length >= limits.callsPerMinute) {
    state.counts.throttledCalls++;
    const retryAfter = Math.max(1, Math.ceil((state.calls[0] + 60_000 - nowMs) / 1000));
    throw graphError(
      clock,
      req,
      429,
      'TooManyRequests',
      `Too many requests: the tenant has made ${limits.callsPerMinute} advanced hunting calls in the last minute. Retry after ${retryAfter} seconds.`,
      { 'retry-after': String(retryAfter) },
    );
  }
  const cycle = Math.floor(nowMs / CYCLE_MS);
  if (cycle !== state.cycle) {
    state.cycle = cycle;
    state.cpuUsed = 0;
  }
  if (limits.cpuRowsPer15Minutes > 0 && state.cpuUsed >= limits.cpuRowsPer15Minutes) {
    state.counts.cpuBlocked++;
    const until = (cycle + 1) * CYCLE_MS;
    throw graphError(
      clock,
      req,
      429,
      'TooManyRequests',
      `The tenant has used 100% of its allocated CPU resources for advanced hunting; queries are blocked until the next 15-minute cycle (${new Date(until).toISOString()}).`,
      { 'retry-after': String(Math.max(1, Math.ceil((until - nowMs) / 1000))) },
    );
  }
  state.calls.push(nowMs);
}

function runHuntingQuery(env: GraphEnv, req: SimRequest): SimResponse {
  const clock = env.ctx.clock;
  const token = authorize(env, req, 'security', ROLES);
  if (!token.tenant.licences.defenderXdr) {
    throw graphError(clock, req, 403, 'Forbidden', 'The tenant is not licensed for Microsoft Defender XDR advanced hunting.');
  }
  const state = huntingOf(env, token.tenant);
  const limits = limitsOf(env);
  const nowMs = clock.nowMs();
  admit(env, req, state, limits, nowMs);
  const bad = (message: string): Error => {
    state.counts.badRequests++;
    return graphError(clock, req, 400, 'BadRequest', message);
  };
  const text = field(req.body, 'Query');
  if (typeof text !== 'string' || !text.trim()) throw bad("The 'Query' parameter is required.");
  const timespanRaw = field(req.body, 'Timespan');
  if (timespanRaw !== undefined && timespanRaw !== null && typeof timespanRaw !== 'string') throw bad("'Timespan' must be an ISO 8601 string.");
  const span = parseTimespan(timespanRaw ?? undefined, nowMs);
  if (!span || span.toMs < span.fromMs) throw bad(`'${String(timespanRaw)}' is not a valid ISO 8601 timespan (P30D, start/end, P30D/end, start/P30D).`);

  let query;
  try {
    query = parseKql(text, nowMs);
  } catch (e) {
    if (e instanceof KqlError) throw bad(e.message);
    throw e;
  }
  const schema = HUNTING_SCHEMAS[query.table];
  if (!schema) throw bad(`Failed to resolve table or column expression named '${query.table}'`);
  const bounds = timestampBounds(query);
  // Nothing older than 30 days, whatever the Timespan asks (microsoft-notes M39).
  const fromMs = Math.max(span.fromMs, bounds.fromMs, nowMs - RETENTION_MS);
  const toMs = Math.min(span.toMs, bounds.toMs);
  const rows = state.data.rows(query.table, fromMs, toMs, nowMs);
  state.cpuUsed += rows.length;
  let result;
  try {
    result = evaluate(query, { schema, rows });
  } catch (e) {
    if (e instanceof KqlError) throw bad(e.message);
    throw e;
  }
  const results = result.results.slice(0, limits.maxRows);
  state.counts.queries++;
  state.counts.rowsReturned += results.length;
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`, schema: result.schema, results },
  };
}

export function huntingRoutes(env: GraphEnv): SimRoute[] {
  for (const tenant of env.ctx.tenants.values()) huntingOf(env, tenant);
  return [{ host: 'graph', method: 'POST', pattern: '/v1.0/security/runHuntingQuery', handler: (req) => runHuntingQuery(env, req) }];
}
