import type { TenantGraphClient } from '../../microsoft';

/**
 * Reading what an attacker leaves behind in an account (docs/microsoft-notes.md §9): inbox rules with
 * the risk Cordon sees in them, delegated consents and app role assignments with the app behind each,
 * and sign-in methods without their secrets. Shared by the read routes and the eviction actions.
 */

export interface Recipient {
  emailAddress?: { name?: string; address?: string };
}

export interface MessageRule {
  id: string;
  displayName?: string;
  sequence?: number;
  isEnabled?: boolean;
  hasError?: boolean;
  isReadOnly?: boolean;
  conditions?: Record<string, unknown>;
  exceptions?: Record<string, unknown>;
  actions?: {
    forwardTo?: Recipient[];
    forwardAsAttachmentTo?: Recipient[];
    redirectTo?: Recipient[] | Recipient;
    delete?: boolean;
    permanentDelete?: boolean;
    moveToFolder?: string;
    copyToFolder?: string;
    markAsRead?: boolean;
    stopProcessingRules?: boolean;
  } & Record<string, unknown>;
}

export interface RuleRisk {
  /** Addresses the rule sends mail to, each with whether it is outside the tenant's verified domains (null: unknown). */
  forwards: Array<{ address: string; via: 'forwardTo' | 'forwardAsAttachmentTo' | 'redirectTo'; external: boolean | null }>;
  deletes: boolean;
  /** Moves mail out of sight (Deleted Items, Junk, Archive, RSS feeds) or marks it read. */
  hides: boolean;
  /** At least one forwarding address is outside the tenant. */
  external: boolean;
  /** Any of the above: what `risky: true` removes. */
  risky: boolean;
}

/** Said with every list of inbox rules (microsoft-notes §9.1, M27). */
export const HIDDEN_RULES_NOTE =
  'Graph lists server-side inbox rules only: hidden (MAPI) rules and client-only rules are not shown and cannot be removed through Graph; mailbox-level forwarding (ForwardingSmtpAddress) is not visible either. Check them in Exchange Online (Get-InboxRule -IncludeHidden, Get-Mailbox).';

/** Folders a BEC rule moves mail to so that the victim does not see it (well-known folder names, lower case). */
const HIDING_FOLDERS = ['deleteditems', 'junkemail', 'archive', 'rssfeeds', 'rss feeds', 'conversationhistory'];

/** Whether `address` is outside every verified domain (a subdomain of one counts as inside); null when the domains are unknown. */
export function isExternal(address: string, domains: string[] | null): boolean | null {
  if (!domains) return null;
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const domain = address.slice(at + 1).toLowerCase();
  return !domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}

export function riskOf(rule: MessageRule, domains: string[] | null, hidingFolderIds: string[] = []): RuleRisk {
  const actions = rule.actions ?? {};
  const forwards: RuleRisk['forwards'] = [];
  for (const via of ['forwardTo', 'forwardAsAttachmentTo', 'redirectTo'] as const) {
    const value = actions[via];
    // redirectTo is a single recipient in an older schema revision (microsoft-notes §9.1)
    const list = Array.isArray(value) ? value : value ? [value] : [];
    for (const r of list) {
      const address = r?.emailAddress?.address;
      if (address) forwards.push({ address, via, external: isExternal(address, domains) });
    }
  }
  const deletes = actions.delete === true || actions.permanentDelete === true;
  const folder = typeof actions.moveToFolder === 'string' ? actions.moveToFolder.toLowerCase() : undefined;
  const hides = actions.markAsRead === true || (folder !== undefined && (HIDING_FOLDERS.includes(folder) || hidingFolderIds.includes(folder)));
  const external = forwards.some((f) => f.external === true);
  return { forwards, deletes, hides, external, risky: forwards.length > 0 || deletes || hides };
}

export function rulesPath(userId: string): string {
  return `/users/${encodeURIComponent(userId)}/mailFolders/inbox/messageRules`;
}

export async function listRules(graph: TenantGraphClient, userId: string, clientRequestId?: string): Promise<MessageRule[]> {
  return graph.all<MessageRule>(rulesPath(userId), { clientRequestId });
}

/** The tenant's verified domains (lower case), or null when Cordon may not read them. */
export async function verifiedDomains(graph: TenantGraphClient): Promise<string[] | null> {
  try {
    const orgs = await graph.get<{ value: Array<{ verifiedDomains?: Array<{ name: string }> }> }>('/organization', { query: { $select: 'verifiedDomains' } });
    return orgs.value.flatMap((o) => o.verifiedDomains ?? []).map((d) => d.name.toLowerCase());
  } catch {
    return null;
  }
}

// ---- consents and app role assignments -------------------------------------------------------------

export interface PermissionGrant {
  id: string;
  clientId: string;
  consentType: string;
  principalId: string | null;
  resourceId: string;
  scope?: string;
}

export interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
  resourceDisplayName?: string;
  createdDateTime?: string;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName?: string;
  publisherName?: string | null;
  accountEnabled?: boolean;
  appOwnerOrganizationId?: string | null;
  verifiedPublisher?: { displayName: string | null; verifiedPublisherId: string | null } | null;
  appRoles?: Array<{ id: string; value?: string; displayName?: string }>;
}

export interface AppConsent {
  kind: 'delegated' | 'appRole';
  id: string;
  appId: string | null;
  servicePrincipalId: string;
  appDisplayName: string | null;
  publisherName: string | null;
  verifiedPublisher: boolean;
  /** Delegated scopes, or the app role's value. */
  scopes: string[];
  /** App role assignments have a date; delegated grants have none in Graph (microsoft-notes M36). */
  grantedAt: string | null;
  resourceId: string;
  /** What Graph answered, kept as evidence before a removal. */
  raw: Record<string, unknown>;
}

export const GRANT_DATE_NOTE =
  'Graph gives no date for a delegated consent (oAuth2PermissionGrant); when it was given is in the directory audit ("Consent to application"). App role assignments carry their creation date.';

const SP_SELECT = 'id,appId,displayName,publisherName,accountEnabled,appOwnerOrganizationId,verifiedPublisher,appRoles';

export async function servicePrincipal(graph: TenantGraphClient, key: string, clientRequestId?: string): Promise<ServicePrincipal> {
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(key);
  const path = guid ? `/servicePrincipals/${key}` : `/servicePrincipals(appId='${encodeURIComponent(key)}')`;
  return graph.get<ServicePrincipal>(path, { query: { $select: SP_SELECT }, clientRequestId });
}

/** A service principal by object id, else by appId (an app is named either way). */
export async function servicePrincipalByEitherId(graph: TenantGraphClient, key: string, clientRequestId?: string): Promise<ServicePrincipal> {
  try {
    return await servicePrincipal(graph, key, clientRequestId);
  } catch (error) {
    if ((error as { kind?: string }).kind !== 'not-found') throw error;
    return graph.get<ServicePrincipal>(`/servicePrincipals(appId='${encodeURIComponent(key)}')`, { query: { $select: SP_SELECT }, clientRequestId });
  }
}

export async function listConsents(graph: TenantGraphClient, userId: string, clientRequestId?: string): Promise<AppConsent[]> {
  const [grants, assignments] = await Promise.all([
    graph.all<PermissionGrant>(`/users/${encodeURIComponent(userId)}/oauth2PermissionGrants`, { clientRequestId }),
    graph.all<AppRoleAssignment>(`/users/${encodeURIComponent(userId)}/appRoleAssignments`, { clientRequestId }),
  ]);
  const ids = [...new Set([...grants.map((g) => g.clientId), ...assignments.map((a) => a.resourceId)])];
  const apps = new Map<string, ServicePrincipal | null>();
  await Promise.all(
    ids.map(async (id) =>
      apps.set(
        id,
        await servicePrincipal(graph, id, clientRequestId).catch(() => null), // a deleted app still has its grant listed
      ),
    ),
  );
  const appOf = (id: string) => {
    const sp = apps.get(id) ?? null;
    return {
      appId: sp?.appId ?? null,
      servicePrincipalId: id,
      appDisplayName: sp?.displayName ?? null,
      publisherName: sp?.publisherName ?? null,
      verifiedPublisher: Boolean(sp?.verifiedPublisher?.verifiedPublisherId),
    };
  };
  return [
    ...grants.map((g): AppConsent => ({
      kind: 'delegated',
      id: g.id,
      ...appOf(g.clientId),
      scopes: (g.scope ?? '').split(' ').filter(Boolean),
      grantedAt: null,
      resourceId: g.resourceId,
      raw: { ...g },
    })),
    ...assignments.map((a): AppConsent => {
      const sp = apps.get(a.resourceId);
      const role = sp?.appRoles?.find((r) => r.id === a.appRoleId);
      return {
        kind: 'appRole',
        id: a.id,
        ...appOf(a.resourceId),
        scopes: [role?.value ?? a.appRoleId],
        grantedAt: a.createdDateTime ?? null,
        resourceId: a.resourceId,
        raw: { ...a },
      };
    }),
  ];
}

export function consentMatches(consent: AppConsent, key: string): boolean {
  const k = key.toLowerCase();
  return consent.servicePrincipalId.toLowerCase() === k || consent.appId?.toLowerCase() === k;
}

// ---- sign-in methods -------------------------------------------------------------------------------

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

/** Method types by Graph's @odata.type, with the collection their DELETE goes to (microsoft-notes §9.3). */
const METHOD_TYPES: Record<string, { type: string; segment: string | null }> = {
  '#microsoft.graph.passwordAuthenticationMethod': { type: 'password', segment: null },
  '#microsoft.graph.phoneAuthenticationMethod': { type: 'phone', segment: 'phoneMethods' },
  '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod': { type: 'microsoftAuthenticator', segment: 'microsoftAuthenticatorMethods' },
  '#microsoft.graph.fido2AuthenticationMethod': { type: 'fido2', segment: 'fido2Methods' },
  '#microsoft.graph.softwareOathAuthenticationMethod': { type: 'softwareOath', segment: 'softwareOathMethods' },
  '#microsoft.graph.emailAuthenticationMethod': { type: 'email', segment: 'emailMethods' },
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': { type: 'temporaryAccessPass', segment: 'temporaryAccessPassMethods' },
  '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod': { type: 'windowsHelloForBusiness', segment: 'windowsHelloForBusinessMethods' },
  '#microsoft.graph.platformCredentialAuthenticationMethod': { type: 'platformCredential', segment: 'platformCredentialMethods' },
};

/** Fields shown of a method: names and devices, never a secret; phone numbers and addresses masked. */
const SHOWN = [
  'displayName',
  'deviceTag',
  'phoneAppVersion',
  'model',
  'phoneType',
  'smsSignInState',
  'keyStrength',
  'platform',
  'isUsable',
  'lifetimeInMinutes',
];

export interface AuthMethod {
  id: string;
  type: string;
  /** Null for the types Graph gives no date (phone, email, software OATH: microsoft-notes M36). */
  createdDateTime: string | null;
  /** Whether Cordon can delete it (the password method cannot be deleted). */
  removable: boolean;
  detail: Record<string, unknown>;
  segment: string | null;
}

/** All but the last two digits of a phone number replaced (`+•• ••••••••43`). */
export function maskPhone(value: string): string {
  let seen = 0;
  const digits = (value.match(/\d/g) ?? []).length;
  return value.replace(/\d/g, (d) => (++seen > digits - 2 ? d : '•'));
}

export function maskEmail(value: string): string {
  const at = value.indexOf('@');
  return at <= 0 ? '•••' : `${value[0]}•••${value.slice(at)}`;
}

export function toAuthMethod(raw: Record<string, unknown>): AuthMethod {
  const known = METHOD_TYPES[String(raw['@odata.type'] ?? '')];
  const detail: Record<string, unknown> = {};
  for (const key of SHOWN) if (raw[key] !== undefined && raw[key] !== null) detail[key] = raw[key];
  if (typeof raw.phoneNumber === 'string') detail.phoneNumber = maskPhone(raw.phoneNumber);
  if (typeof raw.emailAddress === 'string') detail.emailAddress = maskEmail(raw.emailAddress);
  const type = known?.type ?? String(raw['@odata.type'] ?? 'unknown').replace('#microsoft.graph.', '');
  return {
    id: String(raw.id),
    type,
    createdDateTime: typeof raw.createdDateTime === 'string' ? raw.createdDateTime : null,
    removable: Boolean(known?.segment) && raw.id !== PASSWORD_METHOD_ID,
    detail,
    segment: known?.segment ?? null,
  };
}

export async function listMethods(graph: TenantGraphClient, userId: string, clientRequestId?: string): Promise<AuthMethod[]> {
  const raw = await graph.all<Record<string, unknown>>(`/users/${encodeURIComponent(userId)}/authentication/methods`, { clientRequestId });
  return raw.map(toAuthMethod);
}

export const METHOD_DATE_NOTE =
  'Graph gives no registration date for phone, email and software OATH methods; Cordon looks for "registered security info" in the directory audit for them.';

/**
 * When the directory audit last shows security info registered for the user since `since` (an ISO
 * time), or null when none is shown; undefined when the audit cannot be read. Used for methods Graph
 * gives no date (microsoft-notes M36).
 */
export async function lastRegistrationSince(graph: TenantGraphClient, userId: string, since: string): Promise<string | null | undefined> {
  try {
    const audits = await graph.all<{ activityDisplayName?: string; activityDateTime?: string }>('/auditLogs/directoryAudits', {
      query: { $filter: `activityDateTime ge ${since} and targetResources/any(t:t/id eq '${userId}')` },
      limit: 1000,
    });
    const registered = audits.filter((a) => /registered security info/i.test(a.activityDisplayName ?? ''));
    return registered.map((a) => a.activityDateTime ?? null).find(Boolean) ?? null;
  } catch {
    return undefined;
  }
}

/** Consents the directory audit shows the user gave since `since` ("Consent to application"), by app id or name; undefined when unreadable. */
export async function consentsSince(graph: TenantGraphClient, userId: string, since: string): Promise<Array<{ at: string; apps: string[] }> | undefined> {
  try {
    const audits = await graph.all<{
      activityDisplayName?: string;
      activityDateTime?: string;
      initiatedBy?: { user?: { id?: string } | null };
      targetResources?: Array<{ id?: string; displayName?: string; type?: string }>;
      additionalDetails?: Array<{ key?: string; value?: string }>;
    }>('/auditLogs/directoryAudits', {
      query: { $filter: `activityDateTime ge ${since} and activityDisplayName eq 'Consent to application'` },
      limit: 1000,
    });
    return audits
      .filter((a) => a.initiatedBy?.user?.id === userId || (a.targetResources ?? []).some((t) => t.id === userId))
      .map((a) => ({
        at: a.activityDateTime ?? since,
        apps: [
          ...(a.targetResources ?? []).filter((t) => t.type === 'ServicePrincipal').flatMap((t) => [t.id ?? '', t.displayName ?? '']),
          ...(a.additionalDetails ?? []).filter((d) => /appid/i.test(d.key ?? '')).map((d) => d.value ?? ''),
        ]
          .filter(Boolean)
          .map((s) => s.toLowerCase()),
      }));
  } catch {
    return undefined;
  }
}
