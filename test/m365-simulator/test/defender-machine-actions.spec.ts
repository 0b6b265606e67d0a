import { defenderModule, settleMachineActions } from '../src/defender';
import type { SimDevice } from '../src/types';
import { device, FakeSim, T0, tenant } from './defender-support/fake-context';

/**
 * Machine action lifecycle on the sim clock (microsoft-notes §5.3, M18): progression,
 * offline devices, failures, device effects, cancel, list/get and investigation packages.
 * The fake scenario sets pendingMs 60 s, inProgressMs 120 s, timeoutMs 1 h.
 */
describe('Defender machine actions', () => {
  const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
  const OFFLINE = 'dddddddddddddddddddddddddddddddddddddddd';
  const iso = (ms: number) => new Date(ms).toISOString();

  let sim: FakeSim;
  let ws42: SimDevice;
  let offline: SimDevice;
  let responder: string;
  let reader: string;

  beforeEach(() => {
    ws42 = device();
    offline = device({ id: OFFLINE, computerDnsName: 'laptop-07', online: false });
    sim = new FakeSim(defenderModule, [tenant('t1', [ws42, offline])]);
    responder = sim.token('responder', {
      tenantId: 't1',
      roles: ['Machine.Isolate', 'Machine.Scan', 'Machine.RestrictExecution', 'Machine.CollectForensics'],
      clientId: 'cordon-app',
    });
    reader = sim.token('reader', { tenantId: 't1', roles: ['Machine.Read.All'] });
  });

  const act = async (path: string, body: unknown = { Comment: 'IR-1' }, id = WS42) => {
    const res = await sim.call('POST', `/api/machines/${id}/${path}`, { token: responder, body });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const get = (id: string, token = reader) => sim.call('GET', `/api/machineactions/${id}`, { token });
  const statusOf = async (id: string) => (await get(id)).body.status as string;

  it('moves Pending → InProgress → Succeeded on the sim clock and isolates the device', async () => {
    const id = await act('isolate', { Comment: 'IR-1', IsolationType: 'Selective' });
    expect(await statusOf(id)).toBe('Pending');
    sim.advance(59_999);
    expect(await statusOf(id)).toBe('Pending');
    expect(ws42.isolated).toBe(false);

    sim.advance(1);
    const inProgress = await get(id);
    expect(inProgress.body).toMatchObject({ status: 'InProgress', lastUpdateDateTimeUtc: iso(T0 + 60_000) });
    expect(ws42.isolated).toBe(false);

    sim.advance(120_000);
    const done = await get(id);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      '@odata.context': 'https://localhost:8443/api/$metadata#MachineActions/$entity',
      status: 'Succeeded',
      creationDateTimeUtc: iso(T0),
      lastUpdateDateTimeUtc: iso(T0 + 180_000),
    });
    expect(ws42).toMatchObject({ isolated: true, isolationType: 'Selective' });
  });

  it('releases, restricts and unrestricts the device when those actions succeed', async () => {
    ws42.isolated = true;
    ws42.isolationType = 'Full';
    await act('unisolate');
    await act('restrictCodeExecution');
    sim.advance(180_000);
    settleMachineActions(sim.ctx); // as the core's /_sim state route would, without a Defender call
    expect(ws42.isolated).toBe(false);
    expect(ws42.isolationType).toBeUndefined();
    expect(ws42.appExecutionRestricted).toBe(true);

    await act('unrestrictCodeExecution');
    sim.advance(180_000);
    await get('00000000-0000-0000-0000-000000000000');
    expect(ws42.appExecutionRestricted).toBe(false);
  });

  it('keeps an offline device’s action Pending until timeoutMs, then TimeOut with no effect', async () => {
    const id = await act('isolate', undefined, OFFLINE);
    sim.advance(3_600_000 - 1);
    expect(await statusOf(id)).toBe('Pending');
    sim.advance(1);
    const res = await get(id);
    expect(res.body).toMatchObject({ status: 'TimeOut', lastUpdateDateTimeUtc: iso(T0 + 3_600_000) });
    expect(offline.isolated).toBe(false);
  });

  it('starts an offline device’s action when the device is next seen online', async () => {
    const id = await act('isolate', undefined, OFFLINE);
    sim.advance(600_000);
    offline.online = true;
    expect(await statusOf(id)).toBe('Pending'); // picked up now
    sim.advance(60_000);
    expect(await statusOf(id)).toBe('InProgress');
    sim.advance(120_000);
    expect(await statusOf(id)).toBe('Succeeded');
    expect(offline.isolated).toBe(true);
  });

  it('fails the action types listed in extra.failActions, with an error HRESULT and no effect', async () => {
    ws42.extra = { failActions: ['Isolate'] };
    const isolation = await act('isolate');
    const scan = await act('runAntiVirusScan', { Comment: 'c', ScanType: 'Quick' });
    sim.advance(180_000);
    const failed = await get(isolation);
    expect(failed.body.status).toBe('Failed');
    expect(failed.body.errorHResult).not.toBe(0);
    expect(ws42.isolated).toBe(false);
    expect(await statusOf(scan)).toBe('Succeeded');
  });

  describe('cancel', () => {
    it('cancels a pending action: 200, Cancelled, cancellation fields, no effect, kind free again', async () => {
      const id = await act('isolate');
      sim.advance(5_000);
      const res = await sim.call('POST', `/api/machineactions/${id}/cancel`, {
        token: responder,
        body: { Comment: 'false positive' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id,
        status: 'Cancelled',
        cancellationRequestor: 'cordon-app',
        cancellationComment: 'false positive',
        cancellationDateTimeUtc: iso(T0 + 5_000),
        lastUpdateDateTimeUtc: iso(T0 + 5_000),
      });
      sim.advance(600_000);
      expect(await statusOf(id)).toBe('Cancelled');
      expect(ws42.isolated).toBe(false);
      await act('isolate');
    });

    it('cancels an InProgress action but not a final one', async () => {
      const id = await act('runAntiVirusScan', { Comment: 'c', ScanType: 'Full' });
      sim.advance(90_000);
      const cancel = () => sim.call('POST', `/api/machineactions/${id}/cancel`, { token: responder, body: { Comment: 'x' } });
      expect((await cancel()).body.status).toBe('Cancelled');
      const again = await cancel();
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('BadRequest');
    });

    it('needs Comment, a known action and the original action’s permission', async () => {
      const id = await act('isolate');
      const noComment = await sim.call('POST', `/api/machineactions/${id}/cancel`, { token: responder, body: { comment: 'x' } });
      expect(noComment.body.error.code).toBe('MissingRequiredParameter');
      const unknown = await sim.call('POST', `/api/machineactions/${'0'.repeat(8)}-0000-0000-0000-000000000000/cancel`, {
        token: responder,
        body: { Comment: 'x' },
      });
      expect(unknown.status).toBe(404);
      const scanner = sim.token('scanner', { tenantId: 't1', roles: ['Machine.Scan'] });
      const wrongPermission = await sim.call('POST', `/api/machineactions/${id}/cancel`, { token: scanner, body: { Comment: 'x' } });
      expect(wrongPermission.status).toBe(403);
      const readOnly = await sim.call('POST', `/api/machineactions/${id}/cancel`, { token: reader, body: { Comment: 'x' } });
      expect(readOnly.status).toBe(403);
    });
  });

  describe('list and get', () => {
    it('lists newest first and filters on machineId, type, status, requestor and creationDateTimeUtc', async () => {
      const first = await act('isolate');
      sim.advance(10_000);
      const second = await act('runAntiVirusScan', { Comment: 'c', ScanType: 'Quick' });
      const third = await act('isolate', undefined, OFFLINE);
      sim.advance(170_000); // first Succeeded, second InProgress, third Pending

      const list = async (filter?: string, extra = '') => {
        const q = filter ? `?$filter=${encodeURIComponent(filter)}${extra}` : `?${extra.slice(1)}`;
        const res = await sim.call('GET', `/api/machineactions${q}`, { token: reader });
        expect(res.status).toBe(200);
        return (res.body.value as Array<{ id: string }>).map((a) => a.id);
      };
      expect(await list()).toEqual([third, second, first]);
      expect(await list(`machineId eq '${WS42}'`)).toEqual([second, first]);
      expect(await list(`machineId eq '${WS42}' and type eq 'Isolate' and status eq 'Succeeded'`)).toEqual([first]);
      expect(await list("status eq 'Pending' or status eq 'InProgress'")).toEqual([third, second]);
      expect(await list("requestor eq 'cordon-app' and type eq 'RunAntiVirusScan'")).toEqual([second]);
      expect(await list(`creationDateTimeUtc gt ${iso(T0 + 1)}`)).toEqual([third, second]);
      expect(await list(`machineId eq '${WS42}'`, '&$top=1')).toEqual([second]);
      expect(await list("type eq 'Offboard'")).toEqual([]);
    });

    it('rejects a filter on an undocumented property with ODataError', async () => {
      const res = await sim.call('GET', `/api/machineactions?$filter=${encodeURIComponent("scope eq 'Full'")}`, { token: reader });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('ODataError');
    });

    it('answers 404 ResourceNotFound for an unknown action and 403 without a read permission', async () => {
      const missing = await get('5382f7ea-7557-4ab7-9782-d50480024a4e');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('ResourceNotFound');
      const id = await act('isolate');
      expect((await get(id, responder)).status).toBe(403);
    });
  });

  describe('investigation package', () => {
    const packageUri = (id: string) => sim.call('GET', `/api/machineactions/${id}/GetPackageUri`, { token: reader });

    it('gives a download URI on the Defender host once the collection Succeeded', async () => {
      const id = await act('collectInvestigationPackage');
      expect((await packageUri(id)).status).toBe(404);
      sim.advance(90_000);
      expect((await packageUri(id)).status).toBe(404);
      sim.advance(90_000);

      const res = await packageUri(id);
      expect(res.status).toBe(200);
      expect(res.body['@odata.context']).toBe('https://localhost:8443/api/$metadata#Edm.String');
      const link = new URL(res.body.value);
      expect(link.origin).toBe('https://localhost:8443');

      const download = await sim.call('GET', `${link.pathname}${link.search}`);
      expect(download.status).toBe(200);
      expect(download.headers['content-type']).toBe('application/zip');
      expect((download.body as Buffer).subarray(0, 2).toString()).toBe('PK');

      sim.advance(10 * 60_000);
      expect((await sim.call('GET', `${link.pathname}${link.search}`)).status).toBe(403);
      expect((await sim.call('GET', `${link.pathname}?token=forged`)).status).toBe(403);
    });

    it('answers 404 for an action that is not a package collection', async () => {
      const id = await act('isolate');
      sim.advance(180_000);
      expect((await packageUri(id)).status).toBe(404);
    });
  });
});
