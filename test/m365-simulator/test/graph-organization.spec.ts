/** `GET /v1.0/organization` (microsoft-notes §9.7): the tenant's verified domains, behind a directory read permission. */
import { graphHarness } from './graph-support/harness';
import { tokenFor } from './graph-support/fake-context';
import { becTenant } from './graph-support/bec-tenant';

describe('organization', () => {
  it('lists the one organization with its verified domains; the first is the default', async () => {
    const tenant = becTenant();
    tenant.domains = ['contoso.com', 'contoso.onmicrosoft.com'];
    const h = graphHarness([tenant]);
    const res = await h.call('GET', '/v1.0/organization', { token: tokenFor(['Organization.Read.All']) });
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(1);
    expect(res.body.value[0]).toMatchObject({ id: tenant.tenantId, displayName: tenant.displayName });
    expect(res.body.value[0].verifiedDomains).toEqual([
      expect.objectContaining({ name: 'contoso.com', isDefault: true, isInitial: false, type: 'Managed' }),
      expect.objectContaining({ name: 'contoso.onmicrosoft.com', isDefault: false, isInitial: true }),
    ]);
    const selected = await h.call('GET', '/v1.0/organization?$select=verifiedDomains', { token: tokenFor(['Directory.Read.All']) });
    expect(Object.keys(selected.body.value[0])).toEqual(['verifiedDomains']);
  });

  it('answers 403 Authorization_RequestDenied without a directory or organization read permission', async () => {
    const h = graphHarness([becTenant()]);
    const res = await h.call('GET', '/v1.0/organization', { token: tokenFor(['MailboxSettings.Read']) });
    expect([res.status, res.body.error.code]).toEqual([403, 'Authorization_RequestDenied']);
  });
});
