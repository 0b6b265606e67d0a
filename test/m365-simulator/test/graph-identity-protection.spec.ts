import { graphHarness, type Json } from './graph-support/harness';
import { ALICE_ID, ADMIN_ID, makeTenant, makeUser, tokenFor } from './graph-support/fake-context';

const READ = tokenFor(['IdentityRiskyUser.Read.All']);
const WRITE = tokenFor(['IdentityRiskyUser.ReadWrite.All']);
const EVENTS = tokenFor(['IdentityRiskEvent.Read.All']);

function riskyTenant(licences: Partial<ReturnType<typeof makeTenant>['licences']> = {}) {
  const tenant = makeTenant();
  tenant.licences = { ...tenant.licences, ...licences };
  Object.assign(tenant.users[0], { riskLevel: 'medium', riskState: 'atRisk', riskDetail: 'none', riskLastUpdatedDateTime: '2025-03-03T09:00:00Z' });
  tenant.users.push(
    makeUser({
      id: '44444444-4444-4444-8444-444444444444',
      userPrincipalName: 'carol@contoso.com',
      riskLevel: 'low',
      riskState: 'remediated',
      riskLastUpdatedDateTime: '2025-03-02T09:00:00Z',
    }),
  );
  return tenant;
}

/** Identity Protection allows one request per second per tenant (microsoft-notes M12). */
async function spaced<T>(h: ReturnType<typeof graphHarness>, fn: () => Promise<T>): Promise<T> {
  h.ctx.clock.advance(1000);
  return fn();
}

describe('identityProtection/riskyUsers', () => {
  it('lists risky users with $filter on riskLevel/riskState', async () => {
    const h = graphHarness([riskyTenant()]);
    const all = await h.call('GET', '/v1.0/identityProtection/riskyUsers', { token: READ });
    expect(all.status).toBe(200);
    expect(all.body['@odata.context']).toBe('https://localhost:9443/v1.0/$metadata#identityProtection/riskyUsers');
    expect(all.body.value.map((u: Json) => u.userPrincipalName)).toEqual(['alice@contoso.com', 'carol@contoso.com']);
    expect(all.body.value[0]).toEqual({
      id: ALICE_ID,
      isDeleted: false,
      isProcessing: false,
      riskLastUpdatedDateTime: '2025-03-03T09:00:00Z',
      riskLevel: 'medium',
      riskState: 'atRisk',
      riskDetail: 'none',
      userDisplayName: 'Alice Example',
      userPrincipalName: 'alice@contoso.com',
    });
    const filtered = await spaced(h, () =>
      h.call('GET', "/v1.0/identityProtection/riskyUsers?$filter=riskState eq 'atRisk' and (riskLevel eq 'medium' or riskLevel eq 'high')", { token: READ }),
    );
    expect(filtered.body.value.map((u: Json) => u.id)).toEqual([ALICE_ID]);
    const one = await spaced(h, () => h.call('GET', `/v1.0/identityProtection/riskyUsers/${ALICE_ID}`, { token: READ }));
    expect(one.body.riskState).toBe('atRisk');
    const none = await spaced(h, () => h.call('GET', `/v1.0/identityProtection/riskyUsers/${ADMIN_ID}`, { token: READ }));
    expect(none.status).toBe(404);
  });

  it('needs Entra ID P2 (403) and the right permission (403)', async () => {
    const unlicensed = graphHarness([riskyTenant({ entraP2: false })]);
    const res = await unlicensed.call('GET', '/v1.0/identityProtection/riskyUsers', { token: READ });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/not licensed/);
    const h = graphHarness([riskyTenant()]);
    const denied = await h.call('GET', '/v1.0/identityProtection/riskyUsers', { token: tokenFor(['User.Read.All']) });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/IdentityRiskyUser\.Read\.All/);
  });

  it('confirmCompromised sets confirmedCompromised/high and answers 204; needs ReadWrite', async () => {
    const tenant = riskyTenant();
    const h = graphHarness([tenant]);
    const body = { userIds: [ALICE_ID] };
    const denied = await h.call('POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { token: READ, body });
    expect(denied.status).toBe(403);
    const ok = await spaced(h, () => h.call('POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { token: WRITE, body }));
    expect(ok.status).toBe(204);
    expect(ok.body).toBeUndefined();
    expect(tenant.users[0]).toMatchObject({ riskState: 'confirmedCompromised', riskLevel: 'high', riskDetail: 'adminConfirmedUserCompromised' });
    expect(tenant.riskDetections.at(-1)).toMatchObject({ riskEventType: 'adminConfirmedUserCompromised', userId: ALICE_ID });
    expect(tenant.directoryAudits.at(-1)).toMatchObject({ loggedByService: 'Identity Protection', result: 'success' });
    const bad = await spaced(h, () => h.call('POST', '/v1.0/identityProtection/riskyUsers/confirmCompromised', { token: WRITE, body: {} }));
    expect(bad.status).toBe(400);
  });

  it('dismiss clears the risk', async () => {
    const tenant = riskyTenant();
    const h = graphHarness([tenant]);
    const res = await h.call('POST', '/v1.0/identityProtection/riskyUsers/dismiss', { token: WRITE, body: { userIds: [ALICE_ID] } });
    expect(res.status).toBe(204);
    expect(tenant.users[0]).toMatchObject({ riskState: 'dismissed', riskLevel: 'none', riskLastUpdatedDateTime: '2025-03-04T10:00:00.000Z' });
  });

  it('throttles at 1 request/second per tenant across apps, with no Retry-After (microsoft-notes M12)', async () => {
    const h = graphHarness([riskyTenant()]);
    expect((await h.call('GET', '/v1.0/identityProtection/riskyUsers', { token: READ })).status).toBe(200);
    const other = tokenFor(['IdentityRiskEvent.Read.All'], { appid: '99999999-9999-4999-8999-999999999999' });
    const throttled = await h.call('GET', '/v1.0/identityProtection/riskDetections', { token: other });
    expect(throttled.status).toBe(429);
    expect(throttled.headers?.['retry-after']).toBeUndefined();
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(throttled.body.error.innerError).toMatchObject({ code: '429', status: '429', 'request-id': expect.any(String) });
    h.ctx.clock.advance(999);
    expect((await h.call('GET', '/v1.0/identityProtection/riskyUsers', { token: READ })).status).toBe(429);
    h.ctx.clock.advance(1);
    expect((await h.call('GET', '/v1.0/identityProtection/riskyUsers', { token: READ })).status).toBe(200);
  });
});

describe('identityProtection/riskDetections', () => {
  function detectionTenant(count: number) {
    const tenant = riskyTenant();
    tenant.riskDetections = Array.from({ length: count }, (_, i) => ({
      id: `det-${String(i).padStart(4, '0')}`,
      riskEventType: i % 2 ? 'unfamiliarFeatures' : 'anonymizedIPAddress',
      riskLevel: i % 3 ? 'low' : 'high',
      riskState: 'atRisk',
      detectedDateTime: new Date(Date.parse('2025-03-01T00:00:00Z') + i * 60_000).toISOString(),
      activityDateTime: new Date(Date.parse('2025-03-01T00:00:00Z') + i * 60_000).toISOString(),
      userId: ALICE_ID,
      userPrincipalName: 'alice@contoso.com',
    }));
    return tenant;
  }

  it('caps $top at 500', async () => {
    const h = graphHarness([detectionTenant(3)]);
    const res = await h.call('GET', '/v1.0/identityProtection/riskDetections?$top=501', { token: EVENTS });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/500/);
    const ok = await spaced(h, () => h.call('GET', '/v1.0/identityProtection/riskDetections?$top=500', { token: EVENTS }));
    expect(ok.status).toBe(200);
  });

  it('pages to the end through nextLink, every detection exactly once', async () => {
    const h = graphHarness([detectionTenant(1203)], { graph: { throttling: { identityProtectionPerSecond: 0 } } });
    const { items, pages } = await h.pageAll('/v1.0/identityProtection/riskDetections?$top=500', { token: EVENTS });
    expect(pages).toBe(3);
    expect(new Set(items.map((d) => d.id)).size).toBe(1203);
    expect(items).toHaveLength(1203);
    // Newest first by default.
    expect(items[0].id).toBe('det-1202');
  });

  it('filters on detectedDateTime and riskEventType', async () => {
    const h = graphHarness([detectionTenant(10)]);
    const res = await h.call(
      'GET',
      "/v1.0/identityProtection/riskDetections?$filter=detectedDateTime ge 2025-03-01T00:05:00Z and riskEventType eq 'unfamiliarFeatures'",
      { token: EVENTS },
    );
    expect(res.body.value.map((d: Json) => d.id)).toEqual(['det-0009', 'det-0007', 'det-0005']);
  });
});
