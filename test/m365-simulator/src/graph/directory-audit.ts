/**
 * Writes the Entra audit entries a real tenant records when Cordon changes a user, so that
 * `GET /auditLogs/directoryAudits` shows them (microsoft-notes §3.3).
 *
 * Activity names are the Entra ones: "Update user", "Disable account", "Enable account",
 * "Reset user password", "Set force change user password", and
 * "Update StsRefreshTokenValidFrom Timestamp" for revokeSignInSessions. Modified property values
 * are JSON-encoded arrays (`"[true]"`), as Entra writes them.
 */
import type { RawRecord, SimContext, SimTenant, SimUser, VerifiedToken } from '../types';
import { servicePrincipalId } from './access';

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface AuditEntry {
  activity: string;
  category?: string;
  loggedByService?: string;
  operationType?: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign';
  target: SimUser;
  modifiedProperties?: ModifiedProperty[];
  additionalDetails?: Array<{ key: string; value: string }>;
}

/** `[value]` the way Entra serialises old/new values. */
export function auditValue(value: unknown): string {
  return JSON.stringify([value]);
}

export function recordDirectoryAudit(ctx: SimContext, tenant: SimTenant, token: VerifiedToken, entry: AuditEntry): RawRecord {
  const app = token.app;
  const record: RawRecord = {
    id: `Directory_${ctx.newGuid()}`,
    category: entry.category ?? 'UserManagement',
    correlationId: ctx.newGuid(),
    result: 'success',
    resultReason: '',
    activityDisplayName: entry.activity,
    activityDateTime: ctx.clock.now().toISOString(),
    loggedByService: entry.loggedByService ?? 'Core Directory',
    operationType: entry.operationType ?? 'Update',
    initiatedBy: app
      ? {
          user: null,
          app: {
            appId: app.clientId,
            displayName: app.displayName,
            servicePrincipalId: servicePrincipalId(app.clientId),
            servicePrincipalName: app.displayName,
          },
        }
      : {
          app: null,
          user: { id: String(token.claims.oid ?? ''), displayName: null, userPrincipalName: String(token.claims.upn ?? ''), ipAddress: '' },
        },
    targetResources: [
      {
        id: entry.target.id,
        displayName: null,
        type: 'User',
        userPrincipalName: entry.target.userPrincipalName,
        groupType: null,
        modifiedProperties: entry.modifiedProperties ?? [],
      },
    ],
    additionalDetails: entry.additionalDetails ?? [{ key: 'UserType', value: entry.target.userType ?? 'Member' }],
  };
  tenant.directoryAudits.push(record);
  return record;
}
