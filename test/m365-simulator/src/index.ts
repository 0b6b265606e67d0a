import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditGenerator } from './audit-generator';
import { createRequireToken } from './auth';
import { SimClockImpl } from './clock';
import { controlModule, mintUserToken } from './control';
import { defenderModule } from './defender';
import { demoScenario } from './demo-scenario';
import { entraModule } from './entra';
import { FaultInjector } from './faults';
import { graphModule } from './graph';
import { hash32, newGuid } from './ids';
import { Journal } from './journal';
import { loadInto, type LoadKind } from './loaders';
import { manageModule } from './manage';
import { buildTenants, loadScenarioFile, normaliseScenario, type ScenarioInput } from './scenario';
import { SimServer } from './server';
import { certificateThumbprints, generateRsaKeyPairAsync, generateTlsMaterial, selfSignedCertificate } from './tls';
import { TokenService, type MintedToken, type UserTokenRequest } from './tokens';
import type { Scenario, SimContext, SimHost, SimTenant } from './types';

/**
 * Starts the Microsoft 365 simulator: four HTTPS servers (login, graph, manage, defender) on
 * localhost, a generated CA, the scenario's tenants, and every module's routes.
 */

export interface StartOptions {
  /** login = port, graph = port+1, manage = port+2, defender = port+3; 0/undefined ⇒ ephemeral ports. */
  port?: number;
  /** A Scenario object or a path to a scenario JSON file; omitted ⇒ the built-in demo. */
  scenario?: Scenario | ScenarioInput | string;
  /** Where the CA certificate is written (default: a new temp directory, removed by stop()). */
  dataDir?: string;
  loadAudit?: string | string[];
  /** Make loaded audit records available relative to now (newest = now), keeping CreationTime as given. */
  rebaseAudit?: boolean;
  loadAlerts?: string | string[];
  loadIncidents?: string | string[];
  loadSignins?: string | string[];
  loadMachines?: string | string[];
  /** Tenant (id or domain) the loaders and the generator fill; default the first tenant. */
  loadTenant?: string;
  /** Generate this many Management Activity records on demand (deterministic from the seed). */
  generateAudit?: number;
  /** Days the generated records span, ending now (default 6). */
  generateAuditDays?: number;
  seed?: number | string;
  tokenLifetimeSeconds?: number;
  /** No diagnostics on stderr. */
  quiet?: boolean;
}

export interface SimTenantInfo {
  tenantId: string;
  displayName: string;
  defaultDomain: string;
  clientId: string;
  clientSecret?: string;
  cloud: 'global';
  /** Present when the app has `generateCertificate`: use with MSAL `clientCertificate`. */
  certificate?: { certPem: string; privateKeyPem: string; thumbprint: string; thumbprintSha256: string };
}

export interface RunningSimulator {
  baseUrls: Record<SimHost, string>;
  caCertPath: string;
  caCertPem: string;
  tenants: SimTenantInfo[];
  context: SimContext;
  clock: SimClockImpl;
  faults: FaultInjector;
  journal: Journal;
  /** Mints a v2.0 user (delegated) access token signed by the simulator's key. */
  mintUserToken(req: UserTokenRequest): MintedToken;
  stop(): Promise<void>;
}

const list = (v?: string | string[]) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export async function startSimulator(options: StartOptions = {}): Promise<RunningSimulator> {
  const log = options.quiet ? () => undefined : (m: string) => process.stderr.write(`${m}\n`);
  const clock = new SimClockImpl();
  let scenario =
    typeof options.scenario === 'string'
      ? loadScenarioFile(options.scenario)
      : normaliseScenario(options.scenario ?? demoScenario(clock.nowMs()), options.scenario ? 'scenario' : 'demo scenario');
  if (options.tokenLifetimeSeconds) scenario = { ...scenario, tokenLifetimeSeconds: options.tokenLifetimeSeconds };
  const tenantList = buildTenants(scenario, clock.now());
  const tenants = new Map<string, SimTenant>(tenantList.map((t) => [t.tenantId, t]));
  const findTenant = (idOrDomain: string) => {
    const k = String(idOrDomain ?? '').toLowerCase();
    return tenants.get(k) ?? tenantList.find((t) => t.domains.some((d) => d.toLowerCase() === k));
  };

  // All RSA keys at once, in parallel: CA, TLS leaf, token signing, and apps that want a certificate.
  const certApps = tenantList.flatMap((t) => t.apps.filter((a) => a.generateCertificate).map((app) => ({ t, app })));
  const [caKeys, leafKeys, signingKeys, ...appKeys] = await Promise.all(Array.from({ length: 3 + certApps.length }, () => generateRsaKeyPairAsync()));
  const generatedCerts = new Map<string, SimTenantInfo['certificate']>();
  for (const [i, { t, app }] of certApps.entries()) {
    const keys = appKeys[i];
    const certPem = selfSignedCertificate(keys, `${app.displayName} (${app.clientId})`);
    app.certificates.push(certPem);
    const th = certificateThumbprints(certPem);
    generatedCerts.set(`${t.tenantId}|${app.clientId}`, { certPem, privateKeyPem: keys.privateKeyPem, thumbprint: th.sha1Hex, thumbprintSha256: th.sha256Hex });
  }

  const target = options.loadTenant ? findTenant(options.loadTenant) : tenantList[0];
  if (!target) throw new Error(`--load-tenant ${options.loadTenant}: no such tenant in the scenario`);
  const loads: Array<[LoadKind, string[]]> = [
    ['audit', list(options.loadAudit)],
    ['alerts', list(options.loadAlerts)],
    ['incidents', list(options.loadIncidents)],
    ['signins', list(options.loadSignins)],
    ['machines', list(options.loadMachines)],
  ];
  for (const [kind, files] of loads) {
    for (const f of files) log(`[sim] loaded ${loadInto(target, kind, f, clock.now(), options.rebaseAudit)} ${kind} records from ${f} into ${target.tenantId}`);
  }
  const generators = new Map<string, AuditGenerator>();
  if (options.generateAudit && options.generateAudit > 0) {
    const seed = typeof options.seed === 'string' ? hash32(options.seed) : (options.seed ?? 1);
    generators.set(
      target.tenantId,
      new AuditGenerator({
        seed,
        count: Math.floor(options.generateAudit),
        tenantId: target.tenantId,
        anchorMs: clock.nowMs(),
        spanMs: (options.generateAuditDays ?? 6) * 86_400_000,
        users: target.users.filter((u) => u.userType !== 'Guest').map((u) => u.userPrincipalName),
        domain: target.domains[0],
      }),
    );
  }

  const tls = generateTlsMaterial(caKeys, leafKeys);
  const ownDir = !options.dataDir;
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'm365-sim-'));
  mkdirSync(dir, { recursive: true });
  const caCertPath = join(dir, 'm365-simulator-ca.pem');
  writeFileSync(caCertPath, tls.caCertPem);

  const faults = new FaultInjector();
  const journal = new Journal(10_000);
  // The server is created after the modules (it needs their routes); they read base URLs lazily.
  const holder: { server?: SimServer } = {};
  const baseUrls = () => {
    if (!holder.server) throw new Error('the simulator is not listening yet');
    return holder.server.baseUrls();
  };
  const tokens = new TokenService(clock, () => baseUrls().login, scenario.tokenLifetimeSeconds ?? 3599, signingKeys);
  const context: SimContext = {
    clock,
    tenants,
    scenario,
    findTenant,
    requireToken: createRequireToken({ clock, tokens, findTenant, baseUrls }),
    baseUrls,
    newGuid,
  };
  const tenantInfo: SimTenantInfo[] = tenantList.map((t) => {
    const app = t.apps[0];
    const certificate = generatedCerts.get(`${t.tenantId}|${app.clientId}`);
    return {
      tenantId: t.tenantId,
      displayName: t.displayName,
      defaultDomain: t.domains[0],
      clientId: app.clientId,
      ...(app.clientSecrets[0] ? { clientSecret: app.clientSecrets[0] } : {}),
      cloud: 'global' as const,
      ...(certificate ? { certificate } : {}),
    };
  });
  const manage = manageModule(context, { generators });
  const routes = [
    ...controlModule(context, {
      clock,
      faults,
      journal,
      tokens,
      contentCounts: manage.contentCounts,
      info: () => ({ baseUrls: baseUrls(), caCertPath, tenants: tenantInfo, now: clock.now().toISOString() }),
    }),
    ...entraModule(context, tokens),
    ...manage.routes,
    ...graphModule(context),
    ...defenderModule(context),
  ];
  const server = new SimServer({ routes, clock, faults, journal, tls, log });
  holder.server = server;
  let urls: Record<SimHost, string>;
  try {
    urls = await server.listen(options.port ?? 0);
  } catch (e) {
    await server.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  log(`[sim] listening: ${JSON.stringify(urls)}`);

  return {
    baseUrls: urls,
    caCertPath,
    caCertPem: tls.caCertPem,
    tenants: tenantInfo,
    context,
    clock,
    faults,
    journal,
    mintUserToken: (req) => mintUserToken(context, tokens, req),
    async stop() {
      await server.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { Scenario } from './types';
export { demoScenario, DEMO } from './demo-scenario';
