import { defenderModule } from '../src/defender';
import { device, FakeSim, T0, tenant } from './defender-support/fake-context';

/** Response actions: `POST /api/machines/{id}/<action>` (microsoft-notes §5.1, §5.3, M17 and M18). */
describe('Defender response actions', () => {
  const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
  const LINUX = 'cccccccccccccccccccccccccccccccccccccccc';
  const SHA1 = '87662bc3d60e4200ceaf7aae249d1c343f4b83c9';
  const ALL = ['Machine.Isolate', 'Machine.Scan', 'Machine.RestrictExecution', 'Machine.CollectForensics', 'Machine.StopAndQuarantine', 'Machine.Read.All'];

  let sim: FakeSim;
  let responder: string;

  beforeEach(() => {
    sim = new FakeSim(defenderModule, [tenant('t1', [device(), device({ id: LINUX, computerDnsName: 'lx-01', osPlatform: 'Linux' })])]);
    responder = sim.token('responder', { tenantId: 't1', roles: ALL, clientId: '3c1b7a2e-5555-4f4f-9999-0a0b0c0d0e0f' });
  });

  const post = (path: string, body?: unknown, token = responder) => sim.call('POST', path, { token, body });
  const isolate = (body: unknown = { Comment: 'IR-4711 containment' }, id = WS42) => post(`/api/machines/${id}/isolate`, body);

  describe('each action', () => {
    it.each([
      ['isolate', { Comment: 'c', IsolationType: 'Selective' }, 'Isolate', 'Selective', 'Machine.Isolate'],
      ['isolate', { Comment: 'c' }, 'Isolate', 'Full', 'Machine.Isolate'],
      ['unisolate', { Comment: 'c' }, 'Unisolate', null, 'Machine.Isolate'],
      ['runAntiVirusScan', { Comment: 'c', ScanType: 'Quick' }, 'RunAntiVirusScan', 'Quick', 'Machine.Scan'],
      ['restrictCodeExecution', { Comment: 'c' }, 'RestrictCodeExecution', null, 'Machine.RestrictExecution'],
      ['unrestrictCodeExecution', { Comment: 'c' }, 'UnrestrictCodeExecution', null, 'Machine.RestrictExecution'],
      ['collectInvestigationPackage', { Comment: 'c' }, 'CollectInvestigationPackage', null, 'Machine.CollectForensics'],
      ['StopAndQuarantineFile', { Comment: 'c', Sha1: SHA1 }, 'StopAndQuarantineFile', null, 'Machine.StopAndQuarantine'],
    ])('%s %j returns 201 with a %s MachineAction and needs its permission', async (path, body, type, scope, permission) => {
      const only = sim.token('only', { tenantId: 't1', roles: [permission], clientId: 'app-only' });
      const res = await post(`/api/machines/${WS42}/${path}`, body, only);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        '@odata.context': 'https://localhost:8443/api/$metadata#MachineActions/$entity',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type,
        title: null,
        scope,
        requestor: 'app-only',
        requestorComment: 'c',
        requestSource: 'PublicApi',
        externalID: null,
        status: 'Pending',
        machineId: WS42,
        computerDnsName: 'ws-042.contoso.com',
        creationDateTimeUtc: new Date(T0).toISOString(),
        lastUpdateDateTimeUtc: new Date(T0).toISOString(),
        cancellationRequestor: null,
        cancellationComment: null,
        cancellationDateTimeUtc: null,
        errorHResult: 0,
        relatedFileInfo: type === 'StopAndQuarantineFile' ? { fileIdentifier: SHA1, fileIdentifierType: 'Sha1' } : null,
        commands: [],
      });

      const others = sim.token('others', {
        tenantId: 't1',
        roles: [...ALL.filter((r) => r !== permission), 'Machine.ReadWrite.All'],
      });
      const denied = await post(`/api/machines/${WS42}/${path}`, body, others);
      expect(denied.status).toBe(403);
    });

    it('answers 404 ResourceNotFound for an unknown machine', async () => {
      const res = await isolate(undefined, 'ffffffffffffffffffffffffffffffffffffffff');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('ResourceNotFound');
    });
  });

  describe('body validation (case-sensitive parameter names, microsoft-notes M17)', () => {
    it.each([
      ['isolate', { comment: 'c' }, 'MissingRequiredParameter'],
      ['isolate', {}, 'MissingRequiredParameter'],
      ['isolate', undefined, 'MissingRequiredParameter'],
      ['isolate', { Comment: '  ' }, 'MissingRequiredParameter'],
      ['isolate', { Comment: 'c', isolationType: 'Selective' }, 'InvalidRequestBody'],
      ['isolate', { Comment: 'c', IsolationType: 'selective' }, 'InvalidRequestBody'],
      ['isolate', { Comment: 42 }, 'InvalidRequestBody'],
      ['isolate', ['Comment'], 'InvalidRequestBody'],
      ['unisolate', { COMMENT: 'c' }, 'MissingRequiredParameter'],
      ['runAntiVirusScan', { Comment: 'c' }, 'MissingRequiredParameter'],
      ['runAntiVirusScan', { Comment: 'c', scanType: 'Quick' }, 'MissingRequiredParameter'],
      ['runAntiVirusScan', { Comment: 'c', ScanType: 'Deep' }, 'InvalidRequestBody'],
      ['StopAndQuarantineFile', { Comment: 'c', sha1: SHA1 }, 'MissingRequiredParameter'],
      ['StopAndQuarantineFile', { Comment: 'c', Sha1: 'not-a-hash' }, 'InvalidHashValue'],
      ['collectInvestigationPackage', { comment: 'c' }, 'MissingRequiredParameter'],
    ])('%s with %j is 400 %s', async (path, body, code) => {
      const res = await post(`/api/machines/${WS42}/${path}`, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code, message: expect.any(String), target: expect.any(String) });
    });

    it('rejects a body that is not JSON with InvalidRequestBody', async () => {
      const res = await sim.call('POST', `/api/machines/${WS42}/isolate`, { token: responder, rawBody: 'Comment=c' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequestBody');
    });

    it('names the missing parameter', async () => {
      const res = await post(`/api/machines/${WS42}/runAntiVirusScan`, { Comment: 'c' });
      expect(res.body.error.message).toContain('ScanType');
    });

    it('refuses selective isolation and quarantine on Linux with OsPlatformNotSupported, allows full isolation', async () => {
      const selective = await isolate({ Comment: 'c', IsolationType: 'Selective' }, LINUX);
      expect(selective.status).toBe(400);
      expect(selective.body.error.code).toBe('OsPlatformNotSupported');
      const quarantine = await post(`/api/machines/${LINUX}/StopAndQuarantineFile`, { Comment: 'c', Sha1: SHA1 });
      expect(quarantine.body.error.code).toBe('OsPlatformNotSupported');
      expect((await isolate({ Comment: 'c', IsolationType: 'Full' }, LINUX)).status).toBe(201);
    });
  });

  describe('one active action per kind (microsoft-notes M18)', () => {
    it('answers 400 ActiveRequestAlreadyExists for a second isolate while one is Pending or InProgress', async () => {
      expect((await isolate()).status).toBe(201);
      const again = await isolate();
      expect(again.status).toBe(400);
      expect(again.body.error).toEqual({
        code: 'ActiveRequestAlreadyExists',
        message: 'Action is already in progress',
        target: expect.any(String),
      });
      sim.advance(90_000); // InProgress
      expect((await isolate()).body.error.code).toBe('ActiveRequestAlreadyExists');
      sim.advance(90_000); // Succeeded
      expect((await isolate()).status).toBe(201); // isolating an isolated device is accepted
    });

    it('treats the opposite action as the same kind (release while an isolation is pending)', async () => {
      await isolate();
      const release = await post(`/api/machines/${WS42}/unisolate`, { Comment: 'c' });
      expect(release.status).toBe(400);
      expect(release.body.error.code).toBe('ActiveRequestAlreadyExists');
      await post(`/api/machines/${WS42}/restrictCodeExecution`, { Comment: 'c' });
      const unrestrict = await post(`/api/machines/${WS42}/unrestrictCodeExecution`, { Comment: 'c' });
      expect(unrestrict.body.error.code).toBe('ActiveRequestAlreadyExists');
    });

    it('lets other kinds, other files and other machines proceed', async () => {
      await isolate();
      expect((await post(`/api/machines/${WS42}/runAntiVirusScan`, { Comment: 'c', ScanType: 'Full' })).status).toBe(201);
      expect((await post(`/api/machines/${WS42}/runAntiVirusScan`, { Comment: 'c', ScanType: 'Quick' })).status).toBe(400);
      expect((await isolate(undefined, LINUX)).status).toBe(201);
      await post(`/api/machines/${WS42}/StopAndQuarantineFile`, { Comment: 'c', Sha1: SHA1 });
      const sameFile = await post(`/api/machines/${WS42}/StopAndQuarantineFile`, { Comment: 'c', Sha1: SHA1.toUpperCase() });
      expect(sameFile.status).toBe(400);
      const otherFile = await post(`/api/machines/${WS42}/StopAndQuarantineFile`, { Comment: 'c', Sha1: 'a'.repeat(40) });
      expect(otherFile.status).toBe(201);
    });
  });
});
