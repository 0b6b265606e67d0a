import type { RawRecord, Scenario } from '../src/types';
import { huntingState, parseTimespan } from '../src/graph/hunting';
import { graphHarness, type Json } from './graph-support/harness';
import { makeTenant, START, TENANT_ID, tokenFor } from './graph-support/fake-context';

const HUNT = tokenFor(['ThreatHunting.Read.All']);
const URL = '/v1.0/security/runHuntingQuery';
const HOUR = 3_600_000;
const DEVICES = [
  {
    id: 'a'.repeat(40),
    computerDnsName: 'ws-001.contoso.com',
    aadDeviceId: null,
    osPlatform: 'Windows11',
    healthStatus: 'Active',
    lastSeen: '2025-03-04T09:00:00Z',
    lastIpAddress: '10.0.0.21',
    online: true,
    isolated: false,
    appExecutionRestricted: false,
  },
  {
    id: 'b'.repeat(40),
    computerDnsName: 'ws-002.contoso.com',
    aadDeviceId: null,
    osPlatform: 'Windows10',
    healthStatus: 'Active',
    lastSeen: '2025-03-04T09:00:00Z',
    online: true,
    isolated: false,
    appExecutionRestricted: false,
  },
];
const ALERT: RawRecord = {
  id: 'da0001',
  title: 'Ransomware',
  category: 'Ransomware',
  serviceSource: 'microsoftDefenderForEndpoint',
  detectionSource: 'antivirus',
  severity: 'high',
  createdDateTime: new Date(START - 2 * HOUR).toISOString(),
  evidence: [
    { '@odata.type': '#microsoft.graph.security.deviceEvidence', mdeDeviceId: 'a'.repeat(40), deviceDnsName: 'ws-001.contoso.com', roles: ['compromised'] },
  ],
};

function setup(hunting: NonNullable<Scenario['graph']>['hunting'] = {}) {
  const tenant = makeTenant({ devices: DEVICES, alerts: [ALERT] } as never);
  const h = graphHarness([tenant], { graph: { hunting: { callsPerMinute: 0, ...hunting } } });
  const hunt = (Query: unknown, extra: Record<string, unknown> = {}, token = HUNT) => h.call('POST', URL, { token, body: { Query, ...extra } });
  return { h, tenant, hunt };
}

const dt = (ms: number) => `datetime(${new Date(ms).toISOString()})`;

describe('Graph security/runHuntingQuery', () => {
  it("answers Microsoft's shape: schema of name/type and results rows, over the tenant's own users and devices", async () => {
    const { hunt, tenant } = setup();
    const res = await hunt(`DeviceProcessEvents | where Timestamp between (${dt(START - 3 * HOUR)} .. ${dt(START - HOUR)}) | take 5`);
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toMatch(/#microsoft\.graph\.security\.huntingQueryResults$/);
    expect(res.body.schema[0]).toEqual({ name: 'Timestamp', type: 'DateTime' });
    expect(res.body.results).toHaveLength(5);
    const row = res.body.results[0];
    expect(row.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    expect(DEVICES.map((d) => d.id)).toContain(row.DeviceId);
    expect(tenant.users.map((u) => u.userPrincipalName)).toContain(row.AccountUpn);
  });

  it('is deterministic: the same query answers the same rows', async () => {
    const q = `DeviceNetworkEvents | where Timestamp between (${dt(START - 5 * HOUR)} .. ${dt(START - 4 * HOUR)})`;
    const a = await setup().hunt(q);
    const b = await setup().hunt(q);
    expect(a.body.results.length).toBeGreaterThan(0);
    expect(a.body.results).toEqual(b.body.results);
  });

  it('runs the subset: equality, in, has, project, order by (desc by default), take, summarize count() by', async () => {
    const { hunt } = setup();
    const span = `Timestamp between (${dt(START - 24 * HOUR)} .. ${dt(START)})`;
    const all = (await hunt(`DeviceLogonEvents | where ${span}`)).body.results as Json[];
    const failed = (await hunt(`DeviceLogonEvents | where ${span} and ActionType == "LogonFailed" | project Timestamp, ActionType, DeviceId`)).body;
    expect(failed.schema.map((c: Json) => c.name)).toEqual(['Timestamp', 'ActionType', 'DeviceId']);
    expect(failed.results.length).toBe(all.filter((r) => r.ActionType === 'LogonFailed').length);
    const inDevices = (await hunt(`DeviceLogonEvents | where ${span} and DeviceId in ("${'a'.repeat(40)}")`)).body.results as Json[];
    expect(inDevices.length).toBe(all.filter((r) => r.DeviceId === 'a'.repeat(40)).length);
    const has = (await hunt(`DeviceLogonEvents | where ${span} and DeviceName has "ws-002"`)).body.results as Json[];
    expect(has.every((r) => r.DeviceName === 'ws-002.contoso.com')).toBe(true);
    const ordered = (await hunt(`DeviceLogonEvents | where ${span} | order by Timestamp | take 3`)).body.results as Json[];
    expect(ordered.map((r) => r.Timestamp)).toEqual([...all.map((r) => r.Timestamp)].sort().reverse().slice(0, 3));
    const counts = (await hunt(`DeviceLogonEvents | where ${span} | summarize count() by ActionType`)).body;
    expect(counts.schema).toEqual([
      { name: 'ActionType', type: 'String' },
      { name: 'count_', type: 'Int64' },
    ]);
    expect(counts.results.reduce((n: number, r: Json) => n + r.count_, 0)).toBe(all.length);
  });

  it("derives AlertEvidence from the tenant's alerts", async () => {
    const res = await setup().hunt('AlertEvidence | where AlertId == "da0001"');
    expect(res.body.results).toEqual([
      expect.objectContaining({
        AlertId: 'da0001',
        EntityType: 'Machine',
        DeviceId: 'a'.repeat(40),
        ServiceSource: 'Microsoft Defender for Endpoint',
        Severity: 'High',
      }),
    ]);
  });

  it("refuses what it does not run with BadRequest, in KQL's words or naming the unsupported operator", async () => {
    const { hunt } = setup();
    const cases: Array<[unknown, RegExp]> = [
      ['DeviceProcessEvents | extend x = 1', /does not support the operator 'extend'/],
      ['DeviceProcessEvents | where', /could not be parsed/],
      ['NoSuchTable | take 1', /Failed to resolve table or column expression named 'NoSuchTable'/],
      ['DeviceProcessEvents | where NoColumn == "x"', /Failed to resolve scalar expression named 'NoColumn'/],
      ['DeviceProcessEvents | where FileName contains "x"', /does not support the operator 'contains'/],
      ['', /'Query' parameter is required/],
      [42, /'Query' parameter is required/],
    ];
    for (const [q, message] of cases) {
      const res = await hunt(q);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BadRequest');
      expect(res.body.error.message).toMatch(message);
    }
    expect((await hunt('DeviceProcessEvents | take 1', { Timespan: 'yesterday' })).status).toBe(400);
  });

  it('honours the Timespan forms and never reaches back more than 30 days', async () => {
    const now = START;
    expect(parseTimespan('P1D', now)).toEqual({ fromMs: now - 24 * HOUR, toMs: now });
    expect(parseTimespan('2025-03-01T00:00:00Z/2025-03-02T00:00:00Z', now)).toEqual({
      fromMs: Date.parse('2025-03-01T00:00:00Z'),
      toMs: Date.parse('2025-03-02T00:00:00Z'),
    });
    expect(parseTimespan('PT2H/2025-03-02T00:00:00Z', now)).toEqual({ fromMs: Date.parse('2025-03-01T22:00:00Z'), toMs: Date.parse('2025-03-02T00:00:00Z') });
    expect(parseTimespan('2025-03-01T00:00:00Z/PT1H', now)).toEqual({ fromMs: Date.parse('2025-03-01T00:00:00Z'), toMs: Date.parse('2025-03-01T01:00:00Z') });
    const { hunt } = setup({ historyDays: 60, rowsPerHour: { DeviceLogonEvents: 1 } });
    const old = await hunt('DeviceLogonEvents | summarize count()', { Timespan: 'P60D' });
    expect(old.body.results[0].count_).toBeLessThanOrEqual(30 * 24);
    expect(old.body.results[0].count_).toBeGreaterThan(29 * 24);
    const lastHour = await hunt('DeviceLogonEvents | summarize count()', { Timespan: 'PT2H' });
    expect(lastHour.body.results[0].count_).toBeLessThanOrEqual(2);
  });

  it('caps a result at maxRows', async () => {
    const { hunt } = setup({ maxRows: 7 });
    expect((await hunt('DeviceNetworkEvents', { Timespan: 'P1D' })).body.results).toHaveLength(7);
  });

  it('shows late rows only once they have arrived', async () => {
    const { h, hunt } = setup({ lateFraction: 1, lateMinutes: 60 });
    const q = `IdentityLogonEvents | where Timestamp between (${dt(START - 10 * 60_000)} .. ${dt(START)}) | summarize count()`;
    const before = (await hunt(q)).body.results[0]?.count_ ?? 0;
    h.ctx.clock.advance(2 * HOUR);
    const after = (await hunt(q)).body.results[0].count_;
    expect(after).toBeGreaterThan(before);
  });

  it('needs ThreatHunting.Read.All and a Defender XDR licence', async () => {
    const { hunt, tenant } = setup();
    const denied = await hunt('DeviceProcessEvents | take 1', {}, tokenFor(['SecurityAlert.Read.All']));
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/ThreatHunting\.Read\.All/);
    tenant.licences.defenderXdr = false;
    const unlicensed = await hunt('DeviceProcessEvents | take 1');
    expect(unlicensed.status).toBe(403);
    expect(unlicensed.body.error.message).toMatch(/not licensed/);
  });

  it('answers 429 with Retry-After past 45 calls a minute per tenant', async () => {
    const { h, hunt } = setup({ callsPerMinute: 45 });
    for (let i = 0; i < 45; i++) expect((await hunt('IdentityLogonEvents | take 1')).status).toBe(200);
    const throttled = await hunt('IdentityLogonEvents | take 1');
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(Number(throttled.headers!['retry-after'])).toBeGreaterThan(0);
    h.ctx.clock.advance(61_000);
    expect((await hunt('IdentityLogonEvents | take 1')).status).toBe(200);
  });

  it('blocks the tenant until the next 15-minute cycle once its CPU quota is spent, and counts it in the state', async () => {
    const { h, hunt, tenant } = setup({ cpuRowsPer15Minutes: 100 });
    expect((await hunt('DeviceNetworkEvents', { Timespan: 'P1D' })).status).toBe(200);
    const blocked = await hunt('DeviceNetworkEvents | take 1');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.message).toMatch(/CPU resources/);
    expect(Number(blocked.headers!['retry-after'])).toBeLessThanOrEqual(900);
    h.ctx.clock.advance(Number(blocked.headers!['retry-after']) * 1000);
    expect((await hunt('DeviceNetworkEvents | take 1')).status).toBe(200);
    const state = huntingState({ ctx: h.ctx }, tenant, START - 24 * HOUR, START);
    expect(state).toMatchObject({ queries: 2, cpuBlocked: 1 });
    expect(state.rows.DeviceNetworkEvents).toBeGreaterThan(0);
    expect(TENANT_ID).toBe(tenant.tenantId);
  });
});
