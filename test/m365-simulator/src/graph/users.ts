/**
 * Users: `GET`/`PATCH /v1.0/users/{id|upn}` and `POST /v1.0/users/{id|upn}/revokeSignInSessions`
 * (microsoft-notes §4.1, §4.2).
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, SimTenant, SimUser, VerifiedToken } from '../types';
import { authenticate, authorize, hasAnyRole, permissionDenied, type GraphEnv } from './access';
import { auditValue, recordDirectoryAudit, type ModifiedProperty } from './directory-audit';
import { graphError, resourceNotFound } from './errors';
import { queryOption } from './paging';

export const READ_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_ROLES = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const REVOKE_ROLES = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];
/** microsoft-notes M14: the permission that covers passwordProfile for apps; User.ReadWrite.All alone does not. */
const PASSWORD_ROLES = ['User-PasswordProfile.ReadWrite.All'];
/**
 * The older user-update doc's route, still honoured: User.ReadWrite.All (or Directory.ReadWrite.All)
 * *and* a directory role on the app's service principal that may reset passwords.
 */
const PASSWORD_RESET_DIRECTORY_ROLES = [
  'Helpdesk Administrator',
  'Password Administrator',
  'User Administrator',
  'Authentication Administrator',
  'Privileged Authentication Administrator',
  'Global Administrator',
];

/** Properties Graph returns for a user when no `$select` is given (accountEnabled is not one). */
export const DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
export const EXTRA_PROPERTIES = [
  'accountEnabled',
  'userType',
  'signInSessionsValidFromDateTime',
  'lastPasswordChangeDateTime',
  'onPremisesSyncEnabled',
  'otherMails',
];

/** Properties whose update on an admin needs a higher directory role (microsoft-notes §4.3, M13). */
const SENSITIVE_PROPERTIES = ['accountEnabled', 'passwordProfile', 'mobilePhone', 'otherMails', 'businessPhones'];
/** Roles that may act on any admin ("Who can perform sensitive actions"). */
const TOP_ROLES = ['Global Administrator', 'Privileged Authentication Administrator'];
/** Limited admin roles that a User Administrator / Helpdesk-level role may still manage. */
const LIMITED_ADMIN_ROLES = [
  'Directory Readers',
  'Guest Inviter',
  'Helpdesk Administrator',
  'Message Center Reader',
  'Password Administrator',
  'Reports Reader',
  'Usage Summary Reports Reader',
];
const LIMITED_MANAGER_ROLES = ['User Administrator', 'Authentication Administrator', 'Helpdesk Administrator'];

const PATCHABLE = new Set(['accountEnabled', 'passwordProfile', 'displayName', 'jobTitle', 'mobilePhone', 'otherMails', 'businessPhones']);

/** Users by lower-case id and UPN, per tenant user list; rebuilt when the list grows or a lookup finds it stale. */
const userIndexes = new WeakMap<SimUser[], { size: number; byKey: Map<string, SimUser> }>();

function userIndex(users: SimUser[]): Map<string, SimUser> {
  let index = userIndexes.get(users);
  if (!index || index.size !== users.length) {
    const byKey = new Map<string, SimUser>();
    for (const u of users) byKey.set(u.id.toLowerCase(), u).set(u.userPrincipalName.toLowerCase(), u);
    userIndexes.set(users, (index = { size: users.length, byKey }));
  }
  return index.byKey;
}

/** By object id or UPN, case-insensitively (a tenant of thousands of users answers as fast as one of ten). */
export function findUser(tenant: SimTenant, idOrUpn: string): SimUser | undefined {
  const key = idOrUpn.toLowerCase();
  const matches = (u: SimUser) => u.id.toLowerCase() === key || u.userPrincipalName.toLowerCase() === key;
  const hit = userIndex(tenant.users).get(key);
  if (hit && matches(hit) && tenant.users.includes(hit)) return hit;
  // not in the index, or the index is stale (a user renamed or replaced in place): the list is the truth
  const found = tenant.users.find(matches);
  if (found) userIndexes.delete(tenant.users);
  return found;
}

export function userNotFound(env: GraphEnv, req: SimRequest, idOrUpn: string): Error {
  return resourceNotFound(env.ctx.clock, req, idOrUpn);
}

export function userJson(user: SimUser): RawRecord {
  const extra = user as unknown as Record<string, unknown>;
  return {
    businessPhones: extra.businessPhones ?? [],
    displayName: user.displayName,
    givenName: extra.givenName ?? null,
    jobTitle: extra.jobTitle ?? null,
    mail: user.mail ?? null,
    mobilePhone: extra.mobilePhone ?? null,
    officeLocation: extra.officeLocation ?? null,
    preferredLanguage: extra.preferredLanguage ?? null,
    surname: extra.surname ?? null,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
    accountEnabled: user.accountEnabled,
    userType: user.userType ?? 'Member',
    signInSessionsValidFromDateTime: user.signInSessionsValidFromDateTime,
    lastPasswordChangeDateTime: user.lastPasswordChangeDateTime ?? null,
    onPremisesSyncEnabled: extra.onPremisesSyncEnabled ?? null,
    otherMails: extra.otherMails ?? [],
  };
}

function getUser(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', READ_ROLES);
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  const all = userJson(user);
  const select = queryOption(req, 'select');
  let names = DEFAULT_PROPERTIES;
  let context = `${req.baseUrl}/v1.0/$metadata#users/$entity`;
  if (select) {
    names = [];
    for (const raw of select
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const name = [...DEFAULT_PROPERTIES, ...EXTRA_PROPERTIES].find((p) => p.toLowerCase() === raw.toLowerCase());
      if (!name) {
        throw graphError(env.ctx.clock, req, 400, 'Request_BadRequest', `Could not find a property named '${raw}' on type 'microsoft.graph.user'.`);
      }
      names.push(name);
    }
    context = `${req.baseUrl}/v1.0/$metadata#users(${names.join(',')})/$entity`;
  }
  const body: RawRecord = { '@odata.context': context };
  for (const name of names) body[name] = all[name];
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

function mayPatch(token: VerifiedToken, property: string): boolean {
  switch (property) {
    case 'accountEnabled':
      // Least privilege is User.EnableDisableAccount.All *plus* a read permission (microsoft-notes §4.1).
      return (
        hasAnyRole(token, WRITE_ROLES) || (token.roles.includes('User.EnableDisableAccount.All') && hasAnyRole(token, ['User.Read.All', 'Directory.Read.All']))
      );
    case 'passwordProfile':
      return (
        hasAnyRole(token, PASSWORD_ROLES) ||
        (hasAnyRole(token, WRITE_ROLES) && (token.app?.directoryRoles ?? []).some((r) => PASSWORD_RESET_DIRECTORY_ROLES.includes(r)))
      );
    default:
      return hasAnyRole(token, WRITE_ROLES);
  }
}

/** Whether the app's service principal outranks the target admin (microsoft-notes §4.3, M13). */
function mayManagePrivileged(token: VerifiedToken, target: SimUser): boolean {
  if (target.directoryRoles.length === 0) return true;
  const appRoles = token.app?.directoryRoles ?? [];
  if (appRoles.some((r) => TOP_ROLES.includes(r))) return true;
  const targetIsLimited = target.directoryRoles.every((r) => LIMITED_ADMIN_ROLES.includes(r));
  return targetIsLimited && appRoles.some((r) => LIMITED_MANAGER_ROLES.includes(r));
}

/** Entra's rule: 8–256 characters and three of upper, lower, digit, symbol. */
function passwordIsComplex(password: string): boolean {
  if (password.length < 8 || password.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return classes >= 3;
}

function badRequest(env: GraphEnv, req: SimRequest, message: string): Error {
  return graphError(env.ctx.clock, req, 400, 'Request_BadRequest', message);
}

function validatePatch(env: GraphEnv, req: SimRequest): Record<string, unknown> {
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(env, req, 'Invalid request body: a JSON object is required.');
  }
  const patch = body as Record<string, unknown>;
  for (const key of Object.keys(patch)) {
    if (key.startsWith('@odata.')) continue;
    if (!PATCHABLE.has(key)) throw badRequest(env, req, `Invalid property '${key}'.`);
  }
  if ('accountEnabled' in patch && typeof patch.accountEnabled !== 'boolean') {
    throw badRequest(env, req, "Invalid value specified for property 'accountEnabled' of resource 'User'.");
  }
  if ('passwordProfile' in patch) {
    const profile = patch.passwordProfile as Record<string, unknown> | null;
    if (!profile || typeof profile !== 'object' || typeof profile.password !== 'string') {
      throw badRequest(env, req, "Invalid value specified for property 'passwordProfile' of resource 'User'.");
    }
  }
  return patch;
}

function patchUser(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authenticate(env, req);
  const patch = validatePatch(env, req);
  const properties = Object.keys(patch).filter((k) => !k.startsWith('@odata.'));
  for (const property of properties) {
    if (!mayPatch(token, property)) throw permissionDenied(env, req, 'directory', []);
  }
  const tenant = token.tenant;
  const user = findUser(tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  if (properties.some((p) => SENSITIVE_PROPERTIES.includes(p)) && !mayManagePrivileged(token, user)) {
    throw permissionDenied(env, req, 'directory', []);
  }
  const profile = patch.passwordProfile as { password: string; forceChangePasswordNextSignIn?: boolean } | undefined;
  if (profile && !passwordIsComplex(profile.password)) {
    throw badRequest(env, req, 'The specified password does not comply with password complexity requirements. Please provide a different password.');
  }

  const now = env.ctx.clock.now().toISOString();
  const changes: ModifiedProperty[] = [];
  const mutable = user as unknown as Record<string, unknown>;
  for (const property of properties) {
    if (property === 'passwordProfile') continue;
    const before = mutable[property] ?? null;
    mutable[property] = patch[property];
    changes.push({
      displayName: property === 'accountEnabled' ? 'AccountEnabled' : property.charAt(0).toUpperCase() + property.slice(1),
      oldValue: auditValue(before),
      newValue: auditValue(patch[property]),
    });
  }
  if (changes.length > 0) {
    const included = changes.map((c) => c.displayName).join(', ');
    recordDirectoryAudit(env.ctx, tenant, token, {
      activity: 'Update user',
      target: user,
      modifiedProperties: [...changes, { displayName: 'Included Updated Properties', oldValue: null, newValue: `"${included}"` }],
    });
    const enabled = changes.find((c) => c.displayName === 'AccountEnabled');
    if (enabled && enabled.oldValue !== enabled.newValue) {
      recordDirectoryAudit(env.ctx, tenant, token, {
        activity: user.accountEnabled ? 'Enable account' : 'Disable account',
        target: user,
        modifiedProperties: [enabled],
      });
    }
  }
  if (profile) {
    // Only when it was set: the password itself is never kept (nor journaled, journal.ts).
    user.lastPasswordChangeDateTime = now;
    const passwordMethod = user.authMethods?.find((m) => m.type === 'password');
    if (passwordMethod) passwordMethod.createdDateTime = now;
    user.forceChangePasswordNextSignIn = profile.forceChangePasswordNextSignIn ?? false;
    recordDirectoryAudit(env.ctx, tenant, token, { activity: 'Reset user password', target: user });
    if (user.forceChangePasswordNextSignIn) {
      recordDirectoryAudit(env.ctx, tenant, token, { activity: 'Set force change user password', target: user });
    }
  }
  return { status: 204 };
}

function revokeSignInSessions(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', REVOKE_ROLES);
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  const before = user.signInSessionsValidFromDateTime;
  // Graph reports this property to the second, without a fraction.
  user.signInSessionsValidFromDateTime = env.ctx.clock
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  recordDirectoryAudit(env.ctx, token.tenant, token, {
    activity: 'Update StsRefreshTokenValidFrom Timestamp',
    target: user,
    modifiedProperties: [
      {
        displayName: 'StsRefreshTokensValidFrom',
        oldValue: auditValue(before),
        newValue: auditValue(user.signInSessionsValidFromDateTime),
      },
    ],
  });
  // 200 with an Edm.Boolean (microsoft-notes §4.2); the doc's "known issue" says clients should also accept 204 (M15).
  if (env.options().revokeSignInSessionsStatus === 204) return { status: 204 };
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#Edm.Boolean`, value: true },
  };
}

export function userRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/users/:id', handler: (req) => getUser(env, req) },
    { host: 'graph', method: 'PATCH', pattern: '/v1.0/users/:id', handler: (req) => patchUser(env, req) },
    {
      host: 'graph',
      method: 'POST',
      pattern: '/v1.0/users/:id/revokeSignInSessions',
      handler: (req) => revokeSignInSessions(env, req),
    },
  ];
}
