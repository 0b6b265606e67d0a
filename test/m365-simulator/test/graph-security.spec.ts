import type { RawRecord } from '../src/types';
import { graphHarness, type Json } from './graph-support/harness';
import { makeTenant, TENANT_ID, tokenFor } from './graph-support/fake-context';

const ALERTS = tokenFor(['SecurityAlert.Read.All']);
const INCIDENTS = tokenFor(['SecurityIncident.Read.All']);
const NO_THROTTLE = { graph: { throttling: { securityPerMinute: 0 } } };
const T0 = Date.parse('2025-03-01T00:00:00Z');
const SEVERITIES = ['informational', 'low', 'medium', 'high'];

function alert(i: number, extra: RawRecord = {}): RawRecord {
  return {
    id: `da${String(i).padStart(6, '0')}`,
    providerAlertId: `da${String(i).padStart(6, '0')}`,
    incidentId: String(1000 + Math.floor(i / 3)),
    status: i % 4 === 0 ? 'resolved' : 'new',
    severity: SEVERITIES[i % 4],
    classification: 'unknown',
    determination: 'unknown',
    serviceSource: i % 2 ? 'microsoftDefenderForEndpoint' : 'microsoftDefenderForOffice365',
    detectionSource: 'antivirus',
    title: `Alert ${i}`,
    tenantId: TENANT_ID,
    createdDateTime: new Date(T0 + i * 60_000).toISOString(),
    lastUpdateDateTime: new Date(T0 + i * 60_000 + 30_000).toISOString(),
    ...extra,
  };
}

function incident(i: number): RawRecord {
  return {
    id: String(1000 + i),
    displayName: `Incident ${i}`,
    status: i % 2 ? 'active' : 'resolved',
    severity: SEVERITIES[i % 4],
    classification: 'unknown',
    determination: 'unknown',
    createdDateTime: new Date(T0 + i * 60_000).toISOString(),
    lastUpdateDateTime: new Date(T0 + i * 60_000 + 1000).toISOString(),
    tenantId: TENANT_ID,
  };
}

function securityTenant(alerts: number, incidents = 0) {
  return makeTenant({
    alerts: Array.from({ length: alerts }, (_, i) => alert(i)),
    incidents: Array.from({ length: incidents }, (_, i) => incident(i)),
  });
}

describe('security/alerts_v2', () => {
  it('pages to the end through nextLink, every alert exactly once', async () => {
    const h = graphHarness([securityTenant(2500)], NO_THROTTLE);
    const { items, pages } = await h.pageAll('/v1.0/security/alerts_v2?$top=1000', { token: ALERTS });
    expect(pages).toBe(3);
    expect(items).toHaveLength(2500);
    expect(new Set(items.map((a) => a.id)).size).toBe(2500);
    expect(items[0]['@odata.type']).toBe('#microsoft.graph.security.alert');
  });

  it('keeps paging exact when alerts arrive between pages (opaque keyset skiptoken)', async () => {
    const tenant = securityTenant(25);
    const h = graphHarness([tenant], NO_THROTTLE);
    const first = await h.call('GET', '/v1.0/security/alerts_v2?$top=10&$orderby=lastUpdateDateTime asc', { token: ALERTS });
    const next: string = first.body['@odata.nextLink'];
    expect(next).toMatch(/^https:\/\/localhost:9443\/v1\.0\/security\/alerts_v2\?.*\$skiptoken=[\w-]+$/);
    tenant.alerts.unshift(alert(999)); // newer than all others, stored first
    const rest = await h.pageAll(next, { token: ALERTS });
    const ids = [...first.body.value, ...rest.items].map((a: Json) => a.id);
    expect(ids).toHaveLength(26);
    expect(new Set(ids).size).toBe(26);
    expect(ids.at(-1)).toBe('da000999');
  });

  it('filters on lastUpdateDateTime, serviceSource, severity and status with and/or', async () => {
    const h = graphHarness([securityTenant(40)], NO_THROTTLE);
    const filter =
      "lastUpdateDateTime gt 2025-03-01T00:20:00Z and (severity eq 'high' or severity eq 'medium') and serviceSource eq 'microsoftDefenderForEndpoint' and status ne 'resolved'";
    const res = await h.call('GET', `/v1.0/security/alerts_v2?$filter=${encodeURIComponent(filter)}&$orderby=createdDateTime asc`, { token: ALERTS });
    expect(res.status).toBe(200);
    // Odd i (Endpoint) with i%4 in {2,3} ⇒ i%4 == 3 (high), i >= 20.
    expect(res.body.value.map((a: Json) => a.title)).toEqual(['Alert 23', 'Alert 27', 'Alert 31', 'Alert 35', 'Alert 39']);
    const desc = await h.call('GET', '/v1.0/security/alerts_v2?$orderby=createdDateTime desc&$top=2', { token: ALERTS });
    expect(desc.body.value.map((a: Json) => a.title)).toEqual(['Alert 39', 'Alert 38']);
    // Enums sort by member order: informational < low < medium < high.
    const bySeverity = await h.call('GET', '/v1.0/security/alerts_v2?$orderby=severity desc&$top=12', { token: ALERTS });
    expect(bySeverity.body.value.map((a: Json) => a.severity)).toEqual([...Array(10).fill('high'), 'medium', 'medium']);
  });

  it('answers 400 BadRequest for unsupported filters, bad syntax, bad $orderby and bad skiptokens', async () => {
    const h = graphHarness([securityTenant(3)], NO_THROTTLE);
    for (const url of [
      "/v1.0/security/alerts_v2?$filter=investigationState eq 'running'",
      "/v1.0/security/alerts_v2?$filter=severity eq 'high' and",
      '/v1.0/security/alerts_v2?$orderby=title',
      '/v1.0/security/alerts_v2?$skiptoken=not-a-token',
      '/v1.0/security/alerts_v2?$top=ten',
    ]) {
      const res = await h.call('GET', url, { token: ALERTS });
      expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'BadRequest']);
      expect(res.body.error.innerError['request-id']).toEqual(expect.any(String));
    }
  });

  it('caps $top at 1000 and $top + $skip at 6000 (microsoft-notes M8)', async () => {
    const h = graphHarness([securityTenant(10)], NO_THROTTLE);
    const over = await h.call('GET', '/v1.0/security/alerts_v2?$top=1001', { token: ALERTS });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toMatch(/1000/);
    expect((await h.call('GET', '/v1.0/security/alerts_v2?$top=1000&$skip=5000', { token: ALERTS })).status).toBe(200);
    const tooFar = await h.call('GET', '/v1.0/security/alerts_v2?$top=1000&$skip=5001', { token: ALERTS });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.error.code).toBe('BadRequest');
    expect((await h.call('GET', '/v1.0/security/alerts_v2?$skip=5500', { token: ALERTS })).status).toBe(400);
    const skipped = await h.call('GET', '/v1.0/security/alerts_v2?$top=3&$skip=3&$orderby=createdDateTime asc', { token: ALERTS });
    expect(skipped.body.value.map((a: Json) => a.title)).toEqual(['Alert 3', 'Alert 4', 'Alert 5']);
    expect(skipped.body['@odata.nextLink']).not.toMatch(/\$skip=/);
  });

  it('returns newer enum members as unknownFutureValue unless Prefer: include-unknown-enum-members (microsoft-notes M10)', async () => {
    const tenant = makeTenant({
      alerts: [
        alert(1, { serviceSource: 'microsoftDefenderForCloud', detectionSource: 'microsoftSentinel' }),
        alert(2, { serviceSource: 'microsoftSentinel', detectionSource: 'customDetection' }),
        alert(3),
      ],
    });
    const h = graphHarness([tenant], NO_THROTTLE);
    const plain = await h.call('GET', '/v1.0/security/alerts_v2?$orderby=createdDateTime asc', { token: ALERTS });
    expect(plain.body.value.map((a: Json) => [a.serviceSource, a.detectionSource])).toEqual([
      ['unknownFutureValue', 'unknownFutureValue'],
      ['unknownFutureValue', 'customDetection'],
      ['microsoftDefenderForEndpoint', 'antivirus'],
    ]);
    const headers = { Prefer: 'include-unknown-enum-members' };
    const full = await h.call('GET', '/v1.0/security/alerts_v2?$orderby=createdDateTime asc', { token: ALERTS, headers: { prefer: headers.Prefer } });
    expect(full.body.value.map((a: Json) => a.serviceSource)).toEqual(['microsoftDefenderForCloud', 'microsoftSentinel', 'microsoftDefenderForEndpoint']);
    const one = await h.call('GET', `/v1.0/security/alerts_v2/${tenant.alerts[0].id}`, { token: ALERTS });
    expect(one.body.serviceSource).toBe('unknownFutureValue');
    const sentinel = await h.call('GET', "/v1.0/security/alerts_v2?$filter=serviceSource eq 'unknownFutureValue'", { token: ALERTS });
    expect(sentinel.body.value).toHaveLength(2);
    // The stored data is untouched.
    expect(tenant.alerts[0].serviceSource).toBe('microsoftDefenderForCloud');
  });

  it('gates on permission and licence, and 404s unknown ids', async () => {
    const h = graphHarness([securityTenant(1)], NO_THROTTLE);
    const denied = await h.call('GET', '/v1.0/security/alerts_v2', { token: INCIDENTS });
    expect(denied.status).toBe(403);
    const unlicensed = graphHarness([makeTenant({ licences: { ...makeTenant().licences, defenderXdr: false } })]);
    expect((await unlicensed.call('GET', '/v1.0/security/alerts_v2', { token: ALERTS })).status).toBe(403);
    const missing = await h.call('GET', '/v1.0/security/alerts_v2/nope', { token: ALERTS });
    expect(missing.status).toBe(404);
  });

  it('throttles at 150 requests/minute per app with Retry-After', async () => {
    const h = graphHarness([securityTenant(1)]);
    for (let i = 0; i < 150; i++) {
      expect((await h.call('GET', '/v1.0/security/alerts_v2', { token: ALERTS })).status).toBe(200);
    }
    h.ctx.clock.advance(20_000);
    const throttled = await h.call('GET', '/v1.0/security/alerts_v2', { token: ALERTS });
    expect(throttled.status).toBe(429);
    expect(throttled.headers?.['retry-after']).toBe('40');
    h.ctx.clock.advance(40_000);
    expect((await h.call('GET', '/v1.0/security/alerts_v2', { token: ALERTS })).status).toBe(200);
  });
});

describe('security/incidents', () => {
  it('expands alerts with $expand=alerts, on lists and by id', async () => {
    const h = graphHarness([securityTenant(9, 3)], NO_THROTTLE);
    const list = await h.call('GET', '/v1.0/security/incidents?$expand=alerts&$orderby=createdDateTime asc', { token: INCIDENTS });
    expect(list.status).toBe(200);
    expect(list.body.value.map((i: Json) => i.alerts.map((a: Json) => a.title))).toEqual([
      expect.arrayContaining(['Alert 0', 'Alert 1', 'Alert 2']),
      expect.arrayContaining(['Alert 3', 'Alert 4', 'Alert 5']),
      expect.arrayContaining(['Alert 6', 'Alert 7', 'Alert 8']),
    ]);
    const plain = await h.call('GET', '/v1.0/security/incidents', { token: INCIDENTS });
    expect(plain.body.value[0]).not.toHaveProperty('alerts');
    const one = await h.call('GET', '/v1.0/security/incidents/1001?$expand=alerts', { token: INCIDENTS });
    expect(one.body.alerts).toHaveLength(3);
    expect((await h.call('GET', '/v1.0/security/incidents?$expand=comments', { token: INCIDENTS })).status).toBe(400);
    // An incident loaded with embedded alerts and no alerts_v2 records keeps them, enum-masked.
    const embedded = graphHarness([makeTenant({ incidents: [{ ...incident(7), alerts: [alert(70, { serviceSource: 'microsoftSentinel' })] }] })], NO_THROTTLE);
    const expanded = await embedded.call('GET', '/v1.0/security/incidents/1007?$expand=alerts', { token: INCIDENTS });
    expect(expanded.body.alerts.map((a: Json) => [a.id, a.serviceSource])).toEqual([['da000070', 'unknownFutureValue']]);
    expect((await embedded.call('GET', '/v1.0/security/incidents/1007', { token: INCIDENTS })).body).not.toHaveProperty('alerts');
    expect((await h.call('GET', '/v1.0/security/incidents', { token: ALERTS })).status).toBe(403);
  });

  it('fails persistently with 500 on $expand=alerts + $filter above the threshold (microsoft-notes M9)', async () => {
    const h = graphHarness([securityTenant(0, 30)], { graph: { incidentsExpandFailureThreshold: 20, throttling: { securityPerMinute: 0 } } });
    const url = '/v1.0/security/incidents?$expand=alerts&$filter=lastUpdateDateTime ge 2025-03-01T00:00:00Z';
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await h.call('GET', url, { token: INCIDENTS });
      expect(res.status).toBe(500);
      expect(res.body.error.innerError['request-id']).toEqual(expect.any(String));
    }
    // Either half alone works.
    expect((await h.call('GET', '/v1.0/security/incidents?$expand=alerts', { token: INCIDENTS })).status).toBe(200);
    expect((await h.call('GET', "/v1.0/security/incidents?$filter=status eq 'active'", { token: INCIDENTS })).body.value).toHaveLength(15);
  });

  it('pages incidents with $filter through nextLink', async () => {
    const h = graphHarness([securityTenant(0, 120)], NO_THROTTLE);
    const { items, pages } = await h.pageAll(
      `/v1.0/security/incidents?$top=50&$filter=${encodeURIComponent('createdDateTime ge 2025-03-01T00:10:00Z')}&$orderby=lastUpdateDateTime asc`,
      { token: INCIDENTS },
    );
    expect(pages).toBe(3);
    expect(items.map((i) => i.id)).toEqual(Array.from({ length: 110 }, (_, i) => String(1010 + i)));
  });
});

describe('security/secureScores and secureScoreControlProfiles', () => {
  const tenant = makeTenant({
    secureScores: Array.from({ length: 5 }, (_, i) => ({
      id: `${TENANT_ID}_2025-03-0${i + 1}`,
      azureTenantId: TENANT_ID,
      createdDateTime: `2025-03-0${i + 1}T00:00:00Z`,
      currentScore: 40 + i,
      maxScore: 100,
      controlScores: [],
    })),
    secureScoreControlProfiles: [
      { id: 'MFARegistrationV2', title: 'Ensure all users can complete MFA', rank: 1, maxScore: 9, service: 'AzureAD' },
      { id: 'BlockLegacyAuthentication', title: 'Block legacy authentication', rank: 2, maxScore: 8, service: 'AzureAD' },
    ],
  });

  it('lists scores newest first; $top=1 gives the latest', async () => {
    const h = graphHarness([tenant]);
    const token = tokenFor(['SecurityEvents.Read.All']);
    const latest = await h.call('GET', '/v1.0/security/secureScores?$top=1', { token });
    expect(latest.body.value.map((s: Json) => s.currentScore)).toEqual([44]);
    expect(latest.body['@odata.nextLink']).toEqual(expect.any(String));
    const profiles = await h.call('GET', '/v1.0/security/secureScoreControlProfiles', { token });
    expect(profiles.body.value.map((p: Json) => p.id)).toEqual(['MFARegistrationV2', 'BlockLegacyAuthentication']);
    expect((await h.call('GET', '/v1.0/security/secureScores', { token: ALERTS })).status).toBe(403);
  });
});
