import { Injectable } from '@nestjs/common';
import {
  GraphClientFactory,
  MicrosoftApiError,
  MicrosoftAuthError,
  MicrosoftHttp,
  TokenProvider,
  UnsupportedInCloudError,
  type TenantCredentials,
} from '../microsoft';
import type { Capability, CapabilityCheck, CapabilityResult, ProbeContext } from './capability';
import { CapabilityRegistry } from './capability-registry';
import { differs, grantedPermissions, type GrantedPermissions } from './granted-permissions';
import type { MicrosoftResource } from '../microsoft';

export interface ProbeOutcome {
  connection: { status: 'connected' | 'credential-error' | 'unreachable'; detail: string | null };
  capabilities: CapabilityResult[];
}

/** The app permissions an access token carries (its `roles` claim); we read our own token, we do not verify it. */
export function tokenRoles(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  } catch {
    return [];
  }
}

function fromError({ name: capability, permissions }: Capability, error: unknown): CapabilityResult {
  if (error instanceof UnsupportedInCloudError) return { capability, status: 'unlicensed', detail: error.message };
  if (error instanceof MicrosoftApiError) {
    const said = `${error.code ? `${error.code}: ` : ''}${error.message}`;
    switch (error.kind) {
      case 'unlicensed':
        return { capability, status: 'unlicensed', detail: said };
      case 'forbidden':
      case 'unauthorized':
        return { capability, status: 'forbidden', detail: `needs ${permissions.join(' or ')}; Microsoft said ${said}` };
      default:
        return { capability, status: 'unreachable', detail: said };
    }
  }
  return { capability, status: 'unreachable', detail: error instanceof Error ? error.message : String(error) };
}

const byName = (a: CapabilityResult, b: CapabilityResult): number => a.capability.localeCompare(b.capability);

/**
 * Asks Microsoft what this tenant's licences and Cordon's granted permissions allow, with the checks the
 * integrations declare (`CapabilityRegistry`), all at once. A check fails as a whole: its capabilities
 * then say what Microsoft answered.
 */
@Injectable()
export class CapabilityProbe {
  constructor(
    private readonly tokens: TokenProvider,
    private readonly http: MicrosoftHttp,
    private readonly graphs: GraphClientFactory,
    private readonly registry: CapabilityRegistry,
  ) {}

  /** `privileged`: the tenant's second app registration, whose token decides the privileged capabilities. */
  async probe(tenant: TenantCredentials, privileged: TenantCredentials | null = null): Promise<ProbeOutcome> {
    try {
      await this.tokens.getToken(tenant, 'graph');
    } catch (error) {
      const credential = error instanceof MicrosoftAuthError && !error.transient;
      const detail = error instanceof Error ? error.message : String(error);
      return {
        connection: { status: credential ? 'credential-error' : 'unreachable', detail },
        capabilities: this.registry
          .capabilities()
          .map(({ name }) => ({ capability: name, status: 'unreachable' as const, detail: `no access token: ${detail}` }))
          .sort(byName),
      };
    }
    const graph = this.graphs.forTenant(tenant);
    const ctx: ProbeContext = {
      tenant,
      http: this.http,
      graph,
      roles: this.rolesReader(graph, tenant, privileged),
      privilegedClientId: privileged?.clientId ?? null,
      failed: fromError,
    };
    const results = await Promise.all(this.registry.all().map((check) => this.run(check, ctx)));
    return { connection: { status: 'connected', detail: null }, capabilities: results.flat().sort(byName) };
  }

  /**
   * The roles a check is decided by: those of the app's token for the resource. Where the tenant lets Cordon
   * read what the app has been granted (its appRoleAssignments, read with the main app), a token whose roles
   * differ from it was issued before a grant or a revocation: it is dropped and a fresh one decides, so a
   * permission revoked an hour ago is not taken as granted by a probe that found the old token cached
   * (the daily one, or on a replica that did not run the refresh). Each app and resource is read once per probe.
   */
  private rolesReader(graph: ProbeContext['graph'], tenant: TenantCredentials, privileged: TenantCredentials | null): ProbeContext['roles'] {
    const granted = new Map<string, Promise<GrantedPermissions | null>>();
    const roles = new Map<string, Promise<string[]>>();
    const grantedTo = (app: TenantCredentials) => {
      if (!granted.has(app.clientId)) granted.set(app.clientId, grantedPermissions(graph, app.clientId));
      return granted.get(app.clientId)!;
    };
    const read = async (app: TenantCredentials, resource: MicrosoftResource): Promise<string[]> => {
      const [token, assigned] = await Promise.all([this.tokens.getToken(app, resource), grantedTo(app)]);
      const current = tokenRoles(token);
      if (!assigned || !differs(current, assigned.get(resource))) return current;
      this.tokens.invalidate(app, resource, token); // issued before the change: the next one carries what is granted now
      return tokenRoles(await this.tokens.getToken(app, resource));
    };
    return (resource, options) => {
      const app = options?.privileged && privileged ? privileged : tenant;
      const key = `${app.clientId}|${resource}`;
      if (!roles.has(key)) roles.set(key, read(app, resource));
      return roles.get(key)!;
    };
  }

  private async run(check: CapabilityCheck, ctx: ProbeContext): Promise<CapabilityResult[]> {
    try {
      return await check.probe(ctx);
    } catch (error) {
      return check.capabilities.map((capability) => fromError(capability, error));
    }
  }
}
