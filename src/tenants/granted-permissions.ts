import { RESOURCE_APP_IDS, type MicrosoftResource } from '../microsoft/clouds';
import type { TenantGraphClient } from '../microsoft';

/** Per resource, the application permissions (role values) an app registration has been granted. */
export type GrantedPermissions = Map<MicrosoftResource, Set<string>>;

const RESOURCE_BY_APP_ID = new Map(Object.entries(RESOURCE_APP_IDS).map(([resource, appId]) => [appId, resource as MicrosoftResource]));

/**
 * What the tenant says an app registration has been granted: its service principal's appRoleAssignments,
 * each role id mapped through the resource service principal's `appRoles` (microsoft-notes M59; the tenant's
 * own role ids, not a table of ours). Two reads plus one per resource. Null when the app cannot read them
 * (Application.Read.All or Directory.Read.All is not granted, or any other failure): then the token's
 * `roles` decide alone. Microsoft replicates a fresh grant or removal with a delay, so this is a hint that a
 * cached token is stale, never the last word.
 */
export async function grantedPermissions(graph: TenantGraphClient, clientId: string): Promise<GrantedPermissions | null> {
  try {
    const assignments = await graph.all<{ appRoleId?: string; resourceId?: string }>(`/servicePrincipals(appId='${clientId}')/appRoleAssignments`, {
      limit: 5000,
    });
    const byResource = new Map<string, Set<string>>();
    for (const a of assignments) {
      if (!a.resourceId || !a.appRoleId) continue;
      byResource.set(a.resourceId, (byResource.get(a.resourceId) ?? new Set()).add(a.appRoleId));
    }
    const granted: GrantedPermissions = new Map();
    for (const [resourceId, roleIds] of byResource) {
      const sp = await graph.get<{ appId?: string; appRoles?: Array<{ id?: string; value?: string | null }> }>(`/servicePrincipals/${resourceId}`, {
        query: { $select: 'appId,appRoles' },
      });
      const resource = sp.appId ? RESOURCE_BY_APP_ID.get(sp.appId.toLowerCase()) : undefined;
      if (!resource) continue; // a permission on an API Cordon does not call
      const values = new Map((sp.appRoles ?? []).map((r) => [r.id, r.value]));
      const names = [...roleIds].map((id) => values.get(id)).filter((v): v is string => typeof v === 'string' && v.length > 0);
      granted.set(resource, new Set(names));
    }
    return granted;
  } catch {
    return null;
  }
}

/** Whether a token's roles and the granted permissions on its resource differ (in either direction). */
export function differs(tokenRoles: string[], granted: Set<string> | undefined): boolean {
  const have = granted ?? new Set<string>();
  return tokenRoles.length !== have.size || tokenRoles.some((r) => !have.has(r));
}
