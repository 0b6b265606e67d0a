import { randomUUID } from 'node:crypto';
import {
  SimError,
  type SimApp,
  type SimContext,
  type SimDevice,
  type SimRequest,
  type SimResponse,
  type SimRoute,
  type SimTenant,
  type VerifiedToken,
} from '../../src/types';

/**
 * A hand-built SimContext for driving the Defender routes without the HTTPS core: a settable clock,
 * tokens looked up by name (`Bearer <name>`), and a tiny router with the core's pattern rules.
 */

export const T0 = Date.parse('2026-03-02T09:00:00.000Z');

export function device(overrides: Partial<SimDevice> = {}): SimDevice {
  return {
    id: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
    computerDnsName: 'ws-042.contoso.com',
    aadDeviceId: '80fe8ff8-2624-418e-9591-41f0491218f9',
    osPlatform: 'Windows11',
    version: '23H2',
    healthStatus: 'Active',
    riskScore: 'Medium',
    exposureLevel: 'Low',
    lastSeen: '2026-03-01T08:00:00.000Z',
    firstSeen: '2025-06-01T08:00:00.000Z',
    lastIpAddress: '10.0.0.42',
    online: true,
    isolated: false,
    appExecutionRestricted: false,
    ...overrides,
  };
}

export function tenant(tenantId: string, devices: SimDevice[]): SimTenant {
  return {
    tenantId,
    displayName: `Tenant ${tenantId}`,
    domains: [`${tenantId}.onmicrosoft.com`],
    licences: { entraP1: true, entraP2: true, defenderForEndpoint: true, defenderXdr: true, unifiedAuditLog: true },
    apps: [],
    users: [],
    groups: [],
    devices,
    servicePrincipals: [],
    oauth2PermissionGrants: [],
    appRoleAssignments: [],
    alerts: [],
    incidents: [],
    signIns: [],
    directoryAudits: [],
    riskDetections: [],
    secureScores: [],
    secureScoreControlProfiles: [],
    auditRecords: [],
  };
}

export interface FakeToken {
  tenantId: string;
  roles: string[];
  clientId?: string;
  /** Simulates a token minted for another resource (microsoft-notes M16). */
  wrongAudience?: boolean;
}

const BASE = 'https://localhost:8443';

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class FakeSim {
  nowMs = T0;
  readonly tenants = new Map<string, SimTenant>();
  readonly tokens = new Map<string, FakeToken>();
  readonly scenario: SimContext['scenario'] = {
    tenants: [],
    machineActions: { pendingMs: 60_000, inProgressMs: 120_000, timeoutMs: 3_600_000 },
  };
  readonly ctx: SimContext;
  private readonly routes: SimRoute[];

  constructor(module: (ctx: SimContext) => SimRoute[], tenants: SimTenant[]) {
    for (const t of tenants) this.tenants.set(t.tenantId, t);
    this.ctx = {
      clock: {
        now: () => new Date(this.nowMs),
        nowMs: () => this.nowMs,
        advance: (ms) => {
          this.nowMs += ms;
        },
      },
      tenants: this.tenants,
      scenario: this.scenario,
      findTenant: (id) => this.tenants.get(id),
      requireToken: (req, resource, anyOf) => this.requireToken(req, resource, anyOf),
      baseUrls: () => ({ login: BASE, graph: BASE, manage: BASE, defender: BASE }),
      newGuid: () => randomUUID(),
    };
    this.routes = module(this.ctx);
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  token(name: string, t: FakeToken): string {
    this.tokens.set(name, t);
    return name;
  }

  private requireToken(req: SimRequest, resource: string, anyOf?: string[]): VerifiedToken {
    const auth = String(req.headers.authorization ?? '');
    const fake = this.tokens.get(auth.replace(/^Bearer /, ''));
    const err = (status: number, code: string) => new SimError({ status, body: { error: { code, message: code, target: req.requestId } } });
    if (!auth.startsWith('Bearer ') || !fake) throw err(401, 'Unauthorized');
    if (resource !== 'defender' || fake.wrongAudience) throw err(403, 'Forbidden');
    if (anyOf && !anyOf.some((r) => fake.roles.includes(r))) throw err(403, 'Forbidden');
    const app: SimApp | undefined = fake.clientId
      ? {
          clientId: fake.clientId,
          displayName: 'Cordon',
          clientSecrets: [],
          certificates: [],
          permissions: { graph: [], manage: [], defender: fake.roles },
          directoryRoles: [],
        }
      : undefined;
    return {
      tenant: this.tenants.get(fake.tenantId)!,
      app,
      audience: 'https://api.securitycenter.microsoft.com',
      roles: fake.roles,
      claims: app ? {} : { upn: 'analyst@contoso.com' },
    };
  }

  /** Routes a request the way the core does (case-insensitive literals, decoded params). */
  async call(method: string, url: string, opts: { token?: string; body?: unknown; rawBody?: string } = {}): Promise<CallResult> {
    const parsed = new URL(url, BASE);
    const path = decodeURIComponent(parsed.pathname);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchPattern(route.pattern, path);
      if (!params) continue;
      const raw = opts.rawBody ?? (opts.body === undefined ? '' : JSON.stringify(opts.body));
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const req: SimRequest = {
        host: 'defender',
        method,
        path,
        query: parsed.searchParams,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        rawBody: Buffer.from(raw),
        body,
        params,
        remoteAddress: '127.0.0.1',
        baseUrl: BASE,
        requestId: randomUUID(),
      };
      let res: SimResponse;
      try {
        res = await route.handler(req);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        res = e.response;
      }
      return { status: res.status, headers: res.headers ?? {}, body: res.body };
    }
    return { status: 404, headers: {}, body: { error: { code: 'NoRoute' } } };
  }
}

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const ps = pattern.split('/');
  const xs = path.split('/');
  if (ps.length !== xs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) params[ps[i].slice(1)] = xs[i];
    else if (ps[i].toLowerCase() !== xs[i].toLowerCase()) return undefined;
  }
  return params;
}
