/**
 * `GET /v1.0/organization`: the tenant's one organization object, with `verifiedDomains`
 * (microsoft-notes §9.7). Cordon reads it to tell an address inside the tenant from one outside (a forwarding rule to an
 * outside address is the commonest BEC persistence).
 */
import type { SimRequest, SimResponse, SimRoute, SimTenant } from '../types';
import { authorize, type GraphEnv } from './access';
import { applySelect, queryOption } from './paging';
import type { RawRecord } from '../types';

/** Least privileged first; Directory.* and Organization.ReadWrite.All also read it. */
export const ORGANIZATION_READ = ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

function organizationJson(tenant: SimTenant): RawRecord {
  const initial = tenant.domains.find((d) => d.toLowerCase().endsWith('.onmicrosoft.com')) ?? tenant.domains[0];
  return {
    id: tenant.tenantId,
    displayName: tenant.displayName,
    tenantType: 'AAD',
    verifiedDomains: tenant.domains.map((name, i) => ({
      capabilities: 'Email, OfficeCommunicationsOnline',
      isDefault: i === 0,
      isInitial: name === initial,
      name,
      type: 'Managed',
    })),
  };
}

function listOrganization(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', ORGANIZATION_READ);
  const select = queryOption(req, 'select');
  const org = organizationJson(token.tenant);
  return {
    status: 200,
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#organization`, value: [applySelect(org, select)] },
  };
}

export function organizationRoutes(env: GraphEnv): SimRoute[] {
  return [{ host: 'graph', method: 'GET', pattern: '/v1.0/organization', handler: (req) => listOrganization(env, req) }];
}
