import { startSimulator, type RunningSimulator } from '../src/index';
import { appToken, client } from './helpers';

/** The device state route shows what a Defender action did once it is due, with no Defender call in between. */
describe('/_sim device state after a machine action', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      quiet: true,
      scenario: {
        tenants: [
          {
            tenantId: '11111111-2222-4333-8444-555555555555',
            devices: [{ id: 'a'.repeat(40), computerDnsName: 'pc-1.contoso.example', online: true } as never],
          },
        ],
        machineActions: { pendingMs: 1000, inProgressMs: 1000 },
      },
    });
  });
  afterAll(() => sim.stop());

  it('reports the device isolated once the action has succeeded on the simulated clock', async () => {
    const http = client(sim);
    const token = await appToken(sim, `${sim.baseUrls.defender}/.default`);
    const tenant = sim.tenants[0].tenantId;
    const action = await http.post(`${sim.baseUrls.defender}/api/machines/${'a'.repeat(40)}/isolate`, {
      token,
      body: { Comment: 'test', IsolationType: 'Full' },
    });
    expect(action.status).toBe(201);
    expect((await http.get(`${sim.baseUrls.defender}/_sim/state/tenants/${tenant}/devices/pc-1.contoso.example`)).json.isolated).toBe(false);
    sim.clock.advance(5000);
    expect((await http.get(`${sim.baseUrls.defender}/_sim/state/tenants/${tenant}/devices/pc-1.contoso.example`)).json.isolated).toBe(true);
  });
});
