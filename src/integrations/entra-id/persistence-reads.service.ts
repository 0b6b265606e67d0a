import { Injectable } from '@nestjs/common';
import type { Principal } from '../../access/principal';
import { Problem } from '../../common/problem';
import { MicrosoftApiError, type TenantGraphClient } from '../../microsoft';
import { TenantsService } from '../../tenants/tenants.service';
import { TenantGraphs } from '../tenant-graphs';
import type { AppConsentsResponse, AuthMethodsResponse, InboxRulesResponse } from './dto/persistence.dto';
import { GRANT_DATE_NOTE, HIDDEN_RULES_NOTE, listConsents, listMethods, listRules, METHOD_DATE_NOTE, riskOf, verifiedDomains } from './persistence-graph';

/** What each read needs granted, for the problem that names it. */
const READ_PERMISSION = {
  rules: 'MailboxSettings.Read (or MailboxSettings.ReadWrite)',
  consents: 'Directory.Read.All (or DelegatedPermissionGrant.ReadWrite.All)',
  methods: 'UserAuthenticationMethod.Read.All (or UserAuthenticationMethod.ReadWrite.All)',
} as const;

/**
 * The read side of persistence removal: a user's inbox rules with Cordon's risk flags, their consents
 * and app role assignments with the app behind each, and their sign-in methods (no secrets). Read live
 * from Graph, not stored. Microsoft's refusals become problems that say what to grant.
 */
@Injectable()
export class PersistenceReads {
  constructor(
    private readonly tenants: TenantsService,
    private readonly graphs: TenantGraphs,
  ) {}

  async inboxRules(principal: Principal, tenantId: string, user: string): Promise<InboxRulesResponse> {
    return this.read(principal, tenantId, user, 'rules', async (graph, u) => {
      const [rules, domains] = await Promise.all([listRules(graph, u.id), verifiedDomains(graph)]);
      return {
        rules: rules.map((r) => ({
          id: r.id,
          displayName: r.displayName ?? null,
          sequence: r.sequence ?? null,
          isEnabled: r.isEnabled !== false,
          isReadOnly: r.isReadOnly === true,
          conditions: r.conditions ?? {},
          actions: r.actions ?? {},
          risk: riskOf(r, domains),
        })),
        verifiedDomains: domains,
        note: HIDDEN_RULES_NOTE,
      };
    });
  }

  async appConsents(principal: Principal, tenantId: string, user: string): Promise<AppConsentsResponse> {
    return this.read(principal, tenantId, user, 'consents', async (graph, u) => ({
      consents: (await listConsents(graph, u.id)).map(({ raw: _raw, ...c }) => c),
      note: `${GRANT_DATE_NOTE} Tenant-wide (admin) consents are not the user's and are not listed.`,
    }));
  }

  async authMethods(principal: Principal, tenantId: string, user: string): Promise<AuthMethodsResponse> {
    return this.read(principal, tenantId, user, 'methods', async (graph, u) => ({
      methods: (await listMethods(graph, u.id)).map(({ segment: _s, ...m }) => m),
      note: METHOD_DATE_NOTE,
    }));
  }

  private async read<T>(
    principal: Principal,
    tenantId: string,
    requested: string,
    what: keyof typeof READ_PERMISSION,
    body: (graph: TenantGraphClient, user: { id: string; userPrincipalName: string }) => Promise<T>,
  ): Promise<T & { tenantId: string; user: { id: string; userPrincipalName: string } }> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    if (!tenant.enabled) throw new Problem(409, 'tenant-disabled', 'Tenant disabled', `Tenant ${tenant.id} is disabled; enable it to read from it.`);
    const graph = await this.graphs.of(tenant.id);
    let user: { id: string; userPrincipalName: string };
    try {
      user = await graph.get(`/users/${encodeURIComponent(requested)}`, { query: { $select: 'id,userPrincipalName' } });
    } catch (error) {
      throw problemOf(error, 'User.Read.All', requested);
    }
    try {
      return { tenantId: tenant.id, user: { id: user.id, userPrincipalName: user.userPrincipalName }, ...(await body(graph, user)) };
    } catch (error) {
      throw problemOf(error, READ_PERMISSION[what], requested);
    }
  }
}

function problemOf(error: unknown, permission: string, requested: string): Error {
  if (!(error instanceof MicrosoftApiError)) return error as Error;
  const extras = { microsoftCode: error.code ?? null, microsoftRequestId: error.requestId ?? null };
  if (error.code === 'MailboxNotEnabledForRESTAPI' || error.code === 'MailboxNotHostedInExchangeOnline') {
    return new Problem(
      409,
      'mailbox-unavailable',
      'Mailbox unavailable',
      `${requested} has no Exchange Online mailbox Graph can reach: ${error.message}`,
      extras,
    );
  }
  switch (error.kind) {
    case 'not-found':
      return new Problem(404, 'target-not-found', 'Not found at Microsoft', `Microsoft has no user ${requested}.`, extras);
    case 'forbidden':
      return new Problem(
        409,
        'permission-missing',
        'Permission missing',
        `Cordon's app lacks the permission to read this: grant ${permission}. Microsoft: ${error.message}`,
        {
          ...extras,
          permission,
        },
      );
    case 'throttled':
      return new Problem(429, 'microsoft-throttled', 'Microsoft throttled', `Microsoft kept throttling: ${error.message}`, extras, {
        'Retry-After': String(error.retryAfterSeconds ?? 30),
      });
    default:
      return new Problem(502, 'microsoft-unavailable', 'Microsoft unavailable', `Microsoft did not answer the read: ${error.message}`, extras);
  }
}
