import type { RawRecord } from '../src/types';
import { graphHarness, type Json } from './graph-support/harness';
import { makeTenant, TENANT_ID, tokenFor } from './graph-support/fake-context';

const QUERY = tokenFor(['AuditLogsQuery.Read.All']);
const BASE = '/v1.0/security/auditLog/queries';

function record(i: number, extra: RawRecord = {}): RawRecord {
  return {
    Id: `rec-${String(i).padStart(4, '0')}`,
    RecordType: i % 2 ? 15 : 1,
    CreationTime: new Date(Date.parse('2025-03-01T00:00:00Z') + i * 60_000).toISOString().slice(0, 19),
    Operation: i % 2 ? 'UserLoggedIn' : 'New-InboxRule',
    OrganizationId: TENANT_ID,
    UserType: i % 2 ? 0 : 2,
    UserKey: `key-${i}`,
    Workload: i % 2 ? 'AzureActiveDirectory' : 'Exchange',
    ResultStatus: 'Success',
    ObjectId: `obj-${i}`,
    UserId: i % 3 ? 'alice@contoso.com' : 'bob@contoso.com',
    ClientIP: i % 2 ? '203.0.113.45' : '203.0.113.45:51234',
    ...extra,
  };
}

function auditTenant(count: number) {
  return makeTenant({ auditRecords: Array.from({ length: count }, (_, i) => record(i)) });
}

const body = {
  displayName: 'ir-4711-alice',
  filterStartDateTime: '2025-03-01T00:00:00Z',
  filterEndDateTime: '2025-03-02T00:00:00Z',
  recordTypeFilters: ['exchangeAdmin', 'azureActiveDirectoryStsLogon'],
  userPrincipalNameFilters: ['alice@contoso.com'],
};

describe('security/auditLog/queries (Purview audit search)', () => {
  it('creates a query (201) that goes notStarted → running → succeeded as the clock advances', async () => {
    const h = graphHarness([auditTenant(10)], { graph: { auditQuery: { notStartedMs: 10_000, runningMs: 50_000 } } });
    const created = await h.call('POST', BASE, { token: QUERY, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      '@odata.context': 'https://localhost:9443/v1.0/$metadata#security/auditLog/queries/$entity',
      '@odata.type': '#microsoft.graph.security.auditLogQuery',
      id: expect.any(String),
      displayName: 'ir-4711-alice',
      filterStartDateTime: '2025-03-01T00:00:00Z',
      filterEndDateTime: '2025-03-02T00:00:00Z',
      recordTypeFilters: ['exchangeAdmin', 'azureActiveDirectoryStsLogon'],
      userPrincipalNameFilters: ['alice@contoso.com'],
      operationFilters: [],
      status: 'notStarted',
    });
    const url = `${BASE}/${created.body.id}`;
    const status = async () => (await h.call('GET', url, { token: QUERY })).body.status;
    expect((await h.call('GET', `${url}/records`, { token: QUERY })).body.value).toEqual([]);
    h.ctx.clock.advance(10_000);
    expect(await status()).toBe('running');
    h.ctx.clock.advance(49_999);
    expect(await status()).toBe('running');
    h.ctx.clock.advance(1);
    expect(await status()).toBe('succeeded');
    const listed = await h.call('GET', BASE, { token: QUERY });
    expect(listed.body.value.map((q: Json) => q.id)).toEqual([created.body.id]);
  });

  it('pages the matching records, converted to auditLogRecord, through nextLink', async () => {
    const h = graphHarness([auditTenant(400)], { graph: { auditQuery: { notStartedMs: 0, runningMs: 0 }, throttling: { securityPerMinute: 0 } } });
    const created = await h.call('POST', BASE, { token: QUERY, body });
    const { items, pages } = await h.pageAll(`${BASE}/${created.body.id}/records?$top=100`, { token: QUERY });
    // Records inside [start, end): 0..399 minutes all fall on 2025-03-01; alice is i % 3 != 0.
    const expected = Array.from({ length: 400 }, (_, i) => i).filter((i) => i % 3 !== 0);
    expect(items.map((r) => r.id)).toEqual(expected.map((i) => `rec-${String(i).padStart(4, '0')}`));
    expect(pages).toBe(3);
    expect(items[0]).toEqual({
      '@odata.type': '#microsoft.graph.security.auditLogRecord',
      id: 'rec-0001',
      createdDateTime: '2025-03-01T00:01:00.000Z',
      auditLogRecordType: 'azureActiveDirectoryStsLogon',
      operation: 'UserLoggedIn',
      organizationId: TENANT_ID,
      userType: 'regular',
      userId: 'alice@contoso.com',
      userPrincipalName: 'alice@contoso.com',
      service: 'AzureActiveDirectory',
      objectId: 'obj-1',
      clientIp: '203.0.113.45',
      administrativeUnits: [],
      auditData: expect.objectContaining({ '@odata.type': '#microsoft.graph.security.defaultAuditData', Id: 'rec-0001', RecordType: 15 }),
    });
    expect(items[1]).toMatchObject({ auditLogRecordType: 'exchangeAdmin', userType: 'admin' });
  });

  it('applies operation, IP and time filters', async () => {
    const h = graphHarness([auditTenant(20)], { graph: { auditQuery: { notStartedMs: 0, runningMs: 0 } } });
    const created = await h.call('POST', BASE, {
      token: QUERY,
      body: {
        filterStartDateTime: '2025-03-01T00:04:00Z',
        filterEndDateTime: '2025-03-01T00:12:00Z',
        operationFilters: ['new-inboxrule'],
        ipAddressFilters: ['203.0.113.45'],
      },
    });
    const res = await h.call('GET', `${BASE}/${created.body.id}/records`, { token: QUERY });
    expect(res.body.value.map((r: Json) => r.id)).toEqual(['rec-0004', 'rec-0006', 'rec-0008', 'rec-0010']);
  });

  it('applies serviceFilter and keywordFilter; finds nothing when unified audit logging is off', async () => {
    const tenant = auditTenant(10);
    tenant.auditRecords[3].Parameters = [{ Name: 'ForwardTo', Value: 'evil@example.net' }];
    const h = graphHarness([tenant], { graph: { auditQuery: { notStartedMs: 0, runningMs: 0 } } });
    const exchange = await h.call('POST', BASE, { token: QUERY, body: { serviceFilter: 'Exchange' } });
    const byService = await h.call('GET', `${BASE}/${exchange.body.id}/records`, { token: QUERY });
    expect(byService.body.value.map((r: Json) => r.id)).toEqual(['rec-0000', 'rec-0002', 'rec-0004', 'rec-0006', 'rec-0008']);
    const keyword = await h.call('POST', BASE, { token: QUERY, body: { keywordFilter: 'evil@example.net' } });
    expect((await h.call('GET', `${BASE}/${keyword.body.id}/records`, { token: QUERY })).body.value.map((r: Json) => r.id)).toEqual(['rec-0003']);

    tenant.licences.unifiedAuditLog = false;
    const off = await h.call('POST', BASE, { token: QUERY, body: {} });
    expect((await h.call('GET', `${BASE}/${off.body.id}/records`, { token: QUERY })).body.value).toEqual([]);
  });

  it('needs AuditLogsQuery.Read.All (or a per-service permission, limited to that service)', async () => {
    const h = graphHarness([auditTenant(10)], { graph: { auditQuery: { notStartedMs: 0, runningMs: 0 } } });
    const denied = await h.call('POST', BASE, { token: tokenFor(['AuditLog.Read.All']), body });
    expect(denied.status).toBe(403);
    const exchangeOnly = tokenFor(['AuditLogsQuery-Exchange.Read.All']);
    const created = await h.call('POST', BASE, { token: exchangeOnly, body: {} });
    expect(created.status).toBe(201);
    const res = await h.call('GET', `${BASE}/${created.body.id}/records`, { token: exchangeOnly });
    expect(new Set(res.body.value.map((r: Json) => r.service))).toEqual(new Set(['Exchange']));
  });

  it('validates the body and 404s unknown queries', async () => {
    const h = graphHarness([auditTenant(1)]);
    const bad = await h.call('POST', BASE, { token: QUERY, body: { filterStartDateTime: 'yesterday' } });
    expect(bad.status).toBe(400);
    const inverted = await h.call('POST', BASE, {
      token: QUERY,
      body: { filterStartDateTime: '2025-03-02T00:00:00Z', filterEndDateTime: '2025-03-01T00:00:00Z' },
    });
    expect(inverted.status).toBe(400);
    expect((await h.call('GET', `${BASE}/00000000-0000-4000-8000-000000000000`, { token: QUERY })).status).toBe(404);
  });
});
