/**
 * Consents and enterprise apps (microsoft-notes §9.2):
 * - `GET /v1.0/users/{id}/oauth2PermissionGrants` (only the user's `Principal` grants),
 *   `GET /v1.0/oauth2PermissionGrants[?$filter=…]`, `GET|DELETE /v1.0/oauth2PermissionGrants/{id}`;
 * - `GET /v1.0/users/{id}/appRoleAssignments`, `DELETE /v1.0/users/{id}/appRoleAssignments/{id}`, and the
 *   recommended `GET|DELETE /v1.0/servicePrincipals/{resource}/appRoleAssignedTo[/{id}]`;
 * - `GET|PATCH /v1.0/servicePrincipals/{id}` and `/v1.0/servicePrincipals(appId='…')`.
 *
 * All are directory-backed: 403 `Authorization_RequestDenied`, 404 `Request_ResourceNotFound`.
 */
import { notFoundResponse } from '../errors';
import type {
  RawRecord,
  SimAppRoleAssignment,
  SimPermissionGrant,
  SimRequest,
  SimResponse,
  SimRoute,
  SimServicePrincipal,
  SimTenant,
  VerifiedToken,
} from '../types';
import { authorize, throttle, type GraphEnv } from './access';
import { recordDirectoryAudit } from './directory-audit';
import { graphError, resourceNotFound } from './errors';
import { listResponse, type ListSpec } from './paging';
import { findUser, userNotFound } from './users';

const GRANT_READ = ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GRANT_WRITE = ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'];
const ASSIGNMENT_READ = ['User.Read.All', 'Directory.Read.All', 'AppRoleAssignment.ReadWrite.All', 'Application.Read.All', 'Directory.ReadWrite.All'];
/** microsoft-notes §9.2: the only application permission that deletes an app role assignment. */
const ASSIGNMENT_WRITE = ['AppRoleAssignment.ReadWrite.All'];
const SP_READ = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
/** `Application.ReadWrite.OwnedBy` covers only the caller's own apps (checked in patchServicePrincipal). */
const SP_WRITE = ['Application.ReadWrite.All', 'Directory.ReadWrite.All', 'Application.ReadWrite.OwnedBy'];

function notFound(env: GraphEnv, req: SimRequest, id: string): Error {
  return resourceNotFound(env.ctx.clock, req, id);
}

const json = (body: RawRecord, status = 200): SimResponse => ({ status, headers: { 'content-type': 'application/json' }, body });

function grantJson(g: SimPermissionGrant): RawRecord {
  // grantedDateTime is the simulator's: v1.0 has no date on a grant (microsoft-notes M36).
  return { clientId: g.clientId, consentType: g.consentType, id: g.id, principalId: g.principalId, resourceId: g.resourceId, scope: g.scope };
}

function assignmentJson(a: SimAppRoleAssignment): RawRecord {
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: a.appRoleId,
    createdDateTime: a.createdDateTime,
    principalDisplayName: a.principalDisplayName,
    principalId: a.principalId,
    principalType: a.principalType,
    resourceDisplayName: a.resourceDisplayName,
    resourceId: a.resourceId,
  };
}

export function servicePrincipalJson(sp: SimServicePrincipal): RawRecord {
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: sp.accountEnabled,
    appDisplayName: sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: sp.appOwnerOrganizationId,
    appRoles: sp.appRoles.map((r) => ({ allowedMemberTypes: ['User'], description: r.displayName, isEnabled: true, origin: 'Application', ...r })),
    displayName: sp.displayName,
    publisherName: sp.publisherName,
    servicePrincipalNames: [sp.appId],
    servicePrincipalType: sp.servicePrincipalType,
    tags: [],
    // An unverified publisher is an object of nulls, not a missing property.
    verifiedPublisher: sp.verifiedPublisher ?? { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

/** Directory collections of this area: unordered, paged by id. */
export const LIST: Omit<ListSpec, 'context'> = {
  family: 'directory',
  orderable: [],
  defaultOrder: { property: 'id', desc: false },
  top: { default: 100, max: 999, overflow: 'error' },
};

function userGrants(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', GRANT_READ);
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  // Only grants made for this user: tenant-wide AllPrincipals grants are not included.
  const grants = token.tenant.oauth2PermissionGrants.filter((g) => g.consentType === 'Principal' && g.principalId === user.id);
  return listResponse(env.ctx.clock, req, grants.map(grantJson), { ...LIST, context: 'oauth2PermissionGrants' });
}

function allGrants(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', GRANT_READ);
  return listResponse(env.ctx.clock, req, token.tenant.oauth2PermissionGrants.map(grantJson), {
    ...LIST,
    filter: { properties: ['clientId', 'consentType', 'principalId', 'resourceId'] },
    context: 'oauth2PermissionGrants',
  });
}

function grantOf(env: GraphEnv, req: SimRequest, tenant: SimTenant): SimPermissionGrant {
  const grant = tenant.oauth2PermissionGrants.find((g) => g.id === req.params.grantId);
  if (!grant) throw notFound(env, req, req.params.grantId);
  return grant;
}

function getGrant(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', GRANT_READ);
  const grant = grantOf(env, req, token.tenant);
  return json({ '@odata.context': `${req.baseUrl}/v1.0/$metadata#oauth2PermissionGrants/$entity`, ...grantJson(grant) });
}

function auditApp(env: GraphEnv, token: VerifiedToken, activity: string, userId: string | null, sp: SimServicePrincipal | undefined): void {
  const user = userId ? token.tenant.users.find((u) => u.id === userId) : undefined;
  if (!user) return;
  recordDirectoryAudit(env.ctx, token.tenant, token, {
    activity,
    category: 'ApplicationManagement',
    operationType: activity.startsWith('Remove') ? 'Unassign' : 'Update',
    target: user,
    additionalDetails: [{ key: 'AppId', value: sp?.appId ?? '' }],
  });
}

function deleteGrant(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', GRANT_WRITE);
  throttle(env, req, token, 'directoryWrites');
  const grant = grantOf(env, req, token.tenant);
  token.tenant.oauth2PermissionGrants = token.tenant.oauth2PermissionGrants.filter((g) => g !== grant);
  const sp = token.tenant.servicePrincipals.find((s) => s.id === grant.clientId);
  auditApp(env, token, 'Remove delegated permission grant', grant.principalId, sp);
  return { status: 204 };
}

function userAssignments(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', ASSIGNMENT_READ);
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  const mine = token.tenant.appRoleAssignments.filter((a) => a.principalId === user.id);
  return listResponse(env.ctx.clock, req, mine.map(assignmentJson), { ...LIST, context: `users('${user.id}')/appRoleAssignments` });
}

function removeAssignment(env: GraphEnv, token: VerifiedToken, assignment: SimAppRoleAssignment): SimResponse {
  token.tenant.appRoleAssignments = token.tenant.appRoleAssignments.filter((a) => a !== assignment);
  const sp = token.tenant.servicePrincipals.find((s) => s.id === assignment.resourceId);
  auditApp(env, token, 'Remove app role assignment from user', assignment.principalId, sp);
  return { status: 204 };
}

function deleteUserAssignment(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', ASSIGNMENT_WRITE);
  throttle(env, req, token, 'directoryWrites');
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  const assignment = token.tenant.appRoleAssignments.find((a) => a.id === req.params.assignmentId && a.principalId === user.id);
  if (!assignment) throw notFound(env, req, req.params.assignmentId);
  return removeAssignment(env, token, assignment);
}

/** `{id}` or `(appId='{appId}')`, as the path segment after `servicePrincipals` gives it. */
function findServicePrincipal(tenant: SimTenant, key: string): SimServicePrincipal | undefined {
  const byAppId = /^\(appId='([^']*)'\)$/i.exec(key);
  if (byAppId) return tenant.servicePrincipals.find((sp) => sp.appId.toLowerCase() === byAppId[1].toLowerCase());
  return tenant.servicePrincipals.find((sp) => sp.id.toLowerCase() === key.toLowerCase());
}

function servicePrincipalOf(env: GraphEnv, req: SimRequest, tenant: SimTenant, key: string): SimServicePrincipal {
  const sp = findServicePrincipal(tenant, key);
  if (!sp) throw notFound(env, req, key.replace(/^\(appId='([^']*)'\)$/i, '$1'));
  return sp;
}

function resourceAssignments(env: GraphEnv, req: SimRequest, key: string): SimResponse {
  const token = authorize(env, req, 'directory', ASSIGNMENT_READ);
  const sp = servicePrincipalOf(env, req, token.tenant, key);
  const assigned = token.tenant.appRoleAssignments.filter((a) => a.resourceId === sp.id);
  return listResponse(env.ctx.clock, req, assigned.map(assignmentJson), { ...LIST, context: `servicePrincipals('${sp.id}')/appRoleAssignedTo` });
}

function deleteResourceAssignment(env: GraphEnv, req: SimRequest, key: string): SimResponse {
  const token = authorize(env, req, 'directory', ASSIGNMENT_WRITE);
  throttle(env, req, token, 'directoryWrites');
  const sp = servicePrincipalOf(env, req, token.tenant, key);
  // The path names the resource app, not the client (microsoft-notes M24).
  const assignment = token.tenant.appRoleAssignments.find((a) => a.id === req.params.assignmentId && a.resourceId === sp.id);
  if (!assignment) throw notFound(env, req, req.params.assignmentId);
  return removeAssignment(env, token, assignment);
}

function getServicePrincipal(env: GraphEnv, req: SimRequest, key: string): SimResponse {
  const token = authorize(env, req, 'directory', SP_READ);
  const sp = servicePrincipalOf(env, req, token.tenant, key);
  return json({ '@odata.context': `${req.baseUrl}/v1.0/$metadata#servicePrincipals/$entity`, ...servicePrincipalJson(sp) });
}

const SP_PATCHABLE = ['accountEnabled', 'displayName', 'tags'];

function patchServicePrincipal(env: GraphEnv, req: SimRequest, key: string): SimResponse {
  const token = authorize(env, req, 'directory', SP_WRITE);
  throttle(env, req, token, 'directoryWrites');
  const sp = servicePrincipalOf(env, req, token.tenant, key);
  const ownedOnly = !token.roles.some((r) => r === 'Application.ReadWrite.All' || r === 'Directory.ReadWrite.All');
  if (ownedOnly && sp.appId !== token.app?.clientId) {
    throw graphError(env.ctx.clock, req, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw graphError(env.ctx.clock, req, 400, 'Request_BadRequest', 'Invalid request body: a JSON object is required.');
  }
  const patch = body as Record<string, unknown>;
  for (const k of Object.keys(patch)) {
    if (k.startsWith('@odata.')) continue;
    if (!SP_PATCHABLE.includes(k)) throw graphError(env.ctx.clock, req, 400, 'Request_BadRequest', `Invalid property '${k}'.`);
  }
  if ('accountEnabled' in patch && typeof patch.accountEnabled !== 'boolean') {
    throw graphError(env.ctx.clock, req, 400, 'Request_BadRequest', "Invalid value specified for property 'accountEnabled' of resource 'ServicePrincipal'.");
  }
  if ('displayName' in patch && typeof patch.displayName === 'string') sp.displayName = patch.displayName;
  if (typeof patch.accountEnabled === 'boolean') sp.accountEnabled = patch.accountEnabled;
  return { status: 204 };
}

/**
 * `servicePrincipals(appId='…')` is one path segment, so it is routed as `/v1.0/:segment`; any other
 * single segment answers the router's own 404.
 */
function bySegment(env: GraphEnv, req: SimRequest, then: (key: string) => SimResponse): SimResponse {
  const match = /^servicePrincipals(\(appId='[^']*'\))$/i.exec(req.params.segment);
  if (!match) return notFoundResponse('graph', req, env.ctx.clock.now());
  return then(match[1]);
}

export function appConsentRoutes(env: GraphEnv): SimRoute[] {
  const r = (method: SimRoute['method'], pattern: string, handler: SimRoute['handler']): SimRoute => ({ host: 'graph', method, pattern, handler });
  return [
    r('GET', '/v1.0/users/:id/oauth2PermissionGrants', (req) => userGrants(env, req)),
    r('GET', '/v1.0/oauth2PermissionGrants', (req) => allGrants(env, req)),
    r('GET', '/v1.0/oauth2PermissionGrants/:grantId', (req) => getGrant(env, req)),
    r('DELETE', '/v1.0/oauth2PermissionGrants/:grantId', (req) => deleteGrant(env, req)),
    r('GET', '/v1.0/users/:id/appRoleAssignments', (req) => userAssignments(env, req)),
    r('DELETE', '/v1.0/users/:id/appRoleAssignments/:assignmentId', (req) => deleteUserAssignment(env, req)),
    r('GET', '/v1.0/servicePrincipals/:sp', (req) => getServicePrincipal(env, req, req.params.sp)),
    r('PATCH', '/v1.0/servicePrincipals/:sp', (req) => patchServicePrincipal(env, req, req.params.sp)),
    r('GET', '/v1.0/servicePrincipals/:sp/appRoleAssignedTo', (req) => resourceAssignments(env, req, req.params.sp)),
    r('DELETE', '/v1.0/servicePrincipals/:sp/appRoleAssignedTo/:assignmentId', (req) => deleteResourceAssignment(env, req, req.params.sp)),
    r('GET', '/v1.0/:segment', (req) => bySegment(env, req, (key) => getServicePrincipal(env, req, key))),
    r('PATCH', '/v1.0/:segment', (req) => bySegment(env, req, (key) => patchServicePrincipal(env, req, key))),
    r('GET', '/v1.0/:segment/appRoleAssignedTo', (req) => bySegment(env, req, (key) => resourceAssignments(env, req, key))),
    r('DELETE', '/v1.0/:segment/appRoleAssignedTo/:assignmentId', (req) => bySegment(env, req, (key) => deleteResourceAssignment(env, req, key))),
  ];
}
