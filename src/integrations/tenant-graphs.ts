import { Injectable } from '@nestjs/common';
import { StepError } from '../actions/action-handler';
import { GraphClientFactory, TenantGraphClient } from '../microsoft';
import { TenantsService } from '../tenants/tenants.service';

/** How long a tenant's Graph client is reused before its tenant row is read again. */
const CLIENT_TTL_MS = 2000;

/** The cached promise for `key` while it is younger than CLIENT_TTL_MS, else a new one from `load` (a failed one is not kept). */
function reuse<T>(cache: Map<string, { client: Promise<T>; until: number }>, key: string, load: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const cached = cache.get(key);
  if (cached && cached.until > now) return cached.client;
  const client = load();
  cache.set(key, { client, until: now + CLIENT_TTL_MS });
  client.catch(() => cache.delete(key));
  return client;
}

export interface PrivilegedGraph {
  graph: TenantGraphClient;
  /** The app registration the calls are made as: the privileged one when the tenant has one, else the main one. */
  app: { kind: 'privileged' | 'main'; clientId: string };
}

/**
 * The tenants' Graph clients, read from the database at most once per CLIENT_TTL_MS: an action makes
 * several Graph-calling steps within milliseconds, and each lookup is a query on the hot path. A
 * credential changed or a tenant deleted meanwhile is seen within that time.
 */
@Injectable()
export class TenantGraphs {
  private readonly clients = new Map<string, { client: Promise<TenantGraphClient>; until: number }>();
  private readonly privilegedClients = new Map<string, { client: Promise<PrivilegedGraph>; until: number }>();
  constructor(
    private readonly tenants: TenantsService,
    private readonly graphs: GraphClientFactory,
  ) {}

  of(tenantId: string): Promise<TenantGraphClient> {
    return reuse(this.clients, tenantId, () => this.load(tenantId));
  }

  /**
   * The Graph client for the writes that need a permission letting an app grant itself more (removing app
   * role assignments and consents, disabling an enterprise app): the tenant's privileged app registration's
   * when it has one (README "A second app registration"), else the main one's. Cached like `of`.
   */
  privileged(tenantId: string): Promise<PrivilegedGraph> {
    return reuse(this.privilegedClients, tenantId, () => this.loadPrivileged(tenantId));
  }

  private async loadPrivileged(tenantId: string): Promise<PrivilegedGraph> {
    const tenant = await this.tenants.findLive(tenantId);
    if (!tenant) throw new StepError('tenant-not-found', `Tenant ${tenantId} no longer exists.`);
    const privileged = await this.tenants.privilegedCredentialsOf(tenant);
    const credentials = privileged ?? this.tenants.credentialsOf(tenant);
    return { graph: this.graphs.forTenant(credentials), app: { kind: privileged ? 'privileged' : 'main', clientId: credentials.clientId } };
  }

  private async load(tenantId: string): Promise<TenantGraphClient> {
    const tenant = await this.tenants.findLive(tenantId);
    if (!tenant) throw new StepError('tenant-not-found', `Tenant ${tenantId} no longer exists.`);
    return this.graphs.forTenant(this.tenants.credentialsOf(tenant));
  }
}
