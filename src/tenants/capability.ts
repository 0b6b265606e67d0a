import type { MicrosoftHttp, MicrosoftResource, TenantCredentials, TenantGraphClient } from '../microsoft';

export type CapabilityStatus = 'available' | 'unlicensed' | 'forbidden' | 'unreachable';

export interface CapabilityResult {
  capability: string;
  status: CapabilityStatus;
  detail: string | null;
}

/** One thing a tenant may or may not allow Cordon to do; engines look it up by name (a stream's `capability`, an action's `requiredCapabilities`). */
export interface Capability {
  readonly name: string;
  /** The application permissions that grant it, any one of them; a refusal names them. */
  readonly permissions: readonly string[];
  /** What the tenant needs besides the permission (a licence, a product, a setting), as microsoft-notes documents it; null when nothing. */
  readonly licence: string | null;
  /**
   * Its permissions let an app grant itself more: when the tenant has a privileged app registration, the
   * capability is probed, and its steps run, with that app's token (README "A second app registration").
   */
  readonly privileged?: boolean;
}

/** What a check reads Microsoft with, for one tenant during one probe. */
export interface ProbeContext {
  readonly tenant: TenantCredentials;
  /** Management Activity and Defender requests. */
  readonly http: MicrosoftHttp;
  readonly graph: TenantGraphClient;
  /** The application permissions Cordon's own token for a resource carries: what decides the permissions a read cannot prove. */
  roles(resource: MicrosoftResource, options?: { privileged?: boolean }): Promise<string[]>;
  /** The tenant's privileged app registration's client id, when it has one (privileged capabilities are its). */
  readonly privilegedClientId: string | null;
  /** The probe's reading of a Microsoft failure, for a check that catches one itself. */
  failed(capability: Capability, error: unknown): CapabilityResult;
}

/**
 * The cheapest read at Microsoft that decides one or more capabilities (one subscription list decides all
 * five Management Activity content types). `probe` answers a result per capability; when it throws, the
 * probe reads the failure for each of them.
 */
export interface CapabilityCheck {
  readonly capabilities: readonly Capability[];
  probe(ctx: ProbeContext): Promise<CapabilityResult[]>;
}

/** A capability that is available whenever `read` answers. */
export function readCheck(capability: Capability, read: (ctx: ProbeContext) => Promise<unknown>): CapabilityCheck {
  return {
    capabilities: [capability],
    async probe(ctx) {
      await read(ctx);
      return [{ capability: capability.name, status: 'available', detail: null }];
    },
  };
}
