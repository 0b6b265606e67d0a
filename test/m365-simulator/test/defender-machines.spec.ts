import { defenderModule } from '../src/defender';
import { device, FakeSim, tenant } from './defender-support/fake-context';

/** `GET /api/machines` and `GET /api/machines/{id}` against microsoft-notes §5.2 and M19. */
describe('Defender machines', () => {
  const ws42 = () => device();
  const ws43 = () =>
    device({
      id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      computerDnsName: 'ws-043.contoso.com',
      aadDeviceId: null,
      osPlatform: 'Linux',
      healthStatus: 'Inactive',
      lastSeen: '2026-02-01T08:00:00.000Z',
      extra: { machineTags: ['finance', 'vip'], rbacGroupName: 'Finance', failActions: ['Isolate'] },
    });
  const srv = () =>
    device({
      id: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      computerDnsName: 'srv-db01',
      aadDeviceId: '0f0e0d0c-0b0a-0908-0706-050403020100',
      healthStatus: 'ImpairedCommunication',
      lastSeen: '2026-02-28T08:00:00.000Z',
    });

  let sim: FakeSim;
  let reader: string;

  beforeEach(() => {
    sim = new FakeSim(defenderModule, [tenant('t1', [ws42(), ws43(), srv()]), tenant('empty', [])]);
    reader = sim.token('reader', { tenantId: 't1', roles: ['Machine.Read.All'], clientId: 'app-1' });
  });

  const list = (query = '', token = reader) => sim.call('GET', `/api/machines${query}`, { token });
  const names = (body: { value: Array<{ computerDnsName: string }> }) => body.value.map((m) => m.computerDnsName);

  it('lists every machine with the documented fields and OData context', async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe('https://localhost:8443/api/$metadata#Machines');
    expect(res.body['@odata.nextLink']).toBeUndefined();
    expect(names(res.body)).toEqual(['ws-042.contoso.com', 'ws-043.contoso.com', 'srv-db01']);
    expect(res.body.value[0]).toMatchObject({
      id: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
      computerDnsName: 'ws-042.contoso.com',
      firstSeen: '2025-06-01T08:00:00.000Z',
      lastSeen: '2026-03-01T08:00:00.000Z',
      osPlatform: 'Windows11',
      version: '23H2',
      healthStatus: 'Active',
      riskScore: 'Medium',
      exposureLevel: 'Low',
      aadDeviceId: '80fe8ff8-2624-418e-9591-41f0491218f9',
      isAadJoined: true,
      lastIpAddress: '10.0.0.42',
      machineTags: [],
    });
  });

  it('serves SimDevice.extra as given but never the sim-only failActions key', async () => {
    const res = await list();
    const linux = res.body.value[1];
    expect(linux).toMatchObject({ machineTags: ['finance', 'vip'], rbacGroupName: 'Finance', isAadJoined: false });
    expect(linux).not.toHaveProperty('failActions');
  });

  it.each([
    ["computerDnsName eq 'ws-043.contoso.com'", ['ws-043.contoso.com']],
    ["ComputerDnsName eq 'WS-043.CONTOSO.COM'", ['ws-043.contoso.com']],
    ["startswith(computerDnsName,'ws-')", ['ws-042.contoso.com', 'ws-043.contoso.com']],
    ['aadDeviceId eq 80fe8ff8-2624-418e-9591-41f0491218f9', ['ws-042.contoso.com']],
    ["aadDeviceId eq '0f0e0d0c-0b0a-0908-0706-050403020100'", ['srv-db01']],
    ['lastSeen gt 2026-02-15Z', ['ws-042.contoso.com', 'srv-db01']],
    ['lastSeen gt 2026-02-28T12:00:00Z', ['ws-042.contoso.com']],
    ["healthStatus eq 'Inactive'", ['ws-043.contoso.com']],
    ["healthStatus ne 'Active'&$top=100", ['ws-043.contoso.com', 'srv-db01']],
    ["osPlatform eq 'Linux' or riskScore eq 'Medium' and healthStatus eq 'Active'", ['ws-042.contoso.com', 'ws-043.contoso.com']],
    ["not (healthStatus eq 'Active')", ['ws-043.contoso.com', 'srv-db01']],
    ["machineTags/any(tag: tag eq 'vip')", ['ws-043.contoso.com']],
    ["id eq 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'", ['srv-db01']],
  ])('filters with $filter=%s', async (filter, expected) => {
    const [expression, ...options] = filter.split('&');
    const res = await list(`?$filter=${encodeURIComponent(expression)}${options.map((o) => `&${o}`).join('')}`);
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(expected);
  });

  it('answers 404 NotFound, not an empty list, when no machine matches (microsoft-notes M19)', async () => {
    const res = await list(`?$filter=${encodeURIComponent("computerDnsName eq 'nope.contoso.com'")}`);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'NotFound', message: expect.any(String), target: expect.any(String) });

    const empty = sim.token('empty-reader', { tenantId: 'empty', roles: ['Machine.ReadWrite.All'] });
    expect((await list('', empty)).status).toBe(404);
  });

  it('pages with $top and $skip and follows @odata.nextLink', async () => {
    const first = await list(`?$filter=${encodeURIComponent("startswith(computerDnsName,'')")}&$top=2`);
    expect(names(first.body)).toEqual(['ws-042.contoso.com', 'ws-043.contoso.com']);
    const next = new URL(first.body['@odata.nextLink']);
    expect(next.origin).toBe('https://localhost:8443');
    expect(next.searchParams.get('$skip')).toBe('2');
    expect(next.searchParams.get('$top')).toBe('2');
    expect(next.searchParams.get('$filter')).toBe("startswith(computerDnsName,'')");

    const second = await sim.call('GET', first.body['@odata.nextLink'], { token: reader });
    expect(names(second.body)).toEqual(['srv-db01']);
    expect(second.body['@odata.nextLink']).toBeUndefined();

    const skipped = await list('?$skip=1&$top=1');
    expect(names(skipped.body)).toEqual(['ws-043.contoso.com']);
  });

  it.each([
    ["$filter=deviceName eq 'x'"],
    ['$filter=computerDnsName eq'],
    ["$filter=contains(computerDnsName,'ws')"],
    ["$filter=computerDnsName eq 'x"],
    ['$top=10001'],
    ['$top=-1'],
    ['$skip=abc'],
  ])('rejects %s with 400 ODataError', async (query) => {
    const res = await list(`?${query.replace(/ /g, '%20').replace(/'/g, '%27')}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ODataError');
  });

  it('accepts $top=10000, the documented maximum', async () => {
    expect((await list('?$top=10000')).status).toBe(200);
  });

  it('gets one machine by id, case-insensitively, and 404 ResourceNotFound otherwise', async () => {
    const res = await sim.call('GET', '/api/machines/1E5BC9D7E413DDD7902C2932E418702B84D0CC07', { token: reader });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      '@odata.context': 'https://localhost:8443/api/$metadata#Machines/$entity',
      id: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
      computerDnsName: 'ws-042.contoso.com',
    });

    const missing = await sim.call('GET', '/api/machines/ffffffffffffffffffffffffffffffffffffffff', { token: reader });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ResourceNotFound');
    expect(missing.body.error.message).toContain('ffffffffffffffffffffffffffffffffffffffff');
  });

  it('needs Machine.Read.All or Machine.ReadWrite.All', async () => {
    const writer = sim.token('writer', { tenantId: 't1', roles: ['Machine.ReadWrite.All'] });
    const isolator = sim.token('isolator', { tenantId: 't1', roles: ['Machine.Isolate'] });
    expect((await list('', writer)).status).toBe(200);
    expect((await list('', isolator)).status).toBe(403);
    expect((await sim.call('GET', '/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07', { token: isolator })).status).toBe(403);
  });

  it('answers 401 without a token and 403 for a token of another audience (microsoft-notes M16)', async () => {
    expect((await sim.call('GET', '/api/machines')).status).toBe(401);
    const xdr = sim.token('xdr', { tenantId: 't1', roles: ['Machine.Read.All'], wrongAudience: true });
    expect((await list('', xdr)).status).toBe(403);
  });

  it('answers 403 DisabledFeature for a tenant without Defender for Endpoint', async () => {
    sim.tenants.get('t1')!.licences.defenderForEndpoint = false;
    const res = await list();
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('DisabledFeature');
  });
});
