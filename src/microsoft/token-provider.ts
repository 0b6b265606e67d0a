import { createHash, randomUUID } from 'node:crypto';
import { AuthError, ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import { Logger, type LoggerService } from '@nestjs/common';
import { aadstsCodes, explainAadsts } from './aadsts';
import { prepareCertificate } from './client-certificate';
import { hostAndPort, type Clouds, type MicrosoftResource } from './clouds';
import type { HttpsTransport } from './https-transport';
import { MicrosoftAuthError } from './microsoft-errors';
import { MsalNetworkClient } from './msal-network-client';
import { tenantKey, type TenantCredentials } from './tenant-credentials';

/**
 * App-only access tokens (client credentials; microsoft-notes §1): one MSAL ConfidentialClientApplication
 * per tenant app, one cached token per tenant × resource, renewed ahead of expiry, fetched once when
 * several callers ask at the same time. `invalidate` drops a token Microsoft answered 401 to.
 */

export interface TokenProviderOptions {
  clouds: Clouds;
  transport: HttpsTransport;
  timeoutMs: number;
  /** Renew this long before expiry (default 5 min; at most half the token's lifetime). */
  refreshMarginMs?: number;
  /** Clock for expiry decisions (tests move it). */
  now?: () => number;
  logger?: LoggerService;
}

interface CachedToken {
  accessToken: string;
  obtainedAt: number;
  expiresAt: number;
  refreshAt: number;
}

interface TenantApp {
  fingerprint: string;
  msal: ConfidentialClientApplication;
  network: MsalNetworkClient;
}

export class TokenProvider {
  private readonly apps = new Map<string, TenantApp>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private readonly refreshMarginMs: number;
  private readonly now: () => number;
  private readonly logger: LoggerService;

  constructor(private readonly options: TokenProviderOptions) {
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? new Logger(TokenProvider.name);
  }

  /** A valid access token for the resource, from cache while it is fresh. */
  async getToken(tenant: TenantCredentials, resource: MicrosoftResource): Promise<string> {
    const app = this.appFor(tenant);
    const key = `${tenantKey(tenant)}|${resource}`;
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.refreshAt) return cached.accessToken;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.acquire(tenant, app, resource).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const token = await pending;
    // Only the fingerprint we fetched with may fill the cache (a credential may rotate meanwhile).
    if (this.apps.get(tenantKey(tenant)) === app) this.tokens.set(key, token);
    return token.accessToken;
  }

  /**
   * Forget the cached token (Microsoft answered 401). With `rejected`, only when the cache still holds
   * that token, so many requests failing together cause one refresh, not one each.
   */
  invalidate(tenant: TenantCredentials, resource: MicrosoftResource, rejected?: string): void {
    const key = `${tenantKey(tenant)}|${resource}`;
    const cached = this.tokens.get(key);
    if (cached && (rejected === undefined || cached.accessToken === rejected)) this.tokens.delete(key);
  }

  /** How long ago the cached `token` was obtained (undefined when the cache no longer holds it). */
  ageMs(tenant: TenantCredentials, resource: MicrosoftResource, token: string): number | undefined {
    const cached = this.tokens.get(`${tenantKey(tenant)}|${resource}`);
    return cached && cached.accessToken === token ? this.now() - cached.obtainedAt : undefined;
  }

  /** Drop everything held for a tenant (removed, or its credential replaced). */
  forget(tenant: Pick<TenantCredentials, 'cloud' | 'tenantId' | 'clientId'>): void {
    const prefix = tenantKey(tenant);
    this.apps.delete(prefix);
    for (const key of [...this.tokens.keys()]) if (key.startsWith(`${prefix}|`)) this.tokens.delete(key);
  }

  private async acquire(tenant: TenantCredentials, app: TenantApp, resource: MicrosoftResource): Promise<CachedToken> {
    const scope = this.options.clouds.scope(tenant.cloud, resource);
    const correlationId = randomUUID();
    try {
      // Our cache decides freshness (with an injectable clock), so MSAL always asks Entra ID.
      const result = await app.msal.acquireTokenByClientCredential({ scopes: [scope], skipCache: true, correlationId });
      app.network.takeOutcome(correlationId);
      if (!result?.accessToken || !result.expiresOn) {
        throw new MicrosoftAuthError('no_token', [], 'Entra ID answered without an access token', tenant.tenantId, { correlationId });
      }
      // MSAL computes expiresOn from the wall clock; carry the remaining lifetime over to our clock.
      const lifetimeMs = Math.max(0, result.expiresOn.getTime() - Date.now());
      const obtainedAt = this.now();
      const margin = Math.min(this.refreshMarginMs, lifetimeMs / 2);
      return { accessToken: result.accessToken, obtainedAt, expiresAt: obtainedAt + lifetimeMs, refreshAt: obtainedAt + lifetimeMs - margin };
    } catch (error) {
      const mapped = this.toAuthError(error, tenant, app.network, correlationId);
      this.logger.warn(`token for ${resource} in tenant ${tenant.tenantId} (${tenant.cloud}) refused: ${mapped.message}`);
      throw mapped;
    }
  }

  private toAuthError(error: unknown, tenant: TenantCredentials, network: MsalNetworkClient, correlationId: string): MicrosoftAuthError {
    if (error instanceof MicrosoftAuthError) return error;
    const outcome = network.takeOutcome(correlationId);
    if (outcome?.kind === 'transport') {
      return new MicrosoftAuthError(outcome.error.kind, [], `Entra ID could not be reached: ${outcome.error.message}`, tenant.tenantId, { correlationId });
    }
    const context = { tenantId: tenant.tenantId, clientId: tenant.clientId, cloud: tenant.cloud };
    if (outcome?.kind === 'answer') {
      const body = outcome.body;
      const description = typeof body.error_description === 'string' ? body.error_description : undefined;
      const codes = aadstsCodes(body.error_codes, description);
      return new MicrosoftAuthError(String(body.error ?? 'invalid_request'), codes, explainAadsts(codes, context, description), tenant.tenantId, {
        correlationId: typeof body.correlation_id === 'string' ? body.correlation_id : correlationId,
        traceId: typeof body.trace_id === 'string' ? body.trace_id : undefined,
        status: outcome.status,
        description,
      });
    }
    if (error instanceof AuthError) {
      // Failures before or around the token POST (metadata fetch, network, MSAL's own checks).
      const codes = aadstsCodes(undefined, error.errorMessage);
      const message = codes.length
        ? explainAadsts(codes, context, error.errorMessage)
        : `token request failed: ${error.errorCode} ${error.errorMessage}`.trim();
      return new MicrosoftAuthError(error.errorCode || 'msal_error', codes, message, tenant.tenantId, { correlationId });
    }
    return new MicrosoftAuthError('unexpected', [], `token request failed: ${(error as Error)?.message ?? String(error)}`, tenant.tenantId, { correlationId });
  }

  private appFor(tenant: TenantCredentials): TenantApp {
    const key = tenantKey(tenant);
    const fingerprint = credentialFingerprint(tenant);
    const existing = this.apps.get(key);
    if (existing?.fingerprint === fingerprint) return existing;
    if (existing) this.forget(tenant); // the credential changed: old tokens go with the old app
    const network = new MsalNetworkClient(this.options.transport, this.options.timeoutMs);
    const app = { fingerprint, network, msal: new ConfidentialClientApplication(this.msalConfiguration(tenant, network)) };
    this.apps.set(key, app);
    return app;
  }

  private msalConfiguration(tenant: TenantCredentials, network: MsalNetworkClient): Configuration {
    const { clouds } = this.options;
    const login = clouds.endpoints(tenant.cloud).login;
    const credential = tenant.credential;
    const auth: Configuration['auth'] = {
      clientId: tenant.clientId,
      authority: `${login}/${tenant.tenantId}`,
      // A stand-in login host is unknown to MSAL: list it, port included, so MSAL skips instance
      // discovery on login.microsoftonline.com (microsoft-notes §1.4, M22).
      ...(clouds.overridden ? { knownAuthorities: [hostAndPort(new URL(login)).replace(/:443$/, '')] } : {}),
    };
    if (credential.type === 'secret') {
      auth.clientSecret = credential.secret;
    } else {
      const cert = prepareCertificate(tenant.tenantId, credential.certificatePem, credential.privateKeyPem, this.now());
      auth.clientCertificate = { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem };
    }
    return {
      auth,
      system: {
        networkClient: network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => {
            if (level <= LogLevel.Warning) this.logger.debug?.(`msal: ${message}`);
          },
        },
      },
    };
  }
}

/** Changes when the credential does; the secret itself is not kept in the key. */
function credentialFingerprint(tenant: TenantCredentials): string {
  const c = tenant.credential;
  const material = c.type === 'secret' ? `secret\n${c.secret}` : `certificate\n${c.certificatePem}\n${c.privateKeyPem}`;
  return createHash('sha256').update(material).digest('hex');
}
