import { servicePrincipalId } from './graph/access';
import { guidFrom, isGuid } from './ids';
import type {
  SimAppRoleAssignment,
  SimAuthMethod,
  SimAuthMethodType,
  SimMessageRule,
  SimPermissionGrant,
  SimServicePrincipal,
  SimTenant,
  SimUser,
} from './types';

/**
 * What an attacker leaves behind in a tenant (inbox rules and sign-in methods live on the user; apps,
 * consent grants and app role assignments on the tenant): the scenario's shape, its defaults and its
 * validation (microsoft-notes §9).
 */

/** Microsoft Graph's application id, the same in every tenant. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** The resource apps Cordon's app permissions are on (their appId is the same in every tenant). */
export const RESOURCE_APPS = {
  graph: { appId: MICROSOFT_GRAPH_APP_ID, displayName: 'Microsoft Graph' },
  manage: { appId: 'c5393580-f805-4401-95e8-94b7a6ef2fc2', displayName: 'Office 365 Management APIs' },
  defender: { appId: 'fc780465-2017-40d4-a0c5-307022471b92', displayName: 'WindowsDefenderATP' },
} as const;
/** The tenant that owns Microsoft's first-party apps. */
const MICROSOFT_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
/** The password method's id, the same for every user (microsoft-notes §4.4). */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
/** Phone methods have fixed ids by phone type. */
export const PHONE_METHOD_IDS: Record<string, string> = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
};
/** The "default access" app role, assigned when an app defines no roles. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';

export const AUTH_METHOD_TYPES: SimAuthMethodType[] = [
  'password',
  'phone',
  'microsoftAuthenticator',
  'fido2',
  'softwareOath',
  'email',
  'temporaryAccessPass',
  'windowsHelloForBusiness',
  'platformCredential',
];

/**
 * How a scenario declares them: every field but the app id optional. A grant or assignment may name its
 * client / resource by appId and its principal by UPN; they are resolved to object ids.
 */
export interface PersistenceInput {
  servicePrincipals?: Array<Partial<SimServicePrincipal>>;
  oauth2PermissionGrants?: Array<Partial<SimPermissionGrant>>;
  appRoleAssignments?: Array<Partial<SimAppRoleAssignment>>;
}

/** Graph's grant ids are base64url of the client, resource and principal ids; derived the same way here. */
export function grantId(clientId: string, resourceId: string, principalId: string | null): string {
  const bytes = [clientId, resourceId, principalId ?? ''].map((g) => Buffer.from(g.replace(/-/g, ''), 'hex'));
  return Buffer.concat(bytes).toString('base64url');
}

export function appRoleAssignmentId(principalId: string, resourceId: string, appRoleId: string): string {
  return Buffer.from(guidFrom('app-role-assignment', principalId, resourceId, appRoleId).replace(/-/g, ''), 'hex').toString('base64url');
}

function fillServicePrincipal(tenantId: string, raw: Partial<SimServicePrincipal> & { appId: string }): SimServicePrincipal {
  return {
    ...raw,
    id: raw.id ?? guidFrom('sp', tenantId, raw.appId.toLowerCase()),
    appId: raw.appId,
    displayName: raw.displayName ?? raw.appId,
    accountEnabled: raw.accountEnabled ?? true,
    publisherName: raw.publisherName ?? null,
    verifiedPublisher: raw.verifiedPublisher ?? null,
    appOwnerOrganizationId: raw.appOwnerOrganizationId ?? null,
    servicePrincipalType: raw.servicePrincipalType ?? 'Application',
    appRoles: raw.appRoles ?? [],
  };
}

/** Built-in service principals: the three resource apps' (Graph, Management API, Defender) and one for each of the tenant's apps (same ids as the audits). */
function builtInServicePrincipals(tenant: SimTenant): Array<Partial<SimServicePrincipal> & { appId: string }> {
  return [
    ...Object.values(RESOURCE_APPS).map((r) => ({
      appId: r.appId,
      id: guidFrom('sp', tenant.tenantId, r.appId),
      displayName: r.displayName,
      publisherName: 'Microsoft Services',
      appOwnerOrganizationId: MICROSOFT_TENANT_ID,
    })),
    ...tenant.apps.map((a) => ({
      appId: a.clientId,
      id: servicePrincipalId(a.clientId),
      displayName: a.displayName,
      publisherName: tenant.displayName,
      appOwnerOrganizationId: tenant.tenantId,
    })),
  ];
}

function resolveSp(tenant: SimTenant, idOrAppId: string | undefined): SimServicePrincipal | undefined {
  const key = String(idOrAppId ?? '').toLowerCase();
  return tenant.servicePrincipals.find((sp) => sp.id.toLowerCase() === key || sp.appId.toLowerCase() === key);
}

function resolveUser(tenant: SimTenant, idOrUpn: string | null | undefined): SimUser | undefined {
  const key = String(idOrUpn ?? '').toLowerCase();
  return tenant.users.find((u) => u.id.toLowerCase() === key || u.userPrincipalName.toLowerCase() === key);
}

function grantWithDefaults(tenant: SimTenant, g: Partial<SimPermissionGrant>, nowIso: string): SimPermissionGrant {
  const clientId = resolveSp(tenant, g.clientId)?.id ?? String(g.clientId);
  const resourceId = resolveSp(tenant, g.resourceId ?? MICROSOFT_GRAPH_APP_ID)?.id ?? String(g.resourceId);
  const consentType = g.consentType ?? 'Principal';
  const principalId = consentType === 'AllPrincipals' ? null : (resolveUser(tenant, g.principalId)?.id ?? String(g.principalId));
  return {
    ...g,
    id: g.id ?? grantId(clientId, resourceId, principalId),
    clientId,
    consentType,
    principalId,
    resourceId,
    scope: g.scope ?? 'User.Read',
    grantedDateTime: g.grantedDateTime ?? nowIso,
  };
}

function assignmentWithDefaults(tenant: SimTenant, a: Partial<SimAppRoleAssignment>, nowIso: string): SimAppRoleAssignment {
  const resource = resolveSp(tenant, a.resourceId);
  const user = resolveUser(tenant, a.principalId);
  const principalId = user?.id ?? String(a.principalId);
  const resourceId = resource?.id ?? String(a.resourceId);
  const appRoleId = a.appRoleId ?? DEFAULT_ACCESS_ROLE_ID;
  return {
    ...a,
    id: a.id ?? appRoleAssignmentId(principalId, resourceId, appRoleId),
    appRoleId,
    createdDateTime: a.createdDateTime ?? nowIso,
    principalId,
    principalDisplayName: a.principalDisplayName ?? user?.displayName ?? null,
    principalType: a.principalType ?? 'User',
    resourceId,
    resourceDisplayName: a.resourceDisplayName ?? resource?.displayName ?? null,
  };
}

/** Builds the tenant's apps, grants and assignments from a validated scenario tenant. */
export function fillPersistence(tenant: SimTenant, input: PersistenceInput, nowIso: string): void {
  const declared = (input.servicePrincipals ?? []) as Array<Partial<SimServicePrincipal> & { appId: string }>;
  const builtIns = builtInServicePrincipals(tenant).filter((b) => !declared.some((d) => d.appId.toLowerCase() === b.appId.toLowerCase()));
  tenant.servicePrincipals = [...builtIns, ...declared].map((sp) => fillServicePrincipal(tenant.tenantId, sp));
  tenant.oauth2PermissionGrants = (input.oauth2PermissionGrants ?? []).map((g) => grantWithDefaults(tenant, g, nowIso));
  tenant.appRoleAssignments = (input.appRoleAssignments ?? []).map((a) => assignmentWithDefaults(tenant, a, nowIso));
}

export const PERSISTENCE_KINDS = ['servicePrincipals', 'oauth2PermissionGrants', 'appRoleAssignments'] as const;
export type PersistenceKind = (typeof PERSISTENCE_KINDS)[number];

/** Adds records at run time (control routes), with the same defaults and validation as a scenario. */
export function addPersistence(tenant: SimTenant, kind: PersistenceKind, items: unknown[], nowIso: string): void {
  const problems = validatePersistence({ [kind]: items }, kind).map((p) => p.replace(`${kind}.${kind}`, kind));
  if (problems.length) throw new Error(problems.join('; '));
  if (kind === 'servicePrincipals') {
    for (const sp of items as Array<Partial<SimServicePrincipal> & { appId: string }>) {
      if (resolveSp(tenant, sp.appId)) throw new Error(`a service principal for appId ${sp.appId} exists`);
      tenant.servicePrincipals.push(fillServicePrincipal(tenant.tenantId, sp));
    }
  } else if (kind === 'oauth2PermissionGrants') {
    tenant.oauth2PermissionGrants.push(...(items as Array<Partial<SimPermissionGrant>>).map((g) => grantWithDefaults(tenant, g, nowIso)));
  } else {
    tenant.appRoleAssignments.push(...(items as Array<Partial<SimAppRoleAssignment>>).map((a) => assignmentWithDefaults(tenant, a, nowIso)));
  }
}

type TenantShape = PersistenceInput & {
  users?: Array<{ inboxRules?: Array<Partial<SimMessageRule>>; authMethods?: Array<Partial<SimAuthMethod>>; defaultAuthMethodId?: string }>;
};

function validateUsers(t: TenantShape, at: string): string[] {
  const problems: string[] = [];
  (t.users ?? []).forEach((u, j) => {
    const where = `${at}.users[${j}]`;
    if (u.inboxRules !== undefined && !Array.isArray(u.inboxRules)) problems.push(`${where}.inboxRules: must be an array`);
    if (u.authMethods !== undefined && !Array.isArray(u.authMethods)) problems.push(`${where}.authMethods: must be an array`);
    (Array.isArray(u.inboxRules) ? u.inboxRules : []).forEach((r, k) => {
      if (r.sequence !== undefined && !(Number.isInteger(r.sequence) && r.sequence > 0)) {
        problems.push(`${where}.inboxRules[${k}].sequence: must be a positive integer`);
      }
      if (r.actions !== undefined && (typeof r.actions !== 'object' || r.actions === null || Array.isArray(r.actions))) {
        problems.push(`${where}.inboxRules[${k}].actions: must be an object`);
      }
    });
    const methods = Array.isArray(u.authMethods) ? u.authMethods : [];
    methods.forEach((m, k) => {
      if (!AUTH_METHOD_TYPES.includes(m.type as SimAuthMethodType)) {
        problems.push(`${where}.authMethods[${k}].type: "${m.type}" is not one of ${AUTH_METHOD_TYPES.join(', ')}`);
      }
      if (m.createdDateTime !== undefined && Number.isNaN(Date.parse(m.createdDateTime))) {
        problems.push(`${where}.authMethods[${k}].createdDateTime: "${m.createdDateTime}" is not a date`);
      }
    });
    if (methods.filter((m) => m.type === 'password').length > 1) problems.push(`${where}.authMethods: more than one password method`);
    if (u.defaultAuthMethodId !== undefined && !methods.some((m) => m.id === u.defaultAuthMethodId)) {
      problems.push(`${where}.defaultAuthMethodId: "${u.defaultAuthMethodId}" is none of the user's authMethods ids`);
    }
  });
  return problems;
}

/** Problems with the persistence a scenario tenant declares (paths as `tenants[i].…`). */
export function validatePersistence(t: TenantShape, at: string): string[] {
  const problems = validateUsers(t, at);
  for (const key of PERSISTENCE_KINDS) {
    if (t[key] !== undefined && !Array.isArray(t[key])) problems.push(`${at}.${key}: must be an array`);
  }
  const sps = Array.isArray(t.servicePrincipals) ? t.servicePrincipals : [];
  sps.forEach((sp, j) => {
    if (!isGuid(sp.appId)) problems.push(`${at}.servicePrincipals[${j}].appId: "${sp.appId}" is not a GUID`);
    if (sp.id !== undefined && !isGuid(sp.id)) problems.push(`${at}.servicePrincipals[${j}].id: "${sp.id}" is not a GUID`);
  });
  const grants = Array.isArray(t.oauth2PermissionGrants) ? t.oauth2PermissionGrants : [];
  grants.forEach((g, j) => {
    if (!g.clientId) problems.push(`${at}.oauth2PermissionGrants[${j}].clientId: required (a service principal id or appId)`);
    if (g.consentType !== undefined && g.consentType !== 'Principal' && g.consentType !== 'AllPrincipals') {
      problems.push(`${at}.oauth2PermissionGrants[${j}].consentType: must be Principal or AllPrincipals`);
    }
    if ((g.consentType ?? 'Principal') === 'Principal' && !g.principalId) {
      problems.push(`${at}.oauth2PermissionGrants[${j}].principalId: required for a Principal grant (a user id or UPN)`);
    }
  });
  const assignments = Array.isArray(t.appRoleAssignments) ? t.appRoleAssignments : [];
  assignments.forEach((a, j) => {
    if (!a.principalId) problems.push(`${at}.appRoleAssignments[${j}].principalId: required (a user id or UPN)`);
    if (!a.resourceId) problems.push(`${at}.appRoleAssignments[${j}].resourceId: required (a service principal id or appId)`);
  });
  return problems;
}
