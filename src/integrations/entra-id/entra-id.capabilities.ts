import { readCheck, type Capability, type CapabilityCheck } from '../../tenants/capability';

const SIGN_IN_LOGS: Capability = { name: 'sign-in-logs', permissions: ['AuditLog.Read.All'], licence: 'Entra ID P1 or P2 (microsoft-notes M11)' };
const DIRECTORY_AUDITS: Capability = { name: 'directory-audits', permissions: ['AuditLog.Read.All'], licence: null };
const IDENTITY_PROTECTION: Capability = {
  name: 'identity-protection',
  permissions: ['IdentityRiskyUser.ReadWrite.All', 'IdentityRiskEvent.Read.All'],
  licence: 'Entra ID P2 (microsoft-notes §3.1)',
};
const USER_ACTIONS: Capability = { name: 'user-actions', permissions: ['User.EnableDisableAccount.All', 'User.RevokeSessions.All'], licence: null };

/**
 * The user actions cannot be probed without acting: reading a user proves Graph answers us, and the
 * roles of Cordon's Graph token say whether it may disable accounts and revoke sessions (microsoft-notes §4.1).
 */
const USER_ACTIONS_CHECK: CapabilityCheck = {
  capabilities: [USER_ACTIONS],
  async probe({ graph, roles }) {
    const capability = USER_ACTIONS.name;
    await graph.get('/users', { query: { $top: '1', $select: 'id' } });
    const granted = await roles('graph');
    const canDisable = ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'].some((p) => granted.includes(p));
    const canRevoke = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'].some((p) => granted.includes(p));
    if (canDisable && canRevoke) return [{ capability, status: 'available', detail: null }];
    const missing = [!canDisable && 'User.EnableDisableAccount.All', !canRevoke && 'User.RevokeSessions.All'].filter(Boolean);
    return [{ capability, status: 'forbidden', detail: `needs ${missing.join(' and ')} (or User.ReadWrite.All)` }];
  },
};

/**
 * Evicting persistence (microsoft-notes §9): one capability per write permission, each granted by any of
 * its permissions (the least privileged first, the one a refusal names).
 */
const PERSISTENCE: Capability[] = [
  { name: 'mailbox-rules', permissions: ['MailboxSettings.ReadWrite'], licence: 'an Exchange Online mailbox per user' },
  { name: 'app-consents', permissions: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'], licence: null, privileged: true },
  { name: 'app-role-assignments', permissions: ['AppRoleAssignment.ReadWrite.All'], licence: null, privileged: true },
  { name: 'auth-methods', permissions: ['UserAuthenticationMethod.ReadWrite.All'], licence: null },
  { name: 'password-reset', permissions: ['User-PasswordProfile.ReadWrite.All'], licence: null },
  { name: 'group-membership', permissions: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'], licence: null },
  { name: 'app-management', permissions: ['Application.ReadWrite.All', 'Directory.ReadWrite.All'], licence: null, privileged: true },
];

/** The persistence capabilities by what the actions call them, and the permission a refusal names. */
export const PERSISTENCE_CAPABILITY = {
  rules: 'mailbox-rules',
  consents: 'app-consents',
  appRoles: 'app-role-assignments',
  methods: 'auth-methods',
  password: 'password-reset',
  group: 'group-membership',
  apps: 'app-management',
  permissionOf(name: string): string {
    const found = PERSISTENCE.find((c) => c.name === name);
    return found ? `needs ${found.permissions[0]}` : name;
  },
} as const;

/**
 * None of them can be probed without acting: the token's roles decide (as for the user actions). The
 * privileged ones are decided by the privileged app registration's token when the tenant has one; that
 * app failing to sign in makes only them unreachable.
 */
const PERSISTENCE_CHECK: CapabilityCheck = {
  capabilities: PERSISTENCE,
  async probe({ roles, privilegedClientId }) {
    const granted = await roles('graph');
    const privileged = privilegedClientId ? await roles('graph', { privileged: true }).catch((error: Error) => error) : granted;
    return PERSISTENCE.map((c) => {
      const mine = c.privileged ? privileged : granted;
      const where = c.privileged && privilegedClientId ? `, granted to the privileged app registration ${privilegedClientId}` : '';
      if (mine instanceof Error)
        return {
          capability: c.name,
          status: 'unreachable' as const,
          detail: `the privileged app registration ${privilegedClientId} got no token: ${mine.message}`,
        };
      return c.permissions.some((p) => mine.includes(p))
        ? { capability: c.name, status: 'available' as const, detail: null }
        : { capability: c.name, status: 'forbidden' as const, detail: `needs ${c.permissions[0]} (application permission on Microsoft Graph${where})` };
    });
  },
};

/** Entra ID's capabilities: its three logs, each decided by reading one record, the user actions and persistence removal. */
export const ENTRA_ID_CAPABILITIES: CapabilityCheck[] = [
  readCheck(SIGN_IN_LOGS, ({ graph }) => graph.get('/auditLogs/signIns', { query: { $top: '1' } })),
  readCheck(DIRECTORY_AUDITS, ({ graph }) => graph.get('/auditLogs/directoryAudits', { query: { $top: '1' } })),
  readCheck(IDENTITY_PROTECTION, ({ graph }) => graph.get('/identityProtection/riskyUsers', { query: { $top: '1' } })),
  USER_ACTIONS_CHECK,
  PERSISTENCE_CHECK,
];
