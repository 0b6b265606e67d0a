import type { MicrosoftResource } from '../microsoft';
import type { Capability, CapabilityCheck } from '../tenants/capability';
import { DEFENDER_ENDPOINT_CAPABILITIES } from '../integrations/defender-endpoint/defender-endpoint.capabilities';
import { EMAIL_REMEDIATION_CAPABILITIES } from '../integrations/email-remediation/email-remediation.capabilities';
import { DEFENDER_HUNTING_CAPABILITIES } from '../integrations/defender-hunting/defender-hunting.capabilities';
import { ENTRA_ID_CAPABILITIES } from '../integrations/entra-id/entra-id.capabilities';
import { GRAPH_SECURITY_CAPABILITIES } from '../integrations/graph-security/graph-security.capabilities';
import { MANAGEMENT_ACTIVITY_CAPABILITIES } from '../integrations/management-activity/management-activity.capabilities';
import { PURVIEW_CAPABILITIES } from '../integrations/purview/purview.capabilities';
import { SECURE_SCORE_CAPABILITIES } from '../integrations/secure-score/secure-score.capabilities';
import { PERMISSION_IDS, RESOURCE_APP_IDS } from './permission-ids';

/** Every capability check Cordon registers, in one list: the manifest is computed from it (a unit test keeps it equal to the registry). */
export const ALL_CAPABILITY_CHECKS: CapabilityCheck[] = [
  MANAGEMENT_ACTIVITY_CAPABILITIES,
  ...ENTRA_ID_CAPABILITIES,
  PURVIEW_CAPABILITIES,
  SECURE_SCORE_CAPABILITIES,
  ...GRAPH_SECURITY_CAPABILITIES,
  DEFENDER_ENDPOINT_CAPABILITIES,
  ...DEFENDER_HUNTING_CAPABILITIES,
  ...EMAIL_REMEDIATION_CAPABILITIES,
];

export interface ManifestModule {
  name: string;
  description: string;
  /** The capabilities it is made of (their probe results say whether the module is ready). */
  capabilities: string[];
  /** Reads its steps make besides what its capabilities name (resolving a user, dating a consent). */
  alsoReads?: Array<{ permission: string; why: string }>;
}

/** The modules an operator chooses from, each made of capabilities (names as the probe reports them). */
export const MODULES: ManifestModule[] = [
  {
    name: 'audit-ingestion',
    description: 'Office 365 Management Activity API: the unified audit log per content type (Entra, Exchange, SharePoint, general, DLP).',
    capabilities: [
      'management-activity:Audit.AzureActiveDirectory',
      'management-activity:Audit.Exchange',
      'management-activity:Audit.SharePoint',
      'management-activity:Audit.General',
      'management-activity:DLP.All',
    ],
  },
  {
    name: 'entra-logs',
    description: 'Entra ID sign-in logs, directory audits and Identity Protection risk detections.',
    capabilities: ['sign-in-logs', 'directory-audits', 'identity-protection'],
  },
  {
    name: 'purview-search',
    description: 'Purview audit search (asynchronous queries of the audit log, global cloud).',
    capabilities: ['purview-audit-search'],
  },
  { name: 'secure-score', description: 'Microsoft Secure Score and its control profiles.', capabilities: ['secure-score'] },
  {
    name: 'xdr-alerts-incidents',
    description: 'Defender XDR alerts and incidents: collection, and updating and commenting on them.',
    capabilities: ['alerts', 'incidents', 'alert-actions', 'incident-actions'],
  },
  {
    name: 'defender-endpoint',
    description: 'Defender for Endpoint: the device inventory, device containment actions, custom indicators, machine tags and live response.',
    capabilities: ['defender-machines', 'defender-actions', 'indicators', 'device-tags', 'live-response'],
  },
  {
    name: 'user-actions',
    description: 'User containment: disable and enable sign-in, revoke sessions, confirm compromised.',
    capabilities: ['user-actions'],
    alsoReads: [{ permission: 'User.Read.All', why: 'resolve the user and read the state back (microsoft-notes §4.1)' }],
  },
  {
    name: 'persistence-removal',
    description: 'Evicting BEC persistence: inbox rules, consents, app role assignments, sign-in methods, password, containment group, enterprise apps.',
    capabilities: ['mailbox-rules', 'app-consents', 'app-role-assignments', 'auth-methods', 'password-reset', 'group-membership', 'app-management'],
    alsoReads: [
      { permission: 'User.Read.All', why: 'resolve the user' },
      { permission: 'Directory.Read.All', why: "read the user's memberships and the apps behind consents" },
      { permission: 'Organization.Read.All', why: 'the verified domains a forwarding address is compared with' },
      { permission: 'AuditLog.Read.All', why: 'date consents and sign-in methods Graph gives no date (the directory audit)' },
    ],
  },
  { name: 'hunting', description: 'Defender XDR advanced hunting: raw telemetry collection and on-demand queries.', capabilities: ['advanced-hunting'] },
  {
    name: 'email-remediation',
    description:
      'Email remediation: Defender for Office 365 analyzedEmails remediation (Global cloud), or per mailbox with Mail.ReadWrite; either one is enough.',
    capabilities: ['email-remediation', 'mailbox-messages'],
  },
];

/** Permissions that let an app grant itself more (microsoft-notes M25): best held by a second, approval-gated app registration. */
export const SELF_ELEVATING = [
  'AppRoleAssignment.ReadWrite.All',
  'Application.ReadWrite.All',
  'DelegatedPermissionGrant.ReadWrite.All',
  'Directory.ReadWrite.All',
  'RoleManagement.ReadWrite.Directory',
];

/** Permissions that change the tenant, beyond the ReadWrite ones. */
const CHANGING = [
  'User.EnableDisableAccount.All',
  'User.RevokeSessions.All',
  'Machine.Isolate',
  'Machine.Scan',
  'Machine.RestrictExecution',
  'Machine.CollectForensics',
  'Machine.StopAndQuarantine',
  'Machine.LiveResponse',
];

/** Capabilities that need every one of their permissions (the others need any one, the first named). */
const NEEDS_ALL = new Set(['user-actions', 'defender-actions', 'identity-protection']);

export interface ManifestPermission {
  resource: MicrosoftResource;
  resourceAppId: string;
  name: string;
  /** The app role's id in the resource's service principal, for requiredResourceAccess. */
  id: string;
  /** Whether the id was confirmed from published app-role tables (false: check it in the tenant before relying on it). */
  idVerified: boolean;
  changesTenant: boolean;
  /** Lets the app grant itself more (see README "Evict persistence"): hold it in a second app registration. */
  selfElevating: boolean;
  /** The capabilities that need it. */
  for: string[];
}

export interface ManifestModuleView {
  name: string;
  description: string;
  readOnly: boolean;
  capabilities: Array<{ name: string; licence: string | null; permissions: string[]; needs: 'all' | 'any' }>;
  permissions: ManifestPermission[];
}

function capabilitiesByName(): Map<string, Capability> {
  return new Map(ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities).map((c) => [c.name, c]));
}

/** The permissions a capability asks for: all of them, or the least privileged of its alternatives. */
export function requiredPermissions(capability: Capability): string[] {
  return NEEDS_ALL.has(capability.name) ? [...capability.permissions] : [capability.permissions[0]];
}

function permissionOf(name: string, forCapabilities: string[]): ManifestPermission {
  const known = PERMISSION_IDS[name];
  if (!known) throw new Error(`permission ${name} has no entry in permission-ids.ts`);
  return {
    resource: known.resource,
    resourceAppId: RESOURCE_APP_IDS[known.resource],
    name,
    id: known.id,
    idVerified: known.verified,
    changesTenant: name.includes('ReadWrite') || CHANGING.includes(name),
    selfElevating: SELF_ELEVATING.includes(name),
    for: forCapabilities,
  };
}

/** The manifest of the chosen modules (all when none is named); an unknown module name throws with the known ones. */
export function manifestOf(moduleNames?: string[]): ManifestModuleView[] {
  const unknown = (moduleNames ?? []).filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length) throw new UnknownModuleError(unknown);
  const byName = capabilitiesByName();
  return MODULES.filter((m) => !moduleNames?.length || moduleNames.includes(m.name)).map((m) => {
    const caps = m.capabilities.map((name) => byName.get(name)).filter((c): c is Capability => c !== undefined);
    const needed = new Map<string, string[]>();
    for (const c of caps) for (const p of requiredPermissions(c)) needed.set(p, [...(needed.get(p) ?? []), c.name]);
    for (const r of m.alsoReads ?? []) if (!needed.has(r.permission)) needed.set(r.permission, [`reads: ${r.why}`]);
    const permissions = [...needed].map(([name, forCaps]) => permissionOf(name, forCaps));
    return {
      name: m.name,
      description: m.description,
      readOnly: permissions.every((p) => !p.changesTenant),
      capabilities: caps.map((c) => ({
        name: c.name,
        licence: c.licence,
        permissions: [...c.permissions],
        needs: NEEDS_ALL.has(c.name) ? ('all' as const) : ('any' as const),
      })),
      permissions,
    };
  });
}

export class UnknownModuleError extends Error {
  constructor(readonly unknown: string[]) {
    super(`unknown module(s) ${unknown.join(', ')}; known: ${MODULES.map((m) => m.name).join(', ')}`);
  }
}

/** The app registration's `requiredResourceAccess` for these modules, ready to paste into the app manifest. */
export function requiredResourceAccess(modules: ManifestModuleView[]): Array<{ resourceAppId: string; resourceAccess: Array<{ id: string; type: 'Role' }> }> {
  const byResource = new Map<string, Set<string>>();
  for (const p of modules.flatMap((m) => m.permissions)) {
    byResource.set(p.resourceAppId, (byResource.get(p.resourceAppId) ?? new Set()).add(p.id));
  }
  return [...byResource].map(([resourceAppId, ids]) => ({ resourceAppId, resourceAccess: [...ids].sort().map((id) => ({ id, type: 'Role' as const })) }));
}

/** An Azure CLI script that creates the app registration with these permissions (admin consent is a separate, deliberate step). */
export function azureCliScript(modules: ManifestModuleView[], displayName = 'Cordon'): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Creates the "${displayName}" app registration with the application permissions of: ${modules.map((m) => m.name).join(', ')}.`,
    '# Review it, run it signed in as an admin of the customer tenant (az login --tenant <tenant>), then grant admin consent.',
    'set -euo pipefail',
    `APP_ID=$(az ad app create --display-name ${JSON.stringify(displayName)} --sign-in-audience AzureADMyOrg --query appId -o tsv)`,
    'az ad sp create --id "$APP_ID" >/dev/null',
  ];
  for (const { resourceAppId, resourceAccess } of requiredResourceAccess(modules)) {
    const names = modules
      .flatMap((m) => m.permissions)
      .filter((p) => p.resourceAppId === resourceAppId)
      .map((p) => p.name);
    lines.push(`# ${[...new Set(names)].join(', ')}`);
    lines.push(`az ad app permission add --id "$APP_ID" --api ${resourceAppId} --api-permissions ${resourceAccess.map((r) => `${r.id}=Role`).join(' ')}`);
  }
  lines.push('echo "App (client) id: $APP_ID — then grant admin consent: az ad app permission admin-consent --id $APP_ID"');
  return `${lines.join('\n')}\n`;
}
