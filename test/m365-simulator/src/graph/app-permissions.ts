/**
 * The application permissions granted to a service principal (microsoft-notes M59):
 * `GET /v1.0/servicePrincipals/{id}/appRoleAssignments` and `/v1.0/servicePrincipals(appId='…')/appRoleAssignments`.
 *
 * For the service principal of one of the tenant's app registrations (Cordon's), the assignments are the
 * app's granted permissions (`SimApp.permissions`, the same that become its token's `roles`): one per
 * permission, on the resource's service principal (Graph, Management API, Defender), whose `appRoles` gain
 * the role the first time it is assigned (ids are the simulator's, stable per resource and value: Cordon
 * must map them through the resource's `appRoles`, as in a real tenant). Other assignments made to the
 * service principal (`SimTenant.appRoleAssignments`) are listed too.
 *
 * Application permission: Application.Read.All (least), or Application.ReadWrite.All,
 * Application.ReadWrite.OwnedBy, Directory.Read.All, Directory.ReadWrite.All.
 */
import { guidFrom } from '../ids';
import { appRoleAssignmentId, RESOURCE_APPS } from '../persistence';
import type { RawRecord, SimApp, SimRequest, SimResponse, SimRoute, SimServicePrincipal, SimTenant } from '../types';
import { authorize, type GraphEnv } from './access';
import { resourceNotFound } from './errors';
import { LIST } from './app-consents';
import { listResponse } from './paging';

const READ = ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'Directory.Read.All', 'Directory.ReadWrite.All'];

/** When each (app, resource, permission) was first seen granted: its assignment's createdDateTime. */
const grantedAt = new WeakMap<SimApp, Map<string, string>>();

function firstSeen(app: SimApp, key: string, nowIso: string): string {
  const seen = grantedAt.get(app) ?? new Map<string, string>();
  grantedAt.set(app, seen);
  if (!seen.has(key)) seen.set(key, nowIso);
  return seen.get(key)!;
}

/** The role `value` on the resource's service principal, added as an application role when it is first assigned. */
function roleOf(resource: SimServicePrincipal, value: string): string {
  const existing = resource.appRoles.find((r) => r.value === value);
  if (existing) return existing.id;
  const id = guidFrom('app-role', resource.appId, value);
  resource.appRoles.push({ id, value, displayName: value });
  return id;
}

function grantedToApp(tenant: SimTenant, sp: SimServicePrincipal, app: SimApp, nowIso: string): RawRecord[] {
  const out: RawRecord[] = [];
  for (const [kind, resourceApp] of Object.entries(RESOURCE_APPS) as Array<[keyof SimApp['permissions'], (typeof RESOURCE_APPS)['graph']]>) {
    const resource = tenant.servicePrincipals.find((s) => s.appId === resourceApp.appId);
    if (!resource) continue;
    for (const value of app.permissions[kind] ?? []) {
      const appRoleId = roleOf(resource, value);
      out.push({
        id: appRoleAssignmentId(sp.id, resource.id, appRoleId),
        deletedDateTime: null,
        appRoleId,
        createdDateTime: firstSeen(app, `${kind}|${value}`, nowIso),
        principalDisplayName: sp.displayName,
        principalId: sp.id,
        principalType: 'ServicePrincipal',
        resourceDisplayName: resource.displayName,
        resourceId: resource.id,
      });
    }
  }
  return out;
}

function assignmentsOf(env: GraphEnv, req: SimRequest, key: string): SimResponse {
  const token = authorize(env, req, 'directory', READ);
  const tenant = token.tenant;
  const byAppId = /^\(appId='([^']*)'\)$/i.exec(key);
  const wanted = (byAppId ? byAppId[1] : key).toLowerCase();
  const sp = tenant.servicePrincipals.find((s) => (byAppId ? s.appId : s.id).toLowerCase() === wanted);
  if (!sp) throw resourceNotFound(env.ctx.clock, req, byAppId ? byAppId[1] : key);
  const app = tenant.apps.find((a) => a.clientId.toLowerCase() === sp.appId.toLowerCase());
  const nowIso = env.ctx.clock.now().toISOString();
  const explicit = tenant.appRoleAssignments.filter((a) => a.principalId === sp.id).map((a) => ({ ...a, deletedDateTime: null }) as unknown as RawRecord);
  const items = [...(app ? grantedToApp(tenant, sp, app, nowIso) : []), ...explicit];
  return listResponse(env.ctx.clock, req, items, { ...LIST, context: `servicePrincipals('${sp.id}')/appRoleAssignments` });
}

export function appPermissionRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/servicePrincipals/:sp/appRoleAssignments', handler: (req) => assignmentsOf(env, req, req.params.sp) },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/:segment/appRoleAssignments',
      handler: (req) => {
        const match = /^servicePrincipals(\(appId='[^']*'\))$/i.exec(req.params.segment);
        if (!match) throw resourceNotFound(env.ctx.clock, req, req.params.segment);
        return assignmentsOf(env, req, match[1]);
      },
    },
  ];
}
