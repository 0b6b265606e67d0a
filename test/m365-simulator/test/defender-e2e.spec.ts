/**
 * End to end over HTTPS: a client-credentials token from the simulator's Entra endpoint for
 * `https://api.securitycenter.microsoft.com/.default`, then the Defender API, trusting the
 * simulator's CA only for these requests. The sim clock moves through the `/_sim` control route.
 */
import { startSimulator, type RunningSimulator } from '../src';
import type { Scenario, SimDevice } from '../src/types';
import { appToken, client } from './helpers';

const TENANT = '2f0d1c3b-4a59-4e68-9d7c-6b5a49382716';
const APP = '3a1e2d4c-5b6a-4f79-8e8d-7c6b5a493827';
const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const LAPTOP = '2f6cd0e8f524eee8a13d3a43f529813c95e1dd18';

function scenario(): Scenario {
  return {
    tenants: [
      {
        tenantId: TENANT,
        domains: ['mde-e2e.onmicrosoft.com'],
        apps: [
          {
            clientId: APP,
            displayName: 'Cordon MDE E2E',
            clientSecrets: ['mde-e2e-secret'],
            certificates: [],
            directoryRoles: [],
            permissions: { graph: [], manage: [], defender: ['Machine.Read.All', 'Machine.Isolate', 'Machine.CollectForensics'] },
          },
        ],
        devices: [
          { id: WS42, computerDnsName: 'ws-042.mde-e2e.example', osPlatform: 'Windows11', online: true },
          { id: LAPTOP, computerDnsName: 'laptop-07.mde-e2e.example', osPlatform: 'Windows10', online: false },
        ] as SimDevice[],
      },
    ],
    machineActions: { pendingMs: 1_000, inProgressMs: 2_000, timeoutMs: 60_000 },
  };
}

describe('Defender for Endpoint over HTTPS', () => {
  let sim: RunningSimulator;
  let http: ReturnType<typeof client>;
  let token: string;
  let api: string;

  const advance = async (seconds: number) => {
    const res = await http.post(`${api}/_sim/clock/advance`, { body: { seconds } });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    sim = await startSimulator({ scenario: scenario(), quiet: true });
    http = client(sim);
    api = sim.baseUrls.defender;
    token = await appToken(sim, 'https://api.securitycenter.microsoft.com/.default');
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('finds a machine by name, and answers 404 when none matches (microsoft-notes M19)', async () => {
    const filter = encodeURIComponent("computerDnsName eq 'ws-042.mde-e2e.example'");
    const found = await http.get(`${api}/api/machines?$filter=${filter}`, { token });
    expect(found.status).toBe(200);
    expect(found.json.value).toHaveLength(1);
    expect(found.json.value[0]).toMatchObject({ id: WS42, isAadJoined: true, healthStatus: 'Active' });

    const none = await http.get(`${api}/api/machines?$filter=${encodeURIComponent("computerDnsName eq 'nope'")}`, { token });
    expect(none.status).toBe(404);
    expect(none.json.error).toMatchObject({ code: 'NotFound', target: expect.any(String) });
  });

  it('refuses a missing token (401) and a Defender XDR token (403, microsoft-notes M16)', async () => {
    expect((await http.get(`${api}/api/machines`)).status).toBe(401);
    const xdr = await appToken(sim, 'https://api.security.microsoft.com/.default');
    const res = await http.get(`${api}/api/machines`, { token: xdr });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('Forbidden');
  });

  it('validates the case-sensitive body and refuses actions the app has no permission for', async () => {
    const lower = await http.post(`${api}/api/machines/${WS42}/isolate`, { token, body: { comment: 'x', isolationType: 'Full' } });
    expect(lower.status).toBe(400);
    expect(lower.json.error.code).toBe('MissingRequiredParameter');
    const scan = await http.post(`${api}/api/machines/${WS42}/runAntiVirusScan`, { token, body: { Comment: 'x', ScanType: 'Quick' } });
    expect(scan.status).toBe(403);
  });

  it('isolates: 201 Pending, duplicate refused, Succeeded after the clock moves, device isolated', async () => {
    const created = await http.post(`${api}/api/machines/${WS42}/isolate`, {
      token,
      body: { Comment: 'IR-4711 containment', IsolationType: 'Full' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ type: 'Isolate', scope: 'Full', status: 'Pending', requestor: APP, machineId: WS42 });

    const again = await http.post(`${api}/api/machines/${WS42}/isolate`, { token, body: { Comment: 'again' } });
    expect(again.status).toBe(400);
    expect(again.json.error).toMatchObject({ code: 'ActiveRequestAlreadyExists', message: 'Action is already in progress' });

    const pending = `machineId eq '${WS42}' and type eq 'Isolate' and status eq 'Pending'`;
    const lookup = await http.get(`${api}/api/machineactions?$filter=${encodeURIComponent(pending)}`, { token });
    expect(lookup.json.value.map((a: { id: string }) => a.id)).toEqual([created.json.id]);

    await advance(3);
    const done = await http.get(`${api}/api/machineactions/${created.json.id}`, { token });
    expect(done.json.status).toBe('Succeeded');
    const state = await http.get(`${api}/_sim/state/tenants/${TENANT}/devices/${WS42}`);
    expect(state.json).toMatchObject({ isolated: true, isolationType: 'Full' });
  });

  it('times an offline device’s action out', async () => {
    const created = await http.post(`${api}/api/machines/${LAPTOP}/isolate`, { token, body: { Comment: 'c' } });
    await advance(60);
    const res = await http.get(`${api}/api/machineactions/${created.json.id}`, { token });
    expect(res.json.status).toBe('TimeOut');
  });

  it('collects an investigation package and downloads it from the link', async () => {
    const created = await http.post(`${api}/api/machines/${WS42}/collectInvestigationPackage`, { token, body: { Comment: 'c' } });
    expect(created.status).toBe(201);
    expect((await http.get(`${api}/api/machineactions/${created.json.id}/GetPackageUri`, { token })).status).toBe(404);
    await advance(3);
    const uri = await http.get(`${api}/api/machineactions/${created.json.id}/GetPackageUri`, { token });
    expect(uri.status).toBe(200);
    expect(uri.json.value.startsWith(`${api}/`)).toBe(true);
    const zip = await http.get(uri.json.value);
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.text.startsWith('PK')).toBe(true);
  });

  it('throttles the 101st call in a minute with 429 and Retry-After, then recovers', async () => {
    const url = `${api}/api/machines/${WS42}`;
    for (let i = 0; i < 100; i++) {
      const res = await http.get(url, { token });
      if (res.status !== 200) throw new Error(`call ${i + 1}: ${res.status} ${res.text}`);
    }
    const throttled = await http.get(url, { token });
    expect(throttled.status).toBe(429);
    expect(throttled.json.error.code).toBe('TooManyRequests');
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await advance(retryAfter);
    expect((await http.get(url, { token })).status).toBe(200);
  });
});
