import type { Capability, CapabilityCheck } from '../../tenants/capability';

/** Office 365 Management Activity API content types (microsoft-notes §2.1). */
export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;

/** One capability per content type; `DLP.All` has a permission of its own (microsoft-notes §2.1). */
const CONTENT_TYPE_CAPABILITIES: Capability[] = CONTENT_TYPES.map((type) => ({
  name: `management-activity:${type}`,
  permissions: type === 'DLP.All' ? ['ActivityFeed.ReadDlp'] : ['ActivityFeed.Read'],
  licence: 'unified audit logging on (microsoft-notes M6)',
}));

/** One subscription list decides every content type; which ones Cordon may read, the roles of its token say. */
export const MANAGEMENT_ACTIVITY_CAPABILITIES: CapabilityCheck = {
  capabilities: CONTENT_TYPE_CAPABILITIES,
  async probe({ tenant, http, roles }) {
    // Listing subscriptions needs ActivityFeed.Read and a tenant with the unified audit log on (microsoft-notes M6).
    await http.request({
      tenant,
      resource: 'manage',
      url: `/api/v1.0/${tenant.tenantId}/activity/feed/subscriptions/list`,
      query: { PublisherIdentifier: tenant.tenantId },
    });
    const granted = await roles('manage');
    return CONTENT_TYPE_CAPABILITIES.map(({ name: capability, permissions }) =>
      permissions.some((p) => granted.includes(p))
        ? { capability, status: 'available' as const, detail: null }
        : { capability, status: 'forbidden' as const, detail: `needs ${permissions.join(' or ')}` },
    );
  },
};
