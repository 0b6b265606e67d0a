import { readFileSync } from 'node:fs';
import { guidFrom, hex40From, isGuid } from './ids';
import { PASSWORD_METHOD_ID, PHONE_METHOD_IDS, fillPersistence, validatePersistence, type PersistenceInput } from './persistence';
import type { Scenario, SimApp, SimAuthMethod, SimDevice, SimMailMessage, SimMessageRule, SimTenant, SimUser, TenantLicences } from './types';

/**
 * Scenario loading: parse, fill every missing field with a default, validate, and build the
 * `SimTenant`s the modules read. Validation collects every problem and reports them together.
 */

/** Application permissions Cordon needs, per resource (microsoft-notes §3.1, §4.1, §2.1, §5.3). */
export const CORDON_PERMISSIONS: SimApp['permissions'] = {
  graph: [
    'User.ReadWrite.All',
    'User.EnableDisableAccount.All',
    'User-PasswordProfile.ReadWrite.All',
    'User.RevokeSessions.All',
    'Directory.Read.All',
    'IdentityRiskyUser.ReadWrite.All',
    'IdentityRiskEvent.Read.All',
    'SecurityAlert.Read.All',
    'SecurityIncident.Read.All',
    'SecurityAlert.ReadWrite.All',
    'SecurityIncident.ReadWrite.All',
    'AuditLog.Read.All',
    'AuditLogsQuery.Read.All',
    'SecurityEvents.Read.All',
  ],
  manage: ['ActivityFeed.Read', 'ActivityFeed.ReadDlp', 'ServiceHealth.Read'],
  defender: [
    'Machine.Read.All',
    'Machine.Isolate',
    'Machine.Scan',
    'Machine.RestrictExecution',
    'Machine.CollectForensics',
    'Machine.StopAndQuarantine',
    'Ti.ReadWrite.All',
    'Machine.ReadWrite.All',
    'Machine.LiveResponse',
  ],
};

export const DEFAULT_LICENCES: TenantLicences = {
  entraP1: true,
  entraP2: true,
  defenderForEndpoint: true,
  defenderXdr: true,
  unifiedAuditLog: true,
};

/** What a scenario file or test may write: every nested object is partial too (defaults fill the rest). */
export type TenantInput = Omit<Partial<SimTenant>, 'apps' | 'users' | 'devices' | 'licences' | keyof PersistenceInput> & {
  tenantId: string;
  apps?: Array<Partial<SimApp>>;
  users?: UserInput[];
  devices?: Array<Partial<SimDevice>>;
  licences?: Partial<TenantLicences>;
} & PersistenceInput;
/** A user as a scenario writes it: rules and methods may leave out what has a default. */
export type UserInput = Omit<Partial<SimUser>, 'inboxRules' | 'authMethods' | 'messages'> & {
  inboxRules?: Array<Partial<SimMessageRule>>;
  /** Delivered messages: ids, folder and time have defaults (graph/mail-messages.ts). */
  messages?: Array<Partial<SimMailMessage> & Pick<SimMailMessage, 'internetMessageId' | 'networkMessageId' | 'subject' | 'from'>>;
  authMethods?: Array<Partial<SimAuthMethod> & Pick<SimAuthMethod, 'type'>>;
};
export type ScenarioInput = Omit<Scenario, 'tenants'> & { tenants: TenantInput[] };

export class ScenarioError extends Error {
  constructor(
    readonly problems: string[],
    source = 'scenario',
  ) {
    super(`invalid ${source}:\n  - ${problems.join('\n  - ')}`);
  }
}

const RECORD_ARRAYS = [
  'alerts',
  'incidents',
  'signIns',
  'directoryAudits',
  'riskDetections',
  'secureScores',
  'secureScoreControlProfiles',
  'auditRecords',
] as const;

type ScenarioTenant = Scenario['tenants'][number];

function fillApp(tenantId: string, raw: Partial<SimApp>, index: number): SimApp {
  const clientId = raw.clientId ?? guidFrom('app', tenantId, index);
  const hasCredential = (raw.clientSecrets?.length ?? 0) > 0 || (raw.certificates?.length ?? 0) > 0 || raw.generateCertificate;
  return {
    ...raw,
    clientId,
    displayName: raw.displayName ?? 'Cordon',
    clientSecrets: raw.clientSecrets ?? (hasCredential ? [] : [`sim-secret-${guidFrom('secret', clientId)}`]),
    certificates: raw.certificates ?? [],
    permissions: raw.permissions
      ? { graph: raw.permissions.graph ?? [], manage: raw.permissions.manage ?? [], defender: raw.permissions.defender ?? [] }
      : structuredClone(CORDON_PERMISSIONS),
    directoryRoles: raw.directoryRoles ?? [],
  };
}

function fillUser(tenantId: string, domain: string, raw: UserInput, index: number, nowIso: string): SimUser {
  const upn = raw.userPrincipalName ?? `user${index + 1}@${domain}`;
  const guest = raw.userType === 'Guest' || upn.includes('#EXT#');
  return {
    ...raw,
    id: raw.id ?? guidFrom('user', tenantId, upn.toLowerCase()),
    userPrincipalName: upn,
    displayName: raw.displayName ?? upn.split('@')[0],
    mail: raw.mail !== undefined ? raw.mail : guest ? null : upn,
    accountEnabled: raw.accountEnabled ?? true,
    userType: raw.userType ?? (guest ? 'Guest' : 'Member'),
    directoryRoles: raw.directoryRoles ?? [],
    memberOf: raw.memberOf ?? [],
    // Graph keeps this time to the second (revokeSignInSessions sets it so too, graph/users.ts).
    signInSessionsValidFromDateTime: raw.signInSessionsValidFromDateTime ?? nowIso.replace(/\.\d+Z$/, 'Z'),
    riskLevel: raw.riskLevel ?? 'none',
    riskState: raw.riskState ?? 'none',
    mailboxEnabled: raw.mailboxEnabled ?? (!guest && (raw.mail !== undefined ? raw.mail !== null : true)),
    inboxRules: (raw.inboxRules ?? []).map((r, i) => ({
      ...r,
      id: r.id ?? `AQAAA${Buffer.from(guidFrom('rule', tenantId, upn.toLowerCase(), i).replace(/-/g, ''), 'hex').toString('base64url')}=`,
      displayName: r.displayName ?? `Rule ${i + 1}`,
      sequence: r.sequence ?? i + 1,
      isEnabled: r.isEnabled ?? true,
    })),
    authMethods: withPasswordMethod(raw, nowIso, tenantId, upn),
    messages: (raw.messages ?? []).map((m, i) => fillMessage(tenantId, upn, m, i, nowIso)),
  };
}

/** A mailbox message with its two ids (immutable, and the REST id a move changes; microsoft-notes M55). */
function fillMessage(tenantId: string, upn: string, m: NonNullable<UserInput['messages']>[number], index: number, nowIso: string): SimMailMessage {
  const seed = guidFrom('message', tenantId, upn.toLowerCase(), m.internetMessageId, index).replace(/-/g, '');
  return {
    ...m,
    immutableId: m.immutableId ?? `AAkALg${Buffer.from(`imm:${seed}`).toString('base64url')}`,
    restId: m.restId ?? `AAMkAG${Buffer.from(`rest:${seed}:0`).toString('base64url')}`,
    receivedDateTime: m.receivedDateTime ?? nowIso,
    folder: m.folder ?? 'inbox',
  };
}

function defaultMethodId(m: Partial<SimAuthMethod>, tenantId: string, upn: string, index: number): string {
  if (m.type === 'password') return PASSWORD_METHOD_ID;
  const phoneId = m.type === 'phone' ? PHONE_METHOD_IDS[String(m.properties?.phoneType ?? 'mobile')] : undefined;
  return phoneId ?? guidFrom('auth-method', tenantId, upn.toLowerCase(), index);
}

/** Every cloud user has the password method (fixed id, microsoft-notes §4.4); other ids are derived when missing. */
function withPasswordMethod(raw: UserInput, nowIso: string, tenantId: string, upn: string): SimAuthMethod[] {
  const methods = (raw.authMethods ?? []).map((m, i) => ({
    ...m,
    id: m.id ?? defaultMethodId(m, tenantId, upn, i),
    createdDateTime: m.createdDateTime ?? nowIso,
  }));
  if (!methods.some((m) => m.type === 'password')) {
    methods.unshift({ id: PASSWORD_METHOD_ID, type: 'password', createdDateTime: raw.lastPasswordChangeDateTime ?? nowIso });
  }
  return methods;
}

function fillDevice(tenantId: string, raw: Partial<SimDevice>, index: number, nowIso: string): SimDevice {
  const name = raw.computerDnsName ?? `device-${index + 1}`;
  return {
    ...raw,
    id: raw.id ?? hex40From('device', tenantId, name, index),
    computerDnsName: name,
    aadDeviceId: raw.aadDeviceId !== undefined ? raw.aadDeviceId : guidFrom('aad-device', tenantId, name, index),
    osPlatform: raw.osPlatform ?? 'Windows11',
    healthStatus: raw.healthStatus ?? 'Active',
    lastSeen: raw.lastSeen ?? nowIso,
    online: raw.online ?? true,
    isolated: raw.isolated ?? false,
    appExecutionRestricted: raw.appExecutionRestricted ?? false,
  };
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** Validates the raw shape and fills defaults. Throws ScenarioError listing every problem. */
export function normaliseScenario(raw: unknown, source = 'scenario'): Scenario {
  const problems: string[] = [];
  const s = raw as Scenario;
  if (!s || typeof s !== 'object' || !Array.isArray(s.tenants)) {
    throw new ScenarioError(['expected an object with a "tenants" array'], source);
  }
  if (s.tenants.length === 0) problems.push('tenants: at least one tenant is required');
  if (s.tokenLifetimeSeconds !== undefined && !(Number(s.tokenLifetimeSeconds) > 0)) {
    problems.push('tokenLifetimeSeconds: must be a positive number');
  }
  s.tenants.forEach((t: ScenarioTenant, i) => {
    const at = `tenants[${i}]`;
    if (!t || typeof t !== 'object') return problems.push(`${at}: must be an object`);
    if (!isGuid(t.tenantId)) problems.push(`${at}.tenantId: "${t.tenantId}" is not a GUID`);
    for (const key of ['apps', 'users', 'groups', 'devices', ...RECORD_ARRAYS] as const) {
      if (t[key] !== undefined && !Array.isArray(t[key])) problems.push(`${at}.${key}: must be an array`);
    }
    (t.apps ?? []).forEach((a, j) => {
      if (a.clientId !== undefined && !isGuid(a.clientId)) problems.push(`${at}.apps[${j}].clientId: "${a.clientId}" is not a GUID`);
    });
    (t.users ?? []).forEach((u, j) => {
      if (u.id !== undefined && !isGuid(u.id)) problems.push(`${at}.users[${j}].id: "${u.id}" is not a GUID`);
      if (u.userPrincipalName !== undefined && !String(u.userPrincipalName).includes('@')) {
        problems.push(`${at}.users[${j}].userPrincipalName: "${u.userPrincipalName}" has no @domain`);
      }
    });
    if (t.indicatorLimit !== undefined && !(Number.isInteger(t.indicatorLimit) && t.indicatorLimit >= 0)) {
      problems.push(`${at}.indicatorLimit: must be a whole number, 0 or more`);
    }
    (t.devices ?? []).forEach((d, j) => {
      if (d.id !== undefined && !/^[0-9a-f]{40}$/i.test(d.id)) problems.push(`${at}.devices[${j}].id: "${d.id}" is not 40 hex characters`);
    });
    const appIds = (t.apps ?? []).map((a) => a.clientId).filter(Boolean) as string[];
    for (const d of duplicates(appIds.map((x) => x.toLowerCase()))) problems.push(`${at}.apps: duplicate clientId ${d}`);
    const userIds = (t.users ?? []).map((u) => u.id).filter(Boolean) as string[];
    for (const d of duplicates(userIds.map((x) => x.toLowerCase()))) problems.push(`${at}.users: duplicate id ${d}`);
    const upns = (t.users ?? []).map((u) => u.userPrincipalName).filter(Boolean) as string[];
    for (const d of duplicates(upns.map((x) => x.toLowerCase()))) problems.push(`${at}.users: duplicate userPrincipalName ${d}`);
    const deviceIds = (t.devices ?? []).map((d) => d.id).filter(Boolean) as string[];
    for (const d of duplicates(deviceIds.map((x) => x.toLowerCase()))) problems.push(`${at}.devices: duplicate id ${d}`);
    const groupIds = (t.groups ?? []).map((g) => g.id);
    for (const d of duplicates(groupIds)) problems.push(`${at}.groups: duplicate id ${d}`);
    problems.push(...validatePersistence(t as PersistenceInput & { users?: UserInput[] }, at));
  });
  const tenantIds = s.tenants.map((t) => String(t?.tenantId).toLowerCase());
  for (const d of duplicates(tenantIds)) problems.push(`tenants: duplicate tenantId ${d}`);
  if (problems.length) throw new ScenarioError(problems, source);
  return s;
}

export function loadScenarioFile(path: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ScenarioError([`cannot read JSON: ${(e as Error).message}`], path);
  }
  return normaliseScenario(raw, path);
}

/** Builds full tenants (every field present) from a validated scenario. */
export function buildTenants(scenario: Scenario, now: Date): SimTenant[] {
  const nowIso = now.toISOString();
  return scenario.tenants.map((t) => {
    const tenantId = t.tenantId.toLowerCase();
    const domains = t.domains?.length ? t.domains : [`tenant-${tenantId.slice(0, 8)}.onmicrosoft.com`];
    const apps = (t.apps?.length ? t.apps : [{}]).map((a, i) => fillApp(tenantId, a, i));
    const tenant: SimTenant = {
      ...t,
      tenantId,
      displayName: t.displayName ?? `Tenant ${tenantId.slice(0, 8)}`,
      domains,
      licences: { ...DEFAULT_LICENCES, ...(t.licences ?? {}) },
      apps,
      users: (t.users ?? []).map((u, i) => fillUser(tenantId, domains[0], u, i, nowIso)),
      groups: (t.groups ?? []).map((g) => ({ ...g })),
      devices: (t.devices ?? []).map((d, i) => fillDevice(tenantId, d, i, nowIso)),
      servicePrincipals: [],
      oauth2PermissionGrants: [],
      appRoleAssignments: [],
      alerts: [...(t.alerts ?? [])],
      incidents: [...(t.incidents ?? [])],
      signIns: [...(t.signIns ?? [])],
      directoryAudits: [...(t.directoryAudits ?? [])],
      riskDetections: [...(t.riskDetections ?? [])],
      secureScores: [...(t.secureScores ?? [])],
      secureScoreControlProfiles: [...(t.secureScoreControlProfiles ?? [])],
      auditRecords: [...(t.auditRecords ?? [])],
    };
    fillPersistence(tenant, t as PersistenceInput, nowIso);
    return tenant;
  });
}

/** Fills defaults for one user added at runtime (control routes, loaders). */
export function userWithDefaults(tenant: SimTenant, raw: UserInput, now: Date): SimUser {
  return fillUser(tenant.tenantId, tenant.domains[0], raw, tenant.users.length, now.toISOString());
}

export function deviceWithDefaults(tenant: SimTenant, raw: Partial<SimDevice>, now: Date): SimDevice {
  return fillDevice(tenant.tenantId, raw, tenant.devices.length, now.toISOString());
}
