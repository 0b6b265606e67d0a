import { defenderModule } from '../src/defender';
import { device, FakeSim, tenant } from './defender-support/fake-context';

/** Stop and quarantine prerequisites (microsoft-notes M48). */
describe('Defender stop and quarantine a file', () => {
  const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
  const OLD = 'dddddddddddddddddddddddddddddddddddddddd';
  const SRV = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
  const W1709 = 'ffffffffffffffffffffffffffffffffffffffff';
  const SHA1 = '87662bc3d60e4200ceaf7aae249d1c343f4b83c9';
  const SIGNED = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
  let sim: FakeSim;
  let token: string;

  beforeEach(() => {
    const t = tenant('t1', [
      device(),
      device({ id: OLD, computerDnsName: 'ws-old', osPlatform: 'Windows10', version: '1607' }),
      device({ id: W1709, computerDnsName: 'ws-1709', osPlatform: 'Windows10', version: '1709' }),
      device({ id: SRV, computerDnsName: 'srv-01', osPlatform: 'WindowsServer2022' }),
    ]);
    t.microsoftSignedFiles = [SIGNED.toUpperCase()];
    sim = new FakeSim(defenderModule, [t]);
    token = sim.token('r', { tenantId: 't1', roles: ['Machine.StopAndQuarantine', 'Machine.Read.All'], clientId: 'app' });
  });
  const quarantine = (id: string, sha1 = SHA1) => sim.call('POST', `/api/machines/${id}/StopAndQuarantineFile`, { token, body: { Comment: 'c', Sha1: sha1 } });

  it('accepts Windows 11 and Windows 10 1703+, and the action runs to Succeeded', async () => {
    const res = await quarantine(WS42);
    expect(res.status).toBe(201);
    expect((await quarantine(W1709)).status).toBe(201);
    sim.advance(180_001);
    const read = await sim.call('GET', `/api/machineactions/${res.body.id}`, { token });
    expect(read.body).toMatchObject({ status: 'Succeeded', relatedFileInfo: { fileIdentifier: SHA1, fileIdentifierType: 'Sha1' } });
  });

  it.each([
    [OLD, 'Windows10 1607'],
    [SRV, 'WindowsServer2022 23H2'],
  ])('refuses %s (%s) with 400 OsPlatformNotSupported', async (id, os) => {
    const res = await quarantine(id);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'OsPlatformNotSupported', message: `OS Platform ${os} isn't supported for this action.` });
  });

  it('refuses a file the scenario lists as signed by Microsoft with 400 BadRequest, and records no action', async () => {
    const res = await quarantine(WS42, SIGNED);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BadRequest', message: expect.stringContaining('signed by Microsoft') });
    const listed = await sim.call('GET', '/api/machineactions', { token });
    expect(listed.body.value).toEqual([]);
  });

  it('needs Machine.StopAndQuarantine', async () => {
    const other = sim.token('o', { tenantId: 't1', roles: ['Machine.Isolate', 'Machine.Read.All'] });
    const res = await sim.call('POST', `/api/machines/${WS42}/StopAndQuarantineFile`, { token: other, body: { Comment: 'c', Sha1: SHA1 } });
    expect(res.status).toBe(403);
  });
});

/** Machine tags: `POST /api/machines/{id}/tags` (microsoft-notes M49). */
describe('Defender machine tags', () => {
  const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
  let sim: FakeSim;
  let token: string;
  beforeEach(() => {
    sim = new FakeSim(defenderModule, [tenant('t1', [device({ extra: { machineTags: ['vip'] } })])]);
    token = sim.token('rw', { tenantId: 't1', roles: ['Machine.ReadWrite.All'] });
  });
  const tag = (body: unknown, t = token) => sim.call('POST', `/api/machines/${WS42}/tags`, { token: t, body });

  it('adds and removes a tag, answers 200 with the Machine, and GET /api/machines/{id} shows machineTags', async () => {
    const added = await tag({ Value: 'IR-4711', Action: 'Add' });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ id: WS42, machineTags: ['vip', 'IR-4711'] });
    expect((await tag({ Value: 'IR-4711', Action: 'Add' })).body.machineTags).toEqual(['vip', 'IR-4711']);
    const removed = await tag({ Value: 'vip', Action: 'Remove' });
    expect(removed.body.machineTags).toEqual(['IR-4711']);
    expect((await tag({ Value: 'not-there', Action: 'Remove' })).status).toBe(200);
    const read = await sim.call('GET', `/api/machines/${WS42}`, { token });
    expect(read.body.machineTags).toEqual(['IR-4711']);
  });

  it.each([
    [{ Action: 'Add' }, 'MissingRequiredParameter'],
    [{ value: 'x', Action: 'Add' }, 'MissingRequiredParameter'],
    [{ Value: 'x', Action: 'add' }, 'InvalidRequestBody'],
    [{ Value: 'x'.repeat(201), Action: 'Add' }, 'InvalidRequestBody'],
  ])('refuses %j with %s', async (body, code) => {
    const res = await tag(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });

  it('needs Machine.ReadWrite.All and answers 404 for an unknown machine', async () => {
    const ro = sim.token('ro', { tenantId: 't1', roles: ['Machine.Read.All'] });
    expect((await tag({ Value: 'x', Action: 'Add' }, ro)).status).toBe(403);
    const res = await sim.call('POST', `/api/machines/${'0'.repeat(40)}/tags`, { token, body: { Value: 'x', Action: 'Add' } });
    expect(res.status).toBe(404);
  });
});
