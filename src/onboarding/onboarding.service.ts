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
import { TenantCapabilitiesService } from '../tenants/tenant-capabilities.service';
import { TenantsService } from '../tenants/tenants.service';
import { manifestOf, requiredPermissions, ALL_CAPABILITY_CHECKS } from './manifest';

/** How long a consent link stays valid. */
const STATE_TTL_MS = 24 * 3_600_000;
const SYSTEM = { type: 'system' as const, id: 'consent-callback', name: 'admin-consent callback' };

export interface ModuleReadiness {
  name: string;
  status: 'ready' | 'missing-permissions' | 'licence-absent' | 'unreachable' | 'pending';
  missingPermissions: string[];
  detail: string[];
}

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
  ) {}

  get callbackUrl(): string {
    return `${this.config.publicUrl}/v1/onboarding/consent-callback`;
  }

  async onboarding(principal: Principal, tenantId: string) {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const endpoints = this.clouds.endpoints(tenant.cloud as CloudName);
    const state = this.sign(tenant.id, Date.now() + STATE_TTL_MS);
    const consent = new URL(`${endpoints.login}/${tenant.microsoftTenantId}/v2.0/adminconsent`);
    consent.searchParams.set('client_id', tenant.clientId);
    // `.default` on Graph asks for the registration's configured permissions (microsoft-notes §8.9, M43).
    consent.searchParams.set('scope', endpoints.scopes.graph ?? '');
    consent.searchParams.set('redirect_uri', this.callbackUrl);
    consent.searchParams.set('state', state);
    const statuses = await this.capabilities.statusesOf(tenant.id);
    return {
      tenantId: tenant.id,
      connection: tenant.connectionStatus,
      adminConsentUrl: consent.toString(),
      redirectUri: this.callbackUrl,
      modules: readiness(statuses),
    };
  }

  /**
   * Microsoft's redirect after the admin consent. `admin_consent=True` comes with errors too: the error
   * is read first. The outcome is audited; a grant starts a probe at once, so the capabilities show it.
   */
  async callback(query: Record<string, string | undefined>, context: { requestId: string }) {
    const tenantId = this.verify(query.state);
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
        error: error ?? null,
        errorDescription: query.error_description?.slice(0, 1000) ?? null,
        // what Microsoft said the tenant was: recorded, not trusted
        reportedTenant: query.tenant?.slice(0, 100) ?? null,
      },
    });
    if (outcome === 'granted') await this.capabilities.probeNow(tenant.id, audit); // with fresh tokens: the new roles
    return {
      tenantId: tenant.id,
      outcome,
      ...(error ? { error, errorDescription: query.error_description ?? null } : {}),
      modules: readiness(await this.capabilities.statusesOf(tenant.id)),
    };
  }

  private sign(tenantId: string, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ t: tenantId, e: expiresAt, n: randomBytes(8).toString('hex') })).toString('base64url');
    return `${payload}.${this.hmac.of(`consent-state:${payload}`)}`;
  }

  private verify(state: string | undefined): string {
    const invalid = (why: string) =>
      new Problem(400, 'consent-state-invalid', 'Consent state invalid', `${why} Start again from GET /v1/tenants/{id}/onboarding.`);
    const [payload, mac] = (state ?? '').split('.');
    if (!payload || !mac) throw invalid('The callback carries no state Cordon made.');
    const expected = Buffer.from(this.hmac.of(`consent-state:${payload}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid('The state was not made by Cordon (or was altered).');
    let parsed: { t?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { t?: unknown; e?: unknown };
    } catch {
      throw invalid('The state cannot be read.');
    }
    if (typeof parsed.t !== 'string' || typeof parsed.e !== 'number') throw invalid('The state cannot be read.');
    if (parsed.e < Date.now()) throw invalid('The consent link has expired.');
    return parsed.t;
  }
}

/** Per module, from the last probe: ready, the permissions to grant, or the licence it lacks. */
function readiness(statuses: Record<string, { status: string; detail: string | null }>): ModuleReadiness[] {
  const byName = new Map(ALL_CAPABILITY_CHECKS.flatMap((c) => c.capabilities).map((c) => [c.name, c]));
  return manifestOf().map((m) => {
    const caps = m.capabilities.map((c) => ({ ...c, probed: statuses[c.name] }));
    const missing = [...new Set(caps.filter((c) => c.probed?.status === 'forbidden').flatMap((c) => requiredPermissions(byName.get(c.name)!)))];
    const detail = caps
      .filter((c) => c.probed && c.probed.status !== 'available')
      .map((c) => `${c.name}: ${c.probed!.status}${c.probed!.detail ? ` (${c.probed!.detail})` : ''}`);
    const status: ModuleReadiness['status'] = caps.some((c) => !c.probed)
      ? 'pending'
      : missing.length
        ? 'missing-permissions'
        : caps.some((c) => c.probed!.status === 'unlicensed')
          ? 'licence-absent'
          : caps.some((c) => c.probed!.status === 'unreachable')
            ? 'unreachable'
            : 'ready';
    return { name: m.name, status, missingPermissions: missing, detail };
  });
}
