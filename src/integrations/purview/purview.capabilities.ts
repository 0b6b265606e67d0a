import type { Capability, CapabilityCheck } from '../../tenants/capability';

const PURVIEW_AUDIT_SEARCH: Capability = {
  name: 'purview-audit-search',
  permissions: ['AuditLogsQuery.Read.All'],
  licence: 'the global cloud (microsoft-notes M21)',
};

/** Listing audit searches decides it, in the one cloud that offers them. */
export const PURVIEW_CAPABILITIES: CapabilityCheck = {
  capabilities: [PURVIEW_AUDIT_SEARCH],
  async probe({ tenant, graph }) {
    const capability = PURVIEW_AUDIT_SEARCH.name;
    if (tenant.cloud !== 'global') {
      return [{ capability, status: 'unlicensed', detail: `Purview audit search is offered in the global cloud only (microsoft-notes M21)` }];
    }
    await graph.get('/security/auditLog/queries', { query: { $top: '1' } });
    return [{ capability, status: 'available', detail: null }];
  },
};
