/**
 * Purview audit search, asynchronous (microsoft-notes §3.4): `POST /security/auditLog/queries` creates a
 * query (201), `GET …/queries/{id}` shows `notStarted` → `running` → `succeeded` as the simulated
 * clock moves, and `GET …/queries/{id}/records` pages the matching records through nextLink.
 * The records are the tenant's Management-API audit records, so both APIs tell the same story.
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, SimTenant, VerifiedToken } from '../types';
import { authenticate, hasAnyRole, permissionDenied, throttle, type GraphEnv } from './access';
import { bareIp, creationMs, recordTypeName, toAuditLogRecord } from './audit-records';
import { graphError } from './errors';
import { utcMs } from './odata';
import { listResponse } from './paging';

/** The full permission, or per-service ones that limit the records to that workload (microsoft-notes §3.1). */
const SERVICE_ROLES: Record<string, string[]> = {
  'AuditLogsQuery-Exchange.Read.All': ['Exchange'],
  'AuditLogsQuery-SharePoint.Read.All': ['SharePoint'],
  'AuditLogsQuery-OneDrive.Read.All': ['OneDrive'],
  'AuditLogsQuery-Entra.Read.All': ['AzureActiveDirectory'],
  'AuditLogsQuery-Endpoint.Read.All': ['Endpoint', 'MicrosoftDefenderForEndpoint'],
  'AuditLogsQuery-CRM.Read.All': ['CRM', 'Dynamics 365'],
};
const FULL_ROLE = 'AuditLogsQuery.Read.All';

const STRING_LIST_FILTERS = [
  'recordTypeFilters',
  'operationFilters',
  'userPrincipalNameFilters',
  'ipAddressFilters',
  'objectIdFilters',
  'administrativeUnitIdFilters',
] as const;

interface AuditQuery {
  query: RawRecord;
  createdMs: number;
  /** Workloads the creating app may read; undefined ⇒ all. */
  services?: string[];
  records?: RawRecord[];
}

const queriesByTenant = new WeakMap<SimTenant, Map<string, AuditQuery>>();

function queries(tenant: SimTenant): Map<string, AuditQuery> {
  let map = queriesByTenant.get(tenant);
  if (!map) queriesByTenant.set(tenant, (map = new Map()));
  return map;
}

function gate(env: GraphEnv, req: SimRequest): { token: VerifiedToken; services?: string[] } {
  const token = authenticate(env, req);
  const roles = [FULL_ROLE, ...Object.keys(SERVICE_ROLES)];
  if (!hasAnyRole(token, roles)) throw permissionDenied(env, req, 'security', roles);
  throttle(env, req, token, 'security');
  if (token.roles.includes(FULL_ROLE)) return { token };
  return { token, services: token.roles.flatMap((r) => SERVICE_ROLES[r] ?? []) };
}

function status(env: GraphEnv, q: AuditQuery): 'notStarted' | 'running' | 'succeeded' {
  const { notStartedMs, runningMs } = env.options().auditQuery;
  const elapsed = env.ctx.clock.nowMs() - q.createdMs;
  if (elapsed < notStartedMs) return 'notStarted';
  if (elapsed < notStartedMs + runningMs) return 'running';
  return 'succeeded';
}

function badRequest(env: GraphEnv, req: SimRequest, message: string): Error {
  return graphError(env.ctx.clock, req, 400, 'BadRequest', message);
}

function validDate(env: GraphEnv, req: SimRequest, body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'string' ? utcMs(value) : NaN;
  if (Number.isNaN(ms)) throw badRequest(env, req, `Invalid value for '${name}': a DateTimeOffset is expected.`);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function createQuery(env: GraphEnv, req: SimRequest): SimResponse {
  const { token, services } = gate(env, req);
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(env, req, 'The request body must be an auditLogQuery object.');
  }
  const input = body as Record<string, unknown>;
  const query: RawRecord = {
    '@odata.type': '#microsoft.graph.security.auditLogQuery',
    id: env.ctx.newGuid(),
    displayName: typeof input.displayName === 'string' ? input.displayName : null,
    filterStartDateTime: validDate(env, req, input, 'filterStartDateTime'),
    filterEndDateTime: validDate(env, req, input, 'filterEndDateTime'),
    keywordFilter: typeof input.keywordFilter === 'string' ? input.keywordFilter : null,
    serviceFilter: typeof input.serviceFilter === 'string' ? input.serviceFilter : null,
  };
  for (const name of STRING_LIST_FILTERS) {
    const value = input[name] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw badRequest(env, req, `Invalid value for '${name}': a collection of strings is expected.`);
    }
    query[name] = value;
  }
  const start = query.filterStartDateTime as string | null;
  const end = query.filterEndDateTime as string | null;
  if (start && end && Date.parse(start) > Date.parse(end)) {
    throw badRequest(env, req, 'filterStartDateTime must be earlier than filterEndDateTime.');
  }
  const entry: AuditQuery = { query, createdMs: env.ctx.clock.nowMs(), services };
  queries(token.tenant).set(String(query.id), entry);
  return {
    status: 201,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#security/auditLog/queries/$entity`, ...present(env, entry) },
  };
}

function present(env: GraphEnv, q: AuditQuery): RawRecord {
  return { ...q.query, status: status(env, q) };
}

function findQuery(env: GraphEnv, req: SimRequest, tenant: SimTenant): AuditQuery {
  const q = queries(tenant).get(req.params.id);
  if (!q) throw graphError(env.ctx.clock, req, 404, 'NotFound', `Audit log query '${req.params.id}' was not found.`);
  return q;
}

function matches(q: AuditQuery, raw: RawRecord): boolean {
  const f = q.query;
  const lower = (v: unknown): string => String(v ?? '').toLowerCase();
  const inList = (list: unknown, value: unknown): boolean => !Array.isArray(list) || list.length === 0 || list.some((x) => lower(x) === lower(value));
  const ms = creationMs(raw);
  if (f.filterStartDateTime && !(ms >= Date.parse(String(f.filterStartDateTime)))) return false;
  if (f.filterEndDateTime && !(ms < Date.parse(String(f.filterEndDateTime)))) return false;
  if (q.services && !q.services.some((s) => lower(s) === lower(raw.Workload))) return false;
  if (f.serviceFilter && lower(f.serviceFilter) !== lower(raw.Workload)) return false;
  if (f.keywordFilter && !JSON.stringify(raw).toLowerCase().includes(lower(f.keywordFilter))) return false;
  return (
    inList(f.recordTypeFilters, recordTypeName(raw)) &&
    inList(f.operationFilters, raw.Operation) &&
    inList(f.userPrincipalNameFilters, raw.UserId) &&
    inList(f.ipAddressFilters, bareIp(raw.ClientIP)) &&
    inList(f.objectIdFilters, raw.ObjectId)
  );
}

function listRecords(env: GraphEnv, req: SimRequest): SimResponse {
  const { token } = gate(env, req);
  const q = findQuery(env, req, token.tenant);
  // Records exist only once the search has finished; they are a snapshot taken at that point.
  let records: RawRecord[] = [];
  if (status(env, q) === 'succeeded') {
    q.records ??= token.tenant.licences.unifiedAuditLog ? token.tenant.auditRecords.filter((raw) => matches(q, raw)).map(toAuditLogRecord) : [];
    records = q.records;
  }
  return listResponse(env.ctx.clock, req, records, {
    family: 'security',
    orderable: ['createdDateTime'],
    defaultOrder: { property: 'createdDateTime', desc: false },
    // Page size is not documented; the sim pages by 150 and clamps larger $top values.
    top: { default: 150, max: 1000, overflow: 'clamp' },
    context: `security/auditLog/queries('${q.query.id}')/records`,
  });
}

export function auditQueryRoutes(env: GraphEnv): SimRoute[] {
  const base = '/v1.0/security/auditLog/queries';
  return [
    { host: 'graph', method: 'POST', pattern: base, handler: (req) => createQuery(env, req) },
    {
      host: 'graph',
      method: 'GET',
      pattern: base,
      handler: (req) => {
        const { token } = gate(env, req);
        const value = [...queries(token.tenant).values()].map((q) => present(env, q));
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#security/auditLog/queries`, value },
        };
      },
    },
    {
      host: 'graph',
      method: 'GET',
      pattern: `${base}/:id`,
      handler: (req) => {
        const { token } = gate(env, req);
        const q = findQuery(env, req, token.tenant);
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#security/auditLog/queries/$entity`, ...present(env, q) },
        };
      },
    },
    { host: 'graph', method: 'GET', pattern: `${base}/:id/records`, handler: (req) => listRecords(env, req) },
  ];
}
