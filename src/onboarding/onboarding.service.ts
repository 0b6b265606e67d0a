import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../access/principal';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditHmac } from '../audit-log/audit-hmac';
import { AuditLogService } from '../audit-log/audit-log.service';
import { Problem } from '../common/problem';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Clouds, type CloudName } from '../microsoft/clouds';
import { TokenProvider } from '../microsoft/token-provider';
import { tokenRoles } from '../tenants/capability-probe';
import { TenantCapabilitiesService } from '../tenants/tenant-capabilities.service';
import { TenantsService } from '../tenants/tenants.service';
import { manifestOf, requiredPermissions, ALL_CAPABILITY_CHECKS, SELF_ELEVATING } from './manifest';

/** How long a consent link stays valid. */
const STATE_TTL_MS = 24 * 3_600_000;
const SYSTEM = { type: 'system' as const, id: 'consent-callback', name: 'admin-consent callback' };

export interface ModuleReadiness {
  name: string;
  status: 'ready' | 'missing-permissions' | 'licence-absent' | 'unreachable' | 'pending';
  /** To grant to the main app registration. */
  missingPermissions: string[];
  /** To grant to the privileged app registration (when the tenant has one: the permissions of its privileged capabilities). */
  missingOnPrivilegedApp: string[];
  detail: string[];
}

type ConsentApp = 'main' | 'privileged';

/**
 * Onboarding one tenant (issue 22, README "Tenants"): the admin-consent link for its cloud, the callback
 * Microsoft sends the admin back to, and per module whether the last probe found it ready. The link's
 * `state` is signed (HMAC under the server key) and names the Cordon tenant: the callback's own `tenant`
 * value is not trusted (microsoft-notes §8.9).
 */
@Injectable()
export class OnboardingService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly clouds: Clouds,
    private readonly hmac: AuditHmac,
    private readonly auditLog: AuditLogService,
    private readonly tokens: TokenProvider,
  ) {}

  get callbackUrl(): string {
    return `${this.config.publicUrl}/v1/onboarding/consent-callback`;
  }

  async onboarding(principal: Principal, tenantId: string) {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const privileged = await this.tenants.privilegedCredentialsOf(tenant);
    const statuses = await this.capabilities.statusesOf(tenant.id);
    return {
      tenantId: tenant.id,
      connection: tenant.connectionStatus,
      adminConsentUrl: this.consentUrl(tenant.id, tenant.cloud as CloudName, tenant.microsoftTenantId, tenant.clientId, 'main'),
      redirectUri: this.callbackUrl,
      privilegedApp: privileged
        ? {
            clientId: privileged.clientId,
            // its own consent: an admin grants the privileged app's permissions separately
            adminConsentUrl: this.consentUrl(tenant.id, tenant.cloud as CloudName, tenant.microsoftTenantId, privileged.clientId, 'privileged'),
          }
        : null,
      modules: readiness(statuses, privileged !== null),
      warnings: privileged ? await this.separationWarnings(this.tenants.credentialsOf(tenant)) : [],
    };
  }

  private consentUrl(id: string, cloud: CloudName, microsoftTenantId: string, clientId: string, app: ConsentApp): string {
    const endpoints = this.clouds.endpoints(cloud);
    const consent = new URL(`${endpoints.login}/${microsoftTenantId}/v2.0/adminconsent`);
    consent.searchParams.set('client_id', clientId);
    // `.default` on Graph asks for the registration's configured permissions (microsoft-notes §8.9, M43).
    consent.searchParams.set('scope', endpoints.scopes.graph ?? '');
    consent.searchParams.set('redirect_uri', this.callbackUrl);
    consent.searchParams.set('state', this.sign(id, app, Date.now() + STATE_TTL_MS));
    return consent.toString();
  }

  /**
   * With a privileged app registration, the main one should not hold what lets an app grant itself more:
   * the separation is only real once those permissions are removed from it. Read from the main app's
   * current Graph token (no warning when there is none to read).
   */
  private async separationWarnings(main: Parameters<TokenProvider['getToken']>[0]): Promise<string[]> {
    const roles = await this.tokens
      .getToken(main, 'graph')
      .then(tokenRoles)
      .catch(() => [] as string[]);
    const held = SELF_ELEVATING.filter((p) => roles.includes(p));
    return held.length
      ? [
          `The main app registration still holds ${held.join(', ')}, which let an app grant itself more; with a privileged app registration configured, remove ${held.length > 1 ? 'them' : 'it'} from the main one.`,
        ]
      : [];
  }

  /**
   * Microsoft's redirect after the admin consent. `admin_consent=True` comes with errors too: the error
   * is read first. The outcome is audited; a grant starts a probe at once, so the capabilities show it.
   */
  async callback(query: Record<string, string | undefined>, context: { requestId: string }) {
    const { tenantId, app } = this.verify(query.state);
    const tenant = await this.tenants.findLive(tenantId);
    if (!tenant) throw new Problem(404, 'not-found', 'Not found', 'The tenant this consent link was made for no longer exists.');
    const error = query.error;
    const outcome = error ? (error === 'access_denied' ? 'declined' : 'failed') : query.admin_consent?.toLowerCase() === 'true' ? 'granted' : 'failed';
    const audit: AuditContext = { actor: SYSTEM, requestId: context.requestId };
    await this.auditLog.record({
      event: 'tenant.consent',
      actor: SYSTEM,
      tenantId: tenant.id,
      subject: `tenant:${tenant.id}`,
      requestId: context.requestId,
      data: {
        outcome,
        app,
        error: error ?? null,
        errorDescription: query.error_description?.slice(0, 1000) ?? null,
        // what Microsoft said the tenant was: recorded, not trusted
        reportedTenant: query.tenant?.slice(0, 100) ?? null,
      },
    });
    if (outcome === 'granted') await this.capabilities.probeNow(tenant.id, audit); // with fresh tokens: the new roles
    return {
      tenantId: tenant.id,
      app,
      outcome,
      ...(error ? { error, errorDescription: query.error_description ?? null } : {}),
      modules: readiness(await this.capabilities.statusesOf(tenant.id), (await this.tenants.privilegedCredentialsOf(tenant)) !== null),
    };
  }

  private sign(tenantId: string, app: ConsentApp, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ t: tenantId, a: app, e: expiresAt, n: randomBytes(8).toString('hex') })).toString('base64url');
    return `${payload}.${this.hmac.of(`consent-state:${payload}`)}`;
  }

  private verify(state: string | undefined): { tenantId: string; app: ConsentApp } {
    const invalid = (why: string) =>
      new Problem(400, 'consent-state-invalid', 'Consent state invalid', `${why} Start again from GET /v1/tenants/{id}/onboarding.`);
    const [payload, mac] = (state ?? '').split('.');
    if (!payload || !mac) throw invalid('The callback carries no state Cordon made.');
    const expected = Buffer.from(this.hmac.of(`consent-state:${payload}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid('The state was not made by Cordon (or was altered).');
    let parsed: { t?: unknown; a?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { t?: unknown; a?: unknown; e?: unknown };
    } catch {
      throw invalid('The state cannot be read.');
    }
    if (typeof parsed.t !== 'string' || typeof parsed.e !== 'number') throw invalid('The state cannot be read.');
    if (parsed.e < Date.now()) throw invalid('The consent link has expired.');
    return { tenantId: parsed.t, app: parsed.a === 'privileged' ? 'privileged' : 'main' };
  }
}

/**
 * Per module, from the last probe: ready, the permissions to grant (to the main app, or to the privileged
 * one for its capabilities when the tenant has one), or the licence it lacks.
 */
function readiness(statuses: Record<string, { status: string; detail: string | null }>, hasPrivilegedApp: boolean): ModuleReadiness[] {
  const byName = new Map(ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities).map((c) => [c.name, c]));
  return manifestOf().map((m) => {
    const caps = m.capabilities.map((c) => ({ ...c, probed: statuses[c.name], privileged: hasPrivilegedApp && byName.get(c.name)?.privileged === true }));
    const forbidden = caps.filter((c) => c.probed?.status === 'forbidden');
    const missingOf = (list: typeof caps) => [...new Set(list.flatMap((c) => requiredPermissions(byName.get(c.name)!)))];
    const missing = missingOf(forbidden.filter((c) => !c.privileged));
    const missingOnPrivilegedApp = missingOf(forbidden.filter((c) => c.privileged));
    const detail = caps
      .filter((c) => c.probed && c.probed.status !== 'available')
      .map((c) => `${c.name}: ${c.probed!.status}${c.probed!.detail ? ` (${c.probed!.detail})` : ''}`);
    const status: ModuleReadiness['status'] = caps.some((c) => !c.probed)
      ? 'pending'
      : forbidden.length
        ? 'missing-permissions'
        : caps.some((c) => c.probed!.status === 'unlicensed')
          ? 'licence-absent'
          : caps.some((c) => c.probed!.status === 'unreachable')
            ? 'unreachable'
            : 'ready';
    return { name: m.name, status, missingPermissions: missing, missingOnPrivilegedApp, detail };
  });
}
