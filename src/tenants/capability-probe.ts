import { Injectable } from '@nestjs/common';
import { GraphClientFactory, MicrosoftApiError, MicrosoftAuthError, MicrosoftHttp, TokenProvider, UnsupportedInCloudError, type TenantCredentials } from '../microsoft';

export type CapabilityStatus = 'available' | 'unlicensed' | 'forbidden' | 'unreachable';

export interface CapabilityResult {
  capability: string;
  status: CapabilityStatus;
  detail: string | null;
}

/** Office 365 Management Activity API content types (microsoft-notes §2.1). */
export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;

/**
 * Every capability the probe decides, with the application permissions it needs (microsoft-notes §2, §3.1,
 * microsoft-notes §4, §5). Later modules look their capability up here and skip what is not available.
 */
export const CAPABILITY_PERMISSIONS: Record<string, string[]> = {
  ...Object.fromEntries(CONTENT_TYPES.map((t) => [`management-activity:${t}`, t === 'DLP.All' ? ['ActivityFeed.ReadDlp'] : ['ActivityFeed.Read']])),
  'sign-in-logs': ['AuditLog.Read.All'],
  'directory-audits': ['AuditLog.Read.All'],
  alerts: ['SecurityAlert.Read.All'],
  incidents: ['SecurityIncident.Read.All'],
  'identity-protection': ['IdentityRiskyUser.ReadWrite.All', 'IdentityRiskEvent.Read.All'],
  'purview-audit-search': ['AuditLogsQuery.Read.All'],
  'secure-score': ['SecurityEvents.Read.All'],
  'defender-machines': ['Machine.Read.All'],
  'defender-actions': ['Machine.Isolate', 'Machine.Scan', 'Machine.RestrictExecution', 'Machine.CollectForensics'],
  'user-actions': ['User.EnableDisableAccount.All', 'User.RevokeSessions.All'],
};
export const CAPABILITIES = Object.keys(CAPABILITY_PERMISSIONS);

export interface ProbeOutcome {
  connection: { status: 'connected' | 'credential-error' | 'unreachable'; detail: string | null };
  capabilities: CapabilityResult[];
}

/** The app permissions an access token carries (its `roles` claim); we read our own token, we do not verify it. */
export function tokenRoles(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  } catch {
    return [];
  }
}

function fromError(capability: string, error: unknown): CapabilityResult {
  if (error instanceof UnsupportedInCloudError) return { capability, status: 'unlicensed', detail: error.message };
  if (error instanceof MicrosoftApiError) {
    const said = `${error.code ? `${error.code}: ` : ''}${error.message}`;
    switch (error.kind) {
      case 'unlicensed':
        return { capability, status: 'unlicensed', detail: said };
      case 'forbidden':
      case 'unauthorized':
        return { capability, status: 'forbidden', detail: `needs ${CAPABILITY_PERMISSIONS[capability].join(' or ')}; Microsoft said ${said}` };
      default:
        return { capability, status: 'unreachable', detail: said };
    }
  }
  return { capability, status: 'unreachable', detail: error instanceof Error ? error.message : String(error) };
}

/**
 * Asks Microsoft, module by module, what this tenant's licences and Cordon's granted permissions allow,
 * with the cheapest read each API has. Action permissions cannot be probed without acting, so for them
 * the granted roles in our own access token decide.
 */
@Injectable()
export class CapabilityProbe {
  constructor(
    private readonly tokens: TokenProvider,
    private readonly http: MicrosoftHttp,
    private readonly graphs: GraphClientFactory,
  ) {}

  async probe(tenant: TenantCredentials): Promise<ProbeOutcome> {
    let graphToken: string;
    try {
      graphToken = await this.tokens.getToken(tenant, 'graph');
    } catch (error) {
      const credential = error instanceof MicrosoftAuthError && !error.transient;
      const detail = error instanceof Error ? error.message : String(error);
      return {
        connection: { status: credential ? 'credential-error' : 'unreachable', detail },
        capabilities: CAPABILITIES.map((capability) => ({ capability, status: 'unreachable' as const, detail: `no access token: ${detail}` })),
      };
    }
    const results = await Promise.all([this.managementActivity(tenant), this.graphReads(tenant), this.userActions(tenant, graphToken), this.defender(tenant)]);
    return { connection: { status: 'connected', detail: null }, capabilities: results.flat().sort((a, b) => a.capability.localeCompare(b.capability)) };
  }

  private async managementActivity(tenant: TenantCredentials): Promise<CapabilityResult[]> {
    try {
      // Listing subscriptions needs ActivityFeed.Read and a tenant with the unified audit log on (microsoft-notes M6).
      await this.http.request({
        tenant,
        resource: 'manage',
        url: `/api/v1.0/${tenant.tenantId}/activity/feed/subscriptions/list`,
        query: { PublisherIdentifier: tenant.tenantId },
      });
      const roles = tokenRoles(await this.tokens.getToken(tenant, 'manage'));
      return CONTENT_TYPES.map((type) => {
        const capability = `management-activity:${type}`;
        const needed = CAPABILITY_PERMISSIONS[capability];
        return needed.some((p) => roles.includes(p))
          ? { capability, status: 'available' as const, detail: null }
          : { capability, status: 'forbidden' as const, detail: `needs ${needed.join(' or ')}` };
      });
    } catch (error) {
      return CONTENT_TYPES.map((type) => fromError(`management-activity:${type}`, error));
    }
  }

  private async graphReads(tenant: TenantCredentials): Promise<CapabilityResult[]> {
    const graph = this.graphs.forTenant(tenant);
    const reads: Array<[string, string, Record<string, string>?]> = [
      ['sign-in-logs', '/auditLogs/signIns', { $top: '1' }],
      ['directory-audits', '/auditLogs/directoryAudits', { $top: '1' }],
      ['alerts', '/security/alerts_v2', { $top: '1' }],
      ['incidents', '/security/incidents', { $top: '1' }],
      ['identity-protection', '/identityProtection/riskyUsers', { $top: '1' }],
      ['purview-audit-search', '/security/auditLog/queries', { $top: '1' }],
      ['secure-score', '/security/secureScores', { $top: '1' }],
    ];
    return Promise.all(
      reads.map(async ([capability, path, query]) => {
        if (capability === 'purview-audit-search' && tenant.cloud !== 'global') {
          return { capability, status: 'unlicensed' as const, detail: `Purview audit search is offered in the global cloud only (microsoft-notes M21)` };
        }
        try {
          await graph.get(path, { query });
          return { capability, status: 'available' as const, detail: null };
        } catch (error) {
          return fromError(capability, error);
        }
      }),
    );
  }

  private async userActions(tenant: TenantCredentials, graphToken: string): Promise<CapabilityResult> {
    const capability = 'user-actions';
    try {
      await this.graphs.forTenant(tenant).get('/users', { query: { $top: '1', $select: 'id' } });
    } catch (error) {
      return fromError(capability, error);
    }
    const roles = tokenRoles(graphToken);
    const canDisable = ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'].some((p) => roles.includes(p));
    const canRevoke = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'].some((p) => roles.includes(p));
    if (canDisable && canRevoke) return { capability, status: 'available', detail: null };
    const missing = [!canDisable && 'User.EnableDisableAccount.All', !canRevoke && 'User.RevokeSessions.All'].filter(Boolean);
    return { capability, status: 'forbidden', detail: `needs ${missing.join(' and ')} (or User.ReadWrite.All)` };
  }

  private async defender(tenant: TenantCredentials): Promise<CapabilityResult[]> {
    let machines: CapabilityResult;
    try {
      await this.http.request({ tenant, resource: 'defender', url: '/api/machines', query: { $top: 1 } });
      machines = { capability: 'defender-machines', status: 'available', detail: null };
    } catch (error) {
      // No machine matching is a 404 (microsoft-notes M19): the API answered, so it is available.
      machines = error instanceof MicrosoftApiError && error.kind === 'not-found' ? { capability: 'defender-machines', status: 'available', detail: null } : fromError('defender-machines', error);
    }
    if (machines.status !== 'available') return [machines, { ...machines, capability: 'defender-actions' }];
    const roles = tokenRoles(await this.tokens.getToken(tenant, 'defender'));
    // Isolation is the action that matters most; without the others the capability still stands, and
    // the detail says which actions will be refused.
    const missing = CAPABILITY_PERMISSIONS['defender-actions'].filter((p) => !roles.includes(p));
    const actions: CapabilityResult = !missing.includes('Machine.Isolate')
      ? { capability: 'defender-actions', status: 'available', detail: missing.length ? `not granted: ${missing.join(', ')}` : null }
      : { capability: 'defender-actions', status: 'forbidden', detail: `needs ${missing.join(', ')}` };
    return [machines, actions];
  }
}
