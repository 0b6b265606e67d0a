import { demoScenario } from '../../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../../m365-simulator/src';
import type { JournalEntry } from '../../m365-simulator/src/journal';
import type { Scenario } from '../../m365-simulator/src/types';
import { bearer, TestApp } from './test-app';

/** The demo scenario with Graph's throttles off (tests that want throttling inject it as a fault). */
export async function startDemoSimulator(): Promise<RunningSimulator> {
  const scenario = demoScenario() as Scenario;
  scenario.graph = { ...(scenario.graph ?? {}), throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } } as never;
  return startSimulator({ quiet: true, scenario });
}

export function simEnv(sim: RunningSimulator): Record<string, string> {
  return { CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.caCertPath };
}

/**
 * Registers a simulator tenant with its secret and probes it. On a database shared by several suites
 * (PostgreSQL in CI) it may be registered already: then that registration is reset (secret, enabled,
 * empty policy) and reused.
 */
export async function registerSimTenant(t: { http: TestApp['http']; adminKey: string }, sim: RunningSimulator, displayName: string): Promise<string> {
  const info = sim.tenants.find((x) => x.displayName === displayName)!;
  const credential = { type: 'secret', secret: info.clientSecret };
  const res = await t.http.post('/v1/tenants').set(bearer(t.adminKey)).send({ displayName, tenantId: info.tenantId, cloud: 'global', clientId: info.clientId, credential });
  let id: string = res.body.id;
  if (res.status === 409 && res.body.existingId) {
    id = res.body.existingId;
    await t.http.patch(`/v1/tenants/${id}`).set(bearer(t.adminKey)).send({ enabled: true, credential }).expect(200);
  } else if (res.status !== 201) {
    throw new Error(`registering ${displayName}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await t.http.put(`/v1/tenants/${id}/policy`).set(bearer(t.adminKey)).send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} }).expect(200);
  const caps = await t.http.post(`/v1/tenants/${id}/capabilities/refresh`).set(bearer(t.adminKey));
  if (caps.body.connection !== 'connected') throw new Error(`${displayName} did not connect: ${JSON.stringify(caps.body)}`);
  return id;
}

/** Graph calls that change things, as the simulator received them (method, path, status). */
export function graphWrites(sim: RunningSimulator, since: number): Array<Pick<JournalEntry, 'method' | 'path' | 'status' | 'body'>> {
  return sim.journal
    .list({ host: 'graph', since })
    .filter((e) => e.method !== 'GET')
    .map((e) => ({ method: e.method, path: e.path, status: e.status, body: e.body }));
}
