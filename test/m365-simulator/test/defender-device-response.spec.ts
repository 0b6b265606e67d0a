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

/** Live response sessions, results and limits (microsoft-notes M50, M51). */
describe('Defender live response', () => {
  const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
  let sim: FakeSim;
  let token: string;
  beforeEach(() => {
    const devices = [device({ extra: { files: { 'C:\\Temp\\evil.exe': 'MZ-evil' } } })];
    for (let i = 0; i < 26; i++) devices.push(device({ id: i.toString(16).padStart(40, 'a'), computerDnsName: `ws-${i}`, online: false }));
    sim = new FakeSim(defenderModule, [tenant('t1', devices)]);
    token = sim.token('lr', { tenantId: 't1', roles: ['Machine.LiveResponse', 'Machine.Read.All'], clientId: 'app' });
  });
  const run = (commands: unknown[], id = WS42, t = token) =>
    sim.call('POST', `/api/machines/${id}/runliveresponse`, { token: t, body: { Commands: commands, Comment: 'IR-1' } });
  const script = (name: string, args?: string) => ({
    type: 'RunScript',
    params: [{ key: 'ScriptName', value: name }, ...(args ? [{ key: 'Args', value: args }] : [])],
  });
  const getFile = (path: string) => ({ type: 'GetFile', params: [{ key: 'Path', value: path }] });

  it('runs the commands to Completed and serves each result through a 30-minute link without the bearer', async () => {
    const res = await run([script('collect-triage.ps1', '-Quick'), getFile('c:\\temp\\EVIL.exe')]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'LiveResponse',
      status: 'Pending',
      commands: [
        { index: 0, commandStatus: 'Created' },
        { index: 1, commandStatus: 'Created' },
      ],
    });
    sim.advance(180_001);
    const done = await sim.call('GET', `/api/machineactions/${res.body.id}`, { token });
    expect(done.body).toMatchObject({ status: 'Succeeded', commands: [{ commandStatus: 'Completed', errors: [] }, { commandStatus: 'Completed' }] });
    const link = await sim.call('GET', `/api/machineactions/${res.body.id}/GetLiveResponseResultDownloadLink(index=0)`, { token });
    expect(link.status).toBe(200);
    const download = await sim.call('GET', link.body.value);
    expect(JSON.parse(String(download.body))).toEqual({
      script_name: 'collect-triage.ps1',
      exit_code: 0,
      script_output: expect.stringContaining('Args: -Quick'),
      script_errors: '',
    });
    const file = await sim.call(
      'GET',
      (await sim.call('GET', `/api/machineactions/${res.body.id}/GetLiveResponseResultDownloadLink(index=1)`, { token })).body.value,
    );
    expect(String(file.body)).toBe('MZ-evil');
    sim.advance(30 * 60_000);
    expect((await sim.call('GET', link.body.value)).status).toBe(403);
  });

  it('fails a script not in the library, and the failure stops the rest', async () => {
    const res = await run([script('unknown.ps1'), getFile('C:\\Temp\\evil.exe')]);
    sim.advance(180_001);
    const done = await sim.call('GET', `/api/machineactions/${res.body.id}`, { token });
    expect(done.body).toMatchObject({
      status: 'Failed',
      commands: [{ commandStatus: 'Failed', errors: ['Script unknown.ps1 was not found in the live response library.'] }, { commandStatus: 'Created' }],
    });
    expect((await sim.call('GET', `/api/machineactions/${res.body.id}/GetLiveResponseResultDownloadLink(index=1)`, { token })).status).toBe(404);
  });

  it('allows one session per machine (400 ActiveRequestAlreadyExists) and 25 per tenant (429 with Retry-After)', async () => {
    sim.tenants.get('t1')!.devices[0].online = false;
    expect((await run([getFile('C:\\x')])).status).toBe(201);
    const second = await run([getFile('C:\\x')]);
    expect(second.status).toBe(400);
    expect(second.body.error.code).toBe('ActiveRequestAlreadyExists');
    for (let i = 0; i < 24; i++) {
      if (i % 9 === 8) sim.advance(60_000); // stay under 10 calls a minute
      expect((await run([getFile('C:\\x')], i.toString(16).padStart(40, 'a'))).status).toBe(201);
    }
    sim.advance(60_000);
    const over = await run([getFile('C:\\x')], (25).toString(16).padStart(40, 'a'));
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('60');
  });

  it('answers 429 past 10 calls a minute and needs Machine.LiveResponse', async () => {
    for (let i = 0; i < 10; i++) await run([getFile('C:\\x')], i.toString(16).padStart(40, 'a'));
    const throttled = await run([getFile('C:\\x')], (11).toString(16).padStart(40, 'a'));
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('TooManyRequests');
    const other = sim.token('o', { tenantId: 't1', roles: ['Machine.Isolate'] });
    expect((await run([getFile('C:\\x')], WS42, other)).status).toBe(403);
  });

  it.each([
    [{ Comment: 'c' }, 'MissingRequiredParameter'],
    [{ Comment: 'c', Commands: [] }, 'InvalidRequestBody'],
    [{ Comment: 'c', Commands: [{ type: 'Reboot', params: [] }] }, 'InvalidRequestBody'],
    [{ Comment: 'c', Commands: [{ type: 'GetFile', params: [{ key: 'path', value: 'C:\\x' }] }] }, 'MissingRequiredParameter'],
    [{ Commands: [{ type: 'GetFile', params: [{ key: 'Path', value: 'C:\\x' }] }] }, 'MissingRequiredParameter'],
  ])('refuses %j with %s', async (body, code) => {
    const res = await sim.call('POST', `/api/machines/${WS42}/runliveresponse`, { token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });
});
