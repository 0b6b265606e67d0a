import { defenderModule, indicatorsOf } from '../src/defender';
import { device, FakeSim, T0, tenant } from './defender-support/fake-context';

const SHA256 = 'a'.repeat(64);
const SHA1 = '220e7d15b011d7fac48f2bd61114db1022197f7f';
const APP = '3c1b7a2e-5555-4f4f-9999-0a0b0c0d0e0f';
const OTHER_APP = '7f1b7a2e-5555-4f4f-9999-0a0b0c0d0e0f';

const block = (overrides: Record<string, unknown> = {}) => ({
  indicatorValue: SHA256,
  indicatorType: 'FileSha256',
  action: 'Block',
  title: 'IR-1 dropper',
  description: 'seen on ws-042',
  ...overrides,
});

/** Custom indicators (microsoft-notes §13): upsert, import, list with OData, delete, limits, permission, expiry. */
describe('Defender indicators', () => {
  let sim: FakeSim;
  let token: string;
  const post = (body: unknown, t = token) => sim.call('POST', '/api/indicators', { token: t, body });
  const importing = (items: unknown[], t = token) => sim.call('POST', '/api/indicators/import', { token: t, body: { Indicators: items } });
  const list = (query = '', t = token) => sim.call('GET', `/api/indicators${query}`, { token: t });
  const stored = () => indicatorsOf(sim.tenants.get('t1')!);

  beforeEach(() => {
    sim = new FakeSim(defenderModule, [tenant('t1', [device()])]);
    token = sim.token('cordon', { tenantId: 't1', roles: ['Ti.ReadWrite.All'], clientId: APP });
  });

  it('creates with 200 and the Indicator, and the same (type, value) again updates that one', async () => {
    const first = await post(block({ severity: 'High', expirationTime: '2026-06-01T00:00:00Z', application: 'cordon' }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id: '1',
      indicatorValue: SHA256,
      indicatorType: 'FileSha256',
      action: 'Block',
      severity: 'High',
      title: 'IR-1 dropper',
      expirationTime: '2026-06-01T00:00:00.000Z',
      createdBy: APP,
      sourceType: 'AadApp',
      application: 'cordon',
      creationTimeDateTimeUtc: new Date(T0).toISOString(),
    });
    sim.advance(60_000);
    const again = await post(block({ indicatorValue: SHA256.toUpperCase(), action: 'Warn', title: 'updated', application: 'other' }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: '1', action: 'Warn', title: 'updated', application: 'cordon', lastUpdateTime: new Date(T0 + 60_000).toISOString() });
    expect(stored()).toHaveLength(1);
  });

  it('refuses bad bodies with 400 in the Defender error shape and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [block({ title: undefined }), 'MissingRequiredParameter'],
      [block({ description: undefined }), 'MissingRequiredParameter'],
      [block({ indicatorType: 'Sha256' }), 'InvalidRequestBody'],
      [block({ action: 'Quarantine' }), 'InvalidRequestBody'],
      [block({ severity: 'Critical' }), 'InvalidRequestBody'],
      [block({ action: 'Audit' }), 'InvalidRequestBody'],
      [block({ action: 'Audit', generateAlert: false }), 'InvalidRequestBody'],
      [block({ expirationTime: 'tomorrow' }), 'InvalidRequestBody'],
      [block({ indicatorValue: 'abc' }), 'InvalidHashValue'],
      [block({ indicatorType: 'FileSha1', indicatorValue: SHA256 }), 'InvalidHashValue'],
      [block({ indicatorType: 'FileMd5', indicatorValue: 'z'.repeat(32) }), 'InvalidHashValue'],
      [block({ indicatorType: 'IpAddress', indicatorValue: '203.0.113.0/24' }), 'InvalidIpAddress'],
      [block({ indicatorType: 'IpAddress', indicatorValue: '10.1.2.3' }), 'InvalidIpAddress'],
      [block({ indicatorType: 'IpAddress', indicatorValue: '999.1.1.1' }), 'InvalidIpAddress'],
      [block({ indicatorType: 'DomainName', indicatorValue: 'bad domain.com' }), 'InvalidDomainName'],
      [block({ indicatorType: 'Url', indicatorValue: 'ftp://evil.example/x' }), 'InvalidUrl'],
    ];
    for (const [body, code] of cases) {
      const res = await post(body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code });
      expect(res.body.error).toEqual({ code, message: expect.any(String), target: expect.any(String) });
    }
    expect(stored()).toHaveLength(0);
    expect((await post(block({ action: 'Audit', generateAlert: true }))).status).toBe(200);
    expect((await post(block({ indicatorType: 'IpAddress', indicatorValue: '2001:4860:4860::8888' }))).status).toBe(200);
    expect((await post(block({ indicatorType: 'DomainName', indicatorValue: 'xn--bcher-kva.example' }))).status).toBe(200);
    expect((await post(block({ indicatorType: 'Url', indicatorValue: 'https://evil.example/p?q=1' }))).status).toBe(200);
  });

  it('needs Ti.ReadWrite or Ti.ReadWrite.All: 403 otherwise', async () => {
    const machinesOnly = sim.token('m', { tenantId: 't1', roles: ['Machine.Read.All', 'Machine.Isolate'], clientId: APP });
    for (const res of [await post(block(), machinesOnly), await list('', machinesOnly), await importing([block()], machinesOnly)]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('Forbidden');
    }
    expect(stored()).toHaveLength(0);
    const own = sim.token('own', { tenantId: 't1', roles: ['Ti.ReadWrite'], clientId: APP });
    expect((await post(block(), own)).status).toBe(200);
  });

  it('with Ti.ReadWrite only, an app sees and deletes only the indicators it created', async () => {
    const other = sim.token('other', { tenantId: 't1', roles: ['Ti.ReadWrite'], clientId: OTHER_APP });
    await post(block());
    await post(block({ indicatorType: 'FileSha1', indicatorValue: SHA1 }), other);
    expect((await list()).body.value).toHaveLength(2);
    expect((await list('', other)).body.value.map((i: { indicatorValue: string }) => i.indicatorValue)).toEqual([SHA1]);
    expect((await sim.call('DELETE', '/api/indicators/1', { token: other })).status).toBe(404);
    expect(stored()).toHaveLength(2);
  });

  it('lists with $filter on indicatorType, indicatorValue and action, $top and $skip with nextLink', async () => {
    await post(block());
    await post(block({ indicatorType: 'FileSha1', indicatorValue: SHA1, action: 'Allowed' }));
    await post(block({ indicatorType: 'DomainName', indicatorValue: 'evil.example', action: 'Warn' }));
    const sha = await list(`?$filter=${encodeURIComponent("indicatorType eq 'FileSha1'")}`);
    expect(sha.status).toBe(200);
    expect(sha.body.value.map((i: { id: string }) => i.id)).toEqual(['2']);
    const byValue = await list(`?$filter=${encodeURIComponent(`indicatorValue eq '${SHA256}' and action eq 'Block'`)}`);
    expect(byValue.body.value.map((i: { id: string }) => i.id)).toEqual(['1']);
    const page = await list('?$top=2');
    expect(page.body.value).toHaveLength(2);
    expect(page.body['@odata.nextLink']).toContain('%24skip=2');
    expect((await list('?$top=2&$skip=2')).body.value.map((i: { id: string }) => i.id)).toEqual(['3']);
    const bad = await list(`?$filter=${encodeURIComponent("colour eq 'red'")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ODataError');
  });

  it('deletes with 204 and answers 404 ResourceNotFound for an unknown (or already deleted) id', async () => {
    await post(block());
    const del = await sim.call('DELETE', '/api/indicators/1', { token });
    expect(del.status).toBe(204);
    expect(stored()).toHaveLength(0);
    const again = await sim.call('DELETE', '/api/indicators/1', { token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('ResourceNotFound');
  });

  it('imports up to 500 and answers 200 with a result per item, failures inside', async () => {
    await post(block());
    const res = await importing([
      block({ action: 'Warn' }),
      block({ indicatorType: 'IpAddress', indicatorValue: '10.0.0.1' }),
      block({ indicatorType: 'Url', indicatorValue: 'https://evil.example/a' }),
      block({ title: undefined, indicatorType: 'FileSha1', indicatorValue: SHA1 }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([
      { id: '1', indicator: SHA256, isFailed: false, failureReason: null },
      { id: null, indicator: '10.0.0.1', isFailed: true, failureReason: expect.stringContaining('not a public address') },
      { id: '2', indicator: 'https://evil.example/a', isFailed: false, failureReason: null },
      { id: null, indicator: SHA1, isFailed: true, failureReason: 'Parameter title is missing.' },
    ]);
    expect(stored().map((i) => [i.id, i.action])).toEqual([
      ['1', 'Warn'],
      ['2', 'Block'],
    ]);
    const tooMany = await importing(Array.from({ length: 501 }, (_, i) => block({ indicatorValue: i.toString(16).padStart(64, '0') })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('MaximumBatchSizeExceeded');
    expect((await sim.call('POST', '/api/indicators/import', { token, body: {} })).body.error.code).toBe('MissingRequiredParameter');
    expect(stored()).toHaveLength(2);
  });

  it('counts active indicators against the tenant limit; expired ones free room and are listed as expired', async () => {
    sim.tenants.get('t1')!.indicatorLimit = 2;
    const soon = new Date(T0 + 60_000).toISOString();
    expect((await post(block({ expirationTime: soon }))).status).toBe(200);
    expect((await post(block({ indicatorType: 'FileSha1', indicatorValue: SHA1 }))).status).toBe(200);
    const over = await post(block({ indicatorType: 'DomainName', indicatorValue: 'evil.example' }));
    expect(over.status).toBe(400);
    expect(over.body.error).toEqual({ code: 'BadRequest', message: expect.stringContaining('limit of 2 active indicators'), target: expect.any(String) });
    // Updating an active one is no new indicator.
    expect((await post(block({ action: 'Warn', expirationTime: soon }))).status).toBe(200);
    const imported = await importing([block({ indicatorType: 'DomainName', indicatorValue: 'evil.example' })]);
    expect(imported.body.value[0]).toMatchObject({ isFailed: true, failureReason: expect.stringContaining('limit') });

    sim.advance(60_000); // the first one expires
    const listed = await list(`?$filter=${encodeURIComponent("indicatorType eq 'FileSha256'")}`);
    expect(listed.body.value[0]).toMatchObject({ action: 'Warn', expirationTime: soon });
    expect((await post(block({ indicatorType: 'DomainName', indicatorValue: 'evil.example' }))).status).toBe(200);
    expect(stored()).toHaveLength(3);
  });

  it('throttles create at 100 a minute and import at 30 a minute, with Retry-After', async () => {
    for (let i = 0; i < 100; i++) expect((await post(block({ indicatorValue: i.toString(16).padStart(64, '0') }))).status).toBe(200);
    const throttled = await post(block());
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // The list and import are other APIs with their own budgets.
    expect((await list('?$top=1')).status).toBe(200);
    for (let i = 0; i < 30; i++) expect((await importing([block()])).status).toBe(200);
    const importThrottled = await importing([block()]);
    expect(importThrottled.status).toBe(429);
    sim.advance(60_000);
    expect((await post(block())).status).toBe(200);
    expect((await importing([block()])).status).toBe(200);
  });
});
