import { Injectable } from '@nestjs/common';
import { StepError } from '../actions/action-handler';
import { GraphClientFactory, TenantGraphClient } from '../microsoft';
import { TenantsService } from '../tenants/tenants.service';

/** How long a tenant's Graph client is reused before its tenant row is read again. */
const CLIENT_TTL_MS = 2000;

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
    const now = Date.now();
    const cached = this.clients.get(tenantId);
    if (cached && cached.until > now) return cached.client;
    const client = this.load(tenantId);
    this.clients.set(tenantId, { client, until: now + CLIENT_TTL_MS });
    client.catch(() => this.clients.delete(tenantId));
    return client;
  }

  /**
   * The Graph client for the writes that need a permission letting an app grant itself more (removing app
   * role assignments and consents, disabling an enterprise app): the tenant's privileged app registration's
   * when it has one (README "A second app registration"), else the main one's. Cached like `of`.
   */
  privileged(tenantId: string): Promise<PrivilegedGraph> {
    const now = Date.now();
    const cached = this.privilegedClients.get(tenantId);
    if (cached && cached.until > now) return cached.client;
    const client = this.loadPrivileged(tenantId);
    this.privilegedClients.set(tenantId, { client, until: now + CLIENT_TTL_MS });
    client.catch(() => this.privilegedClients.delete(tenantId));
    return client;
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
