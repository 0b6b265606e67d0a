import type { SimContext, SimRequest, SimTenant, VerifiedToken } from '../types';
import { mdeError } from './errors';
import { resolveTimings, settleTenant, tenantState, type ActionTimings, type DefenderTenantState } from './machine-actions';
import { takeRateLimitSlot, type RateLimit } from './rate-limit';

/** What every authenticated Defender handler works with. */
export interface DefenderCall {
  req: SimRequest;
  ctx: SimContext;
  token: VerifiedToken;
  tenant: SimTenant;
  state: DefenderTenantState;
  nowMs: number;
  timings: ActionTimings;
}

/** The permissions that can read machines and machine actions (microsoft-notes §5.2, §5.3). */
export const READ_PERMISSIONS = ['Machine.Read.All', 'Machine.ReadWrite.All'];

/**
 * The common preamble of an `/api` call, in the order Microsoft's gateway would apply it: token and
 * permission (401/403 from `requireToken`; wrong audience is 403, microsoft-notes M16), then the tenant's MDE
 * licence, then the per-API rate limit (microsoft-notes §5.5), and finally the lazy progression of the
 * tenant's machine actions up to now.
 */
export function beginCall(ctx: SimContext, req: SimRequest, api: string, permissions: string[], limit: RateLimit): DefenderCall {
  const token = ctx.requireToken(req, 'defender', permissions);
  const tenant = token.tenant;
  if (!tenant.licences.defenderForEndpoint) {
    throw mdeError(req, 403, 'DisabledFeature', "Tenant feature isn't enabled.");
  }
  const state = tenantState(tenant);
  const nowMs = ctx.clock.nowMs();
  const retryAfter = takeRateLimitSlot(state.rateLimits, api, limit, nowMs);
  if (retryAfter !== undefined) {
    throw mdeError(req, 429, 'TooManyRequests', `Rate limit is exceeded for ${api}. Try again in ${retryAfter} seconds.`, {
      'retry-after': String(retryAfter),
    });
  }
  const timings = resolveTimings(ctx.scenario.machineActions);
  settleTenant(tenant, nowMs, timings);
  return { req, ctx, token, tenant, state, nowMs, timings };
}

/** Who an action is recorded as requested by: the app id for app-only tokens (microsoft-notes §5.3), else the user. */
export function requestorOf(token: VerifiedToken): string {
  if (token.app) return token.app.clientId;
  const c = token.claims;
  return String(c.upn ?? c.unique_name ?? c.preferred_username ?? c.oid ?? 'unknown');
}
