import { graphHarness, type Json } from './graph-support/harness';
import { ALICE_ID, makeTenant, tokenFor } from './graph-support/fake-context';

const AUDIT = tokenFor(['AuditLog.Read.All']);
const NO_THROTTLE = { graph: { throttling: { reportsPer10Seconds: 0 } } };
const T0 = Date.parse('2025-03-01T00:00:00Z');

function signIn(i: number) {
  return {
    id: `si-${String(i).padStart(5, '0')}`,
    createdDateTime: new Date(T0 + i * 1000).toISOString(),
    userId: ALICE_ID,
    userPrincipalName: i % 2 ? 'alice@contoso.com' : 'bob@contoso.com',
    appDisplayName: 'Office 365 Exchange Online',
    ipAddress: '203.0.113.45',
    status: { errorCode: i % 5 === 0 ? 50126 : 0, failureReason: null },
  };
}

function directoryAudit(i: number, target: string) {
  return {
    id: `Directory_${i}`,
    activityDateTime: new Date(T0 + i * 1000).toISOString(),
    activityDisplayName: i % 2 ? 'Add member to group' : 'Update user',
    category: i % 2 ? 'GroupManagement' : 'UserManagement',
    loggedByService: 'Core Directory',
    result: 'success',
    initiatedBy: { app: null, user: { userPrincipalName: 'admin@contoso.com' } },
    targetResources: [{ id: target, type: 'User' }],
  };
}

describe('auditLogs/signIns', () => {
  it('needs Entra ID P1/P2: 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant (microsoft-notes M11)', async () => {
    const base = makeTenant();
    const h = graphHarness([makeTenant({ licences: { ...base.licences, entraP1: false, entraP2: false } })]);
    const res = await h.call('GET', '/v1.0/auditLogs/signIns', { token: AUDIT });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Authentication_RequestFromNonPremiumTenantOrB2CTenant');
    // directoryAudits work on the free tier.
    expect((await h.call('GET', '/v1.0/auditLogs/directoryAudits', { token: AUDIT })).status).toBe(200);
  });

  it('needs AuditLog.Read.All', async () => {
    const h = graphHarness([makeTenant()]);
    const res = await h.call('GET', '/v1.0/auditLogs/signIns', { token: tokenFor(['Directory.Read.All']) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Authentication_MSGraphPermissionMissing');
  });

  it('throttles at 5 requests / 10 s per app per tenant with Retry-After (microsoft-notes §3.5)', async () => {
    const h = graphHarness([makeTenant()]);
    for (let i = 0; i < 5; i++) {
      expect((await h.call('GET', '/v1.0/auditLogs/signIns', { token: AUDIT })).status).toBe(200);
      h.ctx.clock.advance(1000);
    }
    const throttled = await h.call('GET', '/v1.0/auditLogs/directoryAudits', { token: AUDIT });
    expect(throttled.status).toBe(429);
    expect(throttled.headers?.['retry-after']).toBe('5');
    expect(throttled.body.error).toMatchObject({ code: 'TooManyRequests', innerError: { status: '429' } });
    // Another app has its own budget.
    const other = tokenFor(['AuditLog.Read.All'], { appid: '99999999-9999-4999-8999-999999999999' });
    expect((await h.call('GET', '/v1.0/auditLogs/signIns', { token: other })).status).toBe(200);
    h.ctx.clock.advance(5000);
    expect((await h.call('GET', '/v1.0/auditLogs/signIns', { token: AUDIT })).status).toBe(200);
  });

  it('lists newest first, filters on createdDateTime and status/errorCode, caps $top at 1000, pages via nextLink', async () => {
    const h = graphHarness([makeTenant({ signIns: Array.from({ length: 2345 }, (_, i) => signIn(i)) })], NO_THROTTLE);
    const first = await h.call('GET', '/v1.0/auditLogs/signIns', { token: AUDIT });
    expect(first.body.value).toHaveLength(1000);
    expect(first.body.value[0].id).toBe('si-02344');
    expect((await h.call('GET', '/v1.0/auditLogs/signIns?$top=1001', { token: AUDIT })).status).toBe(400);
    const { items, pages } = await h.pageAll('/v1.0/auditLogs/signIns', { token: AUDIT });
    expect(pages).toBe(3);
    expect(new Set(items.map((s) => s.id)).size).toBe(2345);
    const failures = await h.call(
      'GET',
      `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent('createdDateTime ge 2025-03-01T00:00:10Z and createdDateTime lt 2025-03-01T00:00:30Z and status/errorCode ne 0')}`,
      { token: AUDIT },
    );
    expect(failures.body.value.map((s: Json) => s.id)).toEqual(['si-00025', 'si-00020', 'si-00015', 'si-00010']);
    const skip = await h.call('GET', '/v1.0/auditLogs/signIns?$skip=10', { token: AUDIT });
    expect(skip.status).toBe(400);
    expect(skip.body.error.code).toBe('Request_UnsupportedQuery');
    const bad = await h.call('GET', "/v1.0/auditLogs/signIns?$filter=deviceDetail/browser eq 'Edge'", { token: AUDIT });
    expect(bad.body.error.code).toBe('Request_UnsupportedQuery');
  });
});

describe('auditLogs/directoryAudits', () => {
  it('filters on activityDateTime, activityDisplayName and targetResources/any(...)', async () => {
    const audits = Array.from({ length: 20 }, (_, i) => directoryAudit(i, i % 4 === 0 ? ALICE_ID : 'someone-else'));
    const h = graphHarness([makeTenant({ directoryAudits: audits })], NO_THROTTLE);
    const filter = `activityDateTime ge 2025-03-01T00:00:05Z and activityDisplayName eq 'Update user' and targetResources/any(t:t/id eq '${ALICE_ID}')`;
    const res = await h.call('GET', `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(filter)}&$orderby=activityDateTime asc`, { token: AUDIT });
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe('https://localhost:9443/v1.0/$metadata#auditLogs/directoryAudits');
    expect(res.body.value.map((a: Json) => a.id)).toEqual(['Directory_8', 'Directory_12', 'Directory_16']);
    const byId = await h.call('GET', '/v1.0/auditLogs/directoryAudits/Directory_8', { token: AUDIT });
    expect(byId.body.activityDisplayName).toBe('Update user');
    expect((await h.call('GET', '/v1.0/auditLogs/directoryAudits/nope', { token: AUDIT })).status).toBe(404);
  });

  it('pages with $top and nextLink, every entry once', async () => {
    const audits = Array.from({ length: 57 }, (_, i) => directoryAudit(i, ALICE_ID));
    const h = graphHarness([makeTenant({ directoryAudits: audits })], NO_THROTTLE);
    const { items, pages } = await h.pageAll('/v1.0/auditLogs/directoryAudits?$top=10', { token: AUDIT });
    expect(pages).toBe(6);
    expect(new Set(items.map((a) => a.id)).size).toBe(57);
  });
});
