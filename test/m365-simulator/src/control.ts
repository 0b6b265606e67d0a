import { isIP } from 'node:net';
import type { SimClockImpl } from './clock';
import type { FaultInjector } from './faults';
import { settleMachineActions } from './defender';
import { huntingState } from './graph/hunting';
import type { Journal } from './journal';
import { addPersistence, PERSISTENCE_KINDS, type PersistenceKind } from './persistence';
import { parseRecordsText } from './raw-records';
import { deviceWithDefaults, userWithDefaults } from './scenario';
import type { TokenService, UserTokenRequest } from './tokens';
import { SimError, type SimContext, type SimHost, type SimRequest, type SimApp, type SimResponse, type SimRoute, type SimTenant } from './types';

/**
 * `/_sim/*` control routes, served on every host port and only to loopback callers: faults, clock,
 * journal, state inspection/mutation, runtime records, user tokens.
 */

export interface ControlDeps {
  clock: SimClockImpl;
  faults: FaultInjector;
  journal: Journal;
  tokens: TokenService;
  /** Extra info for `GET /_sim/info` (tenants with credentials...). */
  info: () => unknown;
  /** Management Activity records per content type: existing, available now, still to come. */
  contentCounts: (tenant: SimTenant) => unknown;
}

const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };
const ok = (body: unknown, status = 200): SimResponse => ({ status, headers: JSON_CT, body });
const fail = (status: number, message: string) => new SimError({ status, headers: JSON_CT, body: { error: { code: 'SimulatorControl', message } } });

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (`::ffff:127.x.x.x`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

const RECORD_KINDS = [
  'alerts',
  'incidents',
  'signIns',
  'directoryAudits',
  'riskDetections',
  'secureScores',
  'secureScoreControlProfiles',
  'auditRecords',
] as const;
const IMMUTABLE = new Set(['id']);

function obj(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw fail(400, 'expected a JSON object body');
  return body as Record<string, unknown>;
}

export function mintUserToken(ctx: SimContext, tokens: TokenService, body: Partial<UserTokenRequest>) {
  if (!body.tenantId) throw new Error('tenantId is required');
  if (!body.audience) throw new Error('audience is required');
  const tenant = ctx.findTenant(body.tenantId);
  if (!tenant) throw new Error(`unknown tenant ${body.tenantId}`);
  return tokens.mintUserToken(tenant, body as UserTokenRequest);
}

export function controlModule(ctx: SimContext, deps: ControlDeps): SimRoute[] {
  const tenantOf = (req: SimRequest): SimTenant => {
    const t = ctx.findTenant(req.params.tenant);
    if (!t) throw fail(404, `unknown tenant ${req.params.tenant}`);
    return t;
  };
  const userOf = (req: SimRequest) => {
    const t = tenantOf(req);
    const key = req.params.user.toLowerCase();
    const u = t.users.find((x) => x.id.toLowerCase() === key || x.userPrincipalName.toLowerCase() === key);
    if (!u) throw fail(404, `unknown user ${req.params.user}`);
    return u;
  };
  const appOf = (req: SimRequest) => {
    const t = tenantOf(req);
    const a = t.apps.find((x) => x.clientId.toLowerCase() === req.params.app.toLowerCase());
    if (!a) throw fail(404, `no app ${req.params.app} in tenant ${t.tenantId}`);
    return a;
  };
  const appView = (a: SimApp) => ({
    clientId: a.clientId,
    displayName: a.displayName,
    permissions: a.permissions,
    requiredResourceAccess: a.requiredResourceAccess ?? null,
    replyUrls: a.replyUrls ?? null,
    consentOutcome: a.consentOutcome ?? 'grant',
  });
  const deviceOf = (req: SimRequest) => {
    const t = tenantOf(req);
    // Machine actions progress lazily (no timers); apply what is due so the state shown is current.
    settleMachineActions(ctx, t);
    const key = req.params.device.toLowerCase();
    const byId = t.devices.find((d) => d.id.toLowerCase() === key);
    if (byId) return byId;
    const byName = t.devices.filter((d) => d.computerDnsName.toLowerCase() === key);
    if (byName.length > 1) throw fail(409, `${byName.length} devices are named ${req.params.device}; use the id`);
    if (!byName.length) throw fail(404, `unknown device ${req.params.device}`);
    return byName[0];
  };
  const patch = (target: object, body: unknown) => {
    for (const [k, v] of Object.entries(obj(body))) {
      if (IMMUTABLE.has(k)) throw fail(400, `${k} cannot be changed`);
      (target as Record<string, unknown>)[k] = v;
    }
    return target;
  };

  const handlers: Array<[SimRoute['method'], string, (req: SimRequest) => SimResponse]> = [
    ['GET', '/_sim/info', () => ok(deps.info())],
    ['GET', '/_sim/faults', () => ok({ faults: deps.faults.list() })],
    [
      'POST',
      '/_sim/faults',
      (req) => {
        try {
          const specs = Array.isArray(req.body) ? req.body : [req.body];
          return ok({ faults: specs.map((s) => deps.faults.add(s)) }, 201);
        } catch (e) {
          throw fail(400, (e as Error).message);
        }
      },
    ],
    ['DELETE', '/_sim/faults', () => (deps.faults.clear(), { status: 204 })],
    [
      'DELETE',
      '/_sim/faults/:id',
      (req) => {
        if (!deps.faults.remove(Number(req.params.id))) throw fail(404, `no fault ${req.params.id}`);
        return { status: 204 };
      },
    ],
    ['GET', '/_sim/clock', () => ok({ now: ctx.clock.now().toISOString(), offsetMs: deps.clock.offset() })],
    [
      'POST',
      '/_sim/clock/advance',
      (req) => {
        const b = obj(req.body);
        const ms =
          Number(b.ms ?? 0) +
          Number(b.seconds ?? 0) * 1000 +
          Number(b.minutes ?? 0) * 60_000 +
          Number(b.hours ?? 0) * 3_600_000 +
          Number(b.days ?? 0) * 86_400_000;
        if (!Number.isFinite(ms) || ms < 0) throw fail(400, 'give a non-negative ms, seconds, minutes, hours or days');
        deps.clock.advance(ms);
        return ok({ now: ctx.clock.now().toISOString(), offsetMs: deps.clock.offset() });
      },
    ],
    [
      'GET',
      '/_sim/journal',
      (req) => {
        const q = req.query;
        const entries = deps.journal.list({
          host: q.get('host') ?? undefined,
          method: q.get('method') ?? undefined,
          path: q.get('path') ?? undefined,
          since: q.get('since') ?? undefined,
        });
        return ok({ lastSeq: deps.journal.lastSeq(), entries });
      },
    ],
    ['DELETE', '/_sim/journal', () => (deps.journal.clear(), { status: 204 })],
    [
      'GET',
      '/_sim/state/tenants/:tenant',
      (req) => {
        const t = tenantOf(req);
        const counts = Object.fromEntries([...RECORD_KINDS, ...PERSISTENCE_KINDS].map((k) => [k, t[k].length]));
        return ok({
          tenantId: t.tenantId,
          displayName: t.displayName,
          domains: t.domains,
          licences: t.licences,
          users: t.users.length,
          devices: t.devices.length,
          ...counts,
          contentTypes: deps.contentCounts(t),
          hunting: huntingState({ ctx }, t, ctx.clock.nowMs() - 86_400_000, ctx.clock.nowMs()),
        });
      },
    ],
    [
      'PATCH',
      '/_sim/state/tenants/:tenant',
      (req) => {
        const t = tenantOf(req);
        const b = obj(req.body);
        if (b.licences) Object.assign(t.licences, obj(b.licences));
        return ok({ tenantId: t.tenantId, licences: t.licences });
      },
    ],
    [
      'GET',
      '/_sim/state/tenants/:tenant/hunting',
      (req) => {
        // Advanced Hunting counters and the rows each table holds in [from, to) (default: the last 24 h).
        const t = tenantOf(req);
        const at = (name: string, fallback: number) => {
          const v = req.query.get(name);
          const ms = v === null ? fallback : Date.parse(v);
          if (Number.isNaN(ms)) throw fail(400, `${name} must be an ISO date`);
          return ms;
        };
        const now = ctx.clock.nowMs();
        return ok(huntingState({ ctx }, t, at('from', now - 86_400_000), at('to', now)));
      },
    ],
    ['GET', '/_sim/state/tenants/:tenant/apps/:app', (req) => ok(appView(appOf(req)))],
    [
      'PATCH',
      '/_sim/state/tenants/:tenant/apps/:app',
      (req) => {
        // The app's granted application permissions per resource (the token's `roles`), what its registration
        // requests (granted by admin consent), its reply URLs and what the simulated admin does on the consent page.
        const app = appOf(req);
        const b = obj(req.body);
        const lists = (v: unknown, name: string) => {
          const o = obj(v);
          const out: Partial<Record<'graph' | 'manage' | 'defender', string[]>> = {};
          for (const [k, list] of Object.entries(o)) {
            if (!['graph', 'manage', 'defender'].includes(k)) throw fail(400, `${name}.${k}: unknown resource (graph, manage, defender)`);
            if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw fail(400, `${name}.${k} must be an array of strings`);
            out[k as 'graph'] = [...new Set(list as string[])];
          }
          return out;
        };
        if (b.permissions !== undefined) Object.assign(app.permissions, lists(b.permissions, 'permissions'));
        if (b.requiredResourceAccess !== undefined)
          app.requiredResourceAccess = { ...app.requiredResourceAccess, ...lists(b.requiredResourceAccess, 'requiredResourceAccess') };
        if (b.replyUrls !== undefined) {
          if (b.replyUrls !== null && (!Array.isArray(b.replyUrls) || b.replyUrls.some((x) => typeof x !== 'string')))
            throw fail(400, 'replyUrls must be an array of strings or null');
          app.replyUrls = (b.replyUrls as string[] | null) ?? undefined;
        }
        if (b.consentOutcome !== undefined) {
          if (b.consentOutcome !== 'grant' && b.consentOutcome !== 'decline') throw fail(400, "consentOutcome must be 'grant' or 'decline'");
          app.consentOutcome = b.consentOutcome;
        }
        return ok(appView(app));
      },
    ],
    ['GET', '/_sim/state/tenants/:tenant/users/:user', (req) => ok(userOf(req))],
    ['PATCH', '/_sim/state/tenants/:tenant/users/:user', (req) => ok(patch(userOf(req), req.body))],
    ['GET', '/_sim/state/tenants/:tenant/devices/:device', (req) => ok(deviceOf(req))],
    ['PATCH', '/_sim/state/tenants/:tenant/devices/:device', (req) => ok(patch(deviceOf(req), req.body))],
    [
      'GET',
      '/_sim/state/tenants/:tenant/records/:kind',
      (req) => {
        const t = tenantOf(req);
        const kinds = [...RECORD_KINDS, ...PERSISTENCE_KINDS, 'groups'] as const;
        const kind = kinds.find((k) => k.toLowerCase() === req.params.kind.toLowerCase());
        if (!kind) throw fail(404, `unknown record kind ${req.params.kind}; use one of ${kinds.join(', ')}`);
        return ok({ [kind]: t[kind] });
      },
    ],
    [
      'POST',
      '/_sim/state/tenants/:tenant/records',
      (req) => {
        const t = tenantOf(req);
        const b = obj(req.body);
        const added: Record<string, number> = {};
        for (const [k, v] of Object.entries(b)) {
          if (!Array.isArray(v)) throw fail(400, `${k} must be an array`);
          const now = ctx.clock.now();
          if (k === 'users') t.users.push(...v.map((u) => userWithDefaults(t, u, now)));
          else if (k === 'devices') t.devices.push(...v.map((d) => deviceWithDefaults(t, d, now)));
          else if (k === 'groups') t.groups.push(...v);
          else if ((PERSISTENCE_KINDS as readonly string[]).includes(k)) {
            try {
              addPersistence(t, k as PersistenceKind, v, now.toISOString());
            } catch (e) {
              throw fail(400, (e as Error).message);
            }
          } else if ((RECORD_KINDS as readonly string[]).includes(k)) t[k as (typeof RECORD_KINDS)[number]].push(...v);
          else throw fail(400, `unknown record kind ${k}; use one of ${[...RECORD_KINDS, 'users', 'devices', 'groups', ...PERSISTENCE_KINDS].join(', ')}`);
          added[k] = v.length;
        }
        return ok({ added }, 201);
      },
    ],
    [
      'POST',
      '/_sim/state/tenants/:tenant/audit-records',
      (req) => {
        // NDJSON or a JSON array, each record kept as the very text sent (huge numbers stay exact).
        const t = tenantOf(req);
        let records;
        try {
          records = parseRecordsText(req.rawBody?.toString('utf8') ?? '', 'body');
        } catch (e) {
          throw fail(400, (e as Error).message);
        }
        t.auditRecords.push(...records);
        return ok({ added: { auditRecords: records.length } }, 201);
      },
    ],
    [
      'POST',
      '/_sim/tokens/user',
      (req) => {
        try {
          return ok(mintUserToken(ctx, deps.tokens, obj(req.body) as Partial<UserTokenRequest>));
        } catch (e) {
          if (e instanceof SimError) throw e;
          throw fail(400, (e as Error).message);
        }
      },
    ],
  ];

  const loopbackOnly = (h: (req: SimRequest) => SimResponse) => (req: SimRequest) => {
    if (!isLoopbackAddress(req.remoteAddress)) throw fail(403, 'simulator control routes are only served to loopback callers');
    return h(req);
  };
  const hosts: SimHost[] = ['login', 'graph', 'manage', 'defender'];
  return hosts.flatMap((host) => handlers.map(([method, pattern, h]) => ({ host, method, pattern, handler: loopbackOnly(h) })));
}
