/**
 * Group membership (microsoft-notes §9.4): `GET /v1.0/groups/{id}/members`,
 * `POST /v1.0/groups/{id}/members/$ref` `{"@odata.id": ".../directoryObjects/{id}"}` and
 * `DELETE /v1.0/groups/{id}/members/{memberId}/$ref`, both 204. Already a member ⇒ 400; an unknown
 * group, object or membership ⇒ 404. `DELETE …/members/{id}` **without** `/$ref` deletes the user
 * object itself when the app may write users (microsoft-notes M24), as Graph does.
 */
import type { RawRecord, SimGroup, SimRequest, SimResponse, SimRoute, SimTenant, SimUser, VerifiedToken } from '../types';
import { authorize, hasAnyRole, permissionDenied, throttle, type GraphEnv } from './access';
import { recordDirectoryAudit } from './directory-audit';
import { graphError, resourceNotFound } from './errors';
import { listResponse } from './paging';
import { findUser, userJson } from './users';

const READ_ROLES = [
  'GroupMember.Read.All',
  'Group.Read.All',
  'Directory.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.ReadWrite.All',
  'Directory.ReadWrite.All',
];
const WRITE_ROLES = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const USER_DELETE_ROLES = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];

function notFound(env: GraphEnv, req: SimRequest, id: string): Error {
  return resourceNotFound(env.ctx.clock, req, id);
}

function badRequest(env: GraphEnv, req: SimRequest, message: string): Error {
  return graphError(env.ctx.clock, req, 400, 'Request_BadRequest', message);
}

function groupOf(env: GraphEnv, req: SimRequest, tenant: SimTenant): SimGroup {
  const group = tenant.groups.find((g) => g.id.toLowerCase() === req.params.id.toLowerCase());
  if (!group) throw notFound(env, req, req.params.id);
  return group;
}

/** Changing members of a dynamic group fails; of a role-assignable group needs a role-management permission. */
function checkWritable(env: GraphEnv, req: SimRequest, token: VerifiedToken, group: SimGroup): void {
  if (group.isAssignableToRole && !token.roles.includes('RoleManagement.ReadWrite.Directory')) throw permissionDenied(env, req, 'directory', []);
  if ((group.groupTypes ?? []).includes('DynamicMembership')) {
    throw badRequest(env, req, 'Insufficient privileges to complete the operation. Members of a group with dynamic membership cannot be changed.');
  }
}

function memberJson(user: SimUser): RawRecord {
  const { id, displayName, userPrincipalName, mail, givenName, surname, jobTitle, businessPhones, mobilePhone, officeLocation, preferredLanguage } =
    userJson(user);
  return {
    '@odata.type': '#microsoft.graph.user',
    id,
    businessPhones,
    displayName,
    givenName,
    jobTitle,
    mail,
    mobilePhone,
    officeLocation,
    preferredLanguage,
    surname,
    userPrincipalName,
  };
}

function listMembers(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', READ_ROLES);
  const group = groupOf(env, req, token.tenant);
  const members = token.tenant.users.filter((u) => u.memberOf.includes(group.id));
  return listResponse(env.ctx.clock, req, members.map(memberJson), {
    family: 'directory',
    orderable: [],
    defaultOrder: { property: 'id', desc: false },
    top: { default: 100, max: 999, overflow: 'error' },
    context: 'directoryObjects',
  });
}

/** The member's id from `@odata.id`: `https://graph.microsoft.com/v1.0/directoryObjects/{id}` (or `users/{id}`). */
function referencedId(env: GraphEnv, req: SimRequest): string {
  const body = req.body as Record<string, unknown> | undefined;
  const ref = body && typeof body === 'object' ? body['@odata.id'] : undefined;
  if (typeof ref !== 'string' || ref === '') throw badRequest(env, req, "Invalid request body: the '@odata.id' reference is required.");
  const match = /^https:\/\/[^/]+\/(?:v1\.0|beta)\/(?:directoryObjects|users)\/([^/?#]+)$/i.exec(ref);
  if (!match) throw badRequest(env, req, `Invalid URL format specified in @odata.id for members: '${ref}'.`);
  return decodeURIComponent(match[1]);
}

function auditMembership(env: GraphEnv, token: VerifiedToken, activity: string, user: SimUser, group: SimGroup): void {
  recordDirectoryAudit(env.ctx, token.tenant, token, {
    activity,
    category: 'GroupManagement',
    operationType: activity.startsWith('Add') ? 'Assign' : 'Unassign',
    target: user,
    modifiedProperties: [
      { displayName: 'Group.ObjectID', oldValue: null, newValue: JSON.stringify(group.id) },
      { displayName: 'Group.DisplayName', oldValue: null, newValue: JSON.stringify(group.displayName) },
    ],
  });
}

function addMember(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', WRITE_ROLES);
  throttle(env, req, token, 'directoryWrites');
  const group = groupOf(env, req, token.tenant);
  const memberId = referencedId(env, req);
  const user = findUser(token.tenant, memberId);
  if (!user || user.id.toLowerCase() !== memberId.toLowerCase()) throw notFound(env, req, memberId);
  checkWritable(env, req, token, group);
  if (user.memberOf.includes(group.id)) {
    throw badRequest(env, req, "One or more added object references already exist for the following modified properties: 'members'.");
  }
  user.memberOf.push(group.id);
  auditMembership(env, token, 'Add member to group', user, group);
  return { status: 204 };
}

function removeMember(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', WRITE_ROLES);
  throttle(env, req, token, 'directoryWrites');
  const group = groupOf(env, req, token.tenant);
  const user = findUser(token.tenant, req.params.memberId);
  if (!user || user.id.toLowerCase() !== req.params.memberId.toLowerCase() || !user.memberOf.includes(group.id)) {
    throw notFound(env, req, req.params.memberId);
  }
  checkWritable(env, req, token, group);
  user.memberOf = user.memberOf.filter((g) => g !== group.id);
  auditMembership(env, token, 'Remove member from group', user, group);
  return { status: 204 };
}

/** Without `/$ref` the path addresses the user object: Graph deletes it (microsoft-notes M24). */
function deleteMemberObject(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', WRITE_ROLES);
  const group = groupOf(env, req, token.tenant);
  const user = findUser(token.tenant, req.params.memberId);
  if (!user || !user.memberOf.includes(group.id)) throw notFound(env, req, req.params.memberId);
  if (!hasAnyRole(token, USER_DELETE_ROLES)) throw permissionDenied(env, req, 'directory', USER_DELETE_ROLES);
  token.tenant.users.splice(token.tenant.users.indexOf(user), 1);
  recordDirectoryAudit(env.ctx, token.tenant, token, { activity: 'Delete user', operationType: 'Delete', target: user });
  return { status: 204 };
}

export function groupRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/groups/:id/members', handler: (req) => listMembers(env, req) },
    { host: 'graph', method: 'POST', pattern: '/v1.0/groups/:id/members/$ref', handler: (req) => addMember(env, req) },
    { host: 'graph', method: 'DELETE', pattern: '/v1.0/groups/:id/members/:memberId/$ref', handler: (req) => removeMember(env, req) },
    { host: 'graph', method: 'DELETE', pattern: '/v1.0/groups/:id/members/:memberId', handler: (req) => deleteMemberObject(env, req) },
  ];
}
