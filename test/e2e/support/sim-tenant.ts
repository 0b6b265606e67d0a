import { demoScenario } from '../../m365-simulator/src/demo-scenario';
import { RunningSimulator, startSimulator } from '../../m365-simulator/src';
import type { JournalEntry } from '../../m365-simulator/src/journal';
import type { GraphScenarioOptions, Scenario } from '../../m365-simulator/src/types';
import { AdminCaller, bearer, TestApp } from './test-app';

/** Graph with its throttles off: tests that want throttling inject it as a fault. */
export const UNTHROTTLED_GRAPH: GraphScenarioOptions = { throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } };

/** The demo scenario with Graph's throttles off. */
export async function startDemoSimulator(): Promise<RunningSimulator> {
  const scenario = demoScenario() as Scenario;
  scenario.graph = { ...(scenario.graph ?? {}), ...UNTHROTTLED_GRAPH };
  return startSimulator({ quiet: true, scenario });
}

/** A scenario tenant's app registration for Cordon, signing in with `secret`. */
export function simApp(clientId: string, secret: string) {
  return { clientId, displayName: 'Cordon', clientSecrets: [secret], certificates: [], directoryRoles: [] };
}

/** A tenant a suite seeds in its own scenario, and the app secret Cordon signs in with. */
export interface SuiteTenant {
  tenantId: string;
  clientId: string;
  secret: string;
}

function registration(displayName: string, tenant: SuiteTenant) {
  return { displayName, tenantId: tenant.tenantId, cloud: 'global', clientId: tenant.clientId, credential: { type: 'secret', secret: tenant.secret } };
}

/** Registers a tenant of the suite's own scenario: new to the database, so it must be created (201). */
export async function registerTenant(t: AdminCaller, displayName: string, tenant: SuiteTenant): Promise<string> {
  const res = await t.http.post('/v1/tenants').set(bearer(t.adminKey)).send(registration(displayName, tenant));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/**
 * Ends a suite. Suites may share one PostgreSQL database: its tenants are deleted first, so that no
 * other suite's scheduler finds them enabled and collects from a simulator that is gone.
 */
export async function closeSimSuite(t: TestApp | undefined, sim: RunningSimulator | undefined, tenantIds: Array<string | undefined>): Promise<void> {
  if (t) for (const id of tenantIds) if (id) await t.http.delete(`/v1/tenants/${id}`).set(bearer(t.adminKey));
  await t?.close();
  await sim?.stop();
}

export function simEnv(sim: RunningSimulator): Record<string, string> {
  return { CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls), CORDON_MICROSOFT_CA_FILE: sim.caCertPath };
}

/**
 * Registers a simulator tenant with its secret and probes it. On a database shared by several suites
 * (PostgreSQL in CI) it may be registered already: then that registration is reset (secret, enabled,
 * empty policy) and reused.
 */
export async function registerSimTenant(t: AdminCaller, sim: RunningSimulator, displayName: string): Promise<string> {
  const info = sim.tenants.find((x) => x.displayName === displayName)!;
  const body = registration(displayName, { tenantId: info.tenantId, clientId: info.clientId, secret: info.clientSecret! });
  const res = await t.http.post('/v1/tenants').set(bearer(t.adminKey)).send(body);
  let id: string = res.body.id;
  if (res.status === 409 && res.body.existingId) {
    id = res.body.existingId;
    await t.http.patch(`/v1/tenants/${id}`).set(bearer(t.adminKey)).send({ enabled: true, credential: body.credential }).expect(200);
  } else if (res.status !== 201) {
    throw new Error(`registering ${displayName}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await t.http
    .put(`/v1/tenants/${id}/policy`)
    .set(bearer(t.adminKey))
    .send({ protectedUsers: [], protectedGroups: [], approvalRequired: [], hourlyLimits: {} })
    .expect(200);
  const caps = await t.http.post(`/v1/tenants/${id}/capabilities/refresh`).set(bearer(t.adminKey));
  if (caps.body.connection !== 'connected') throw new Error(`${displayName} did not connect: ${JSON.stringify(caps.body)}`);
  return id;
}

/** Graph calls that change things, as the simulator received them (method, path, status). */
export function graphWrites(sim: RunningSimulator, since: number): Array<Pick<JournalEntry, 'method' | 'path' | 'status' | 'body'>> {
  return (
    sim.journal
      .list({ host: 'graph', since })
      // A hunting query is a read sent as POST (the collector may run one at any time).
      .filter((e) => e.method !== 'GET' && !e.path.toLowerCase().startsWith('/v1.0/security/runhuntingquery'))
      .map((e) => ({ method: e.method, path: e.path, status: e.status, body: e.body }))
  );
}
