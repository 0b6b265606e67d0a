/**
 * Token, permission, licence and throttling checks shared by the Graph handlers.
 *
 * Handlers call `ctx.requireToken(req, 'graph')` for authentication only and check roles here,
 * because Graph's 403 differs per back end (microsoft-notes §6.1) and some calls need role combinations
 * (microsoft-notes §4.1: `User.EnableDisableAccount.All` + `User.Read.All`).
 */
import type { SimContext, SimRequest, SimTenant, VerifiedToken } from '../types';
import { graphError, throttledError, type ErrorFamily } from './errors';
import { graphOptions, type GraphOptions } from './options';
import { SlidingWindowLimiter } from './throttle';

export interface GraphEnv {
  ctx: SimContext;
  limiter: SlidingWindowLimiter;
  options(): GraphOptions;
}

export function createGraphEnv(ctx: SimContext): GraphEnv {
  return { ctx, limiter: new SlidingWindowLimiter(), options: () => graphOptions(ctx.scenario) };
}

export function authenticate(env: GraphEnv, req: SimRequest): VerifiedToken {
  return env.ctx.requireToken(req, 'graph');
}

export function hasAnyRole(token: VerifiedToken, roles: string[]): boolean {
  return roles.some((role) => token.roles.includes(role));
}

/** 403 for a missing Graph permission, in the shape of the back end that answers. */
export function permissionDenied(env: GraphEnv, req: SimRequest, family: ErrorFamily, anyOf: string[]): Error {
  const { clock } = env.ctx;
  switch (family) {
    case 'directory':
      return graphError(clock, req, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    case 'reports':
      // The reporting back end names the missing permission (seen on auditLogs/signIns).
      return graphError(clock, req, 403, 'Authentication_MSGraphPermissionMissing', `Calling principal does not have required MSGraph permissions ${anyOf[0]}`);
    case 'security':
    case 'identityProtection':
      return graphError(clock, req, 403, 'Forbidden', `Missing application roles. API required roles: ${anyOf.join(', ')}.`);
  }
}

/** Authenticates and requires one of `anyOf` in the token's roles. */
export function authorize(env: GraphEnv, req: SimRequest, family: ErrorFamily, anyOf: string[]): VerifiedToken {
  const token = authenticate(env, req);
  if (!hasAnyRole(token, anyOf)) throw permissionDenied(env, req, family, anyOf);
  return token;
}

type Bucket = 'identityProtection' | 'reports' | 'security' | 'outlook' | 'directoryWrites';

/**
 * Graph throttling per microsoft-notes §3.5:
 * - Identity Protection: 1 req/s per tenant across all apps; the 429 has no Retry-After (microsoft-notes M12).
 * - Reports (auditLogs/*): 5 req/10 s per app per tenant; 429 with Retry-After (microsoft-notes M11).
 * - Security: 150 req/min per app per tenant; 429 with Retry-After.
 * - Outlook (inbox rules): 10,000 req/10 min per app and mailbox (`scope` = the mailbox); microsoft-notes §8.10.
 * - Identity and access writes: 3,000 per 2.5 min per app and tenant; microsoft-notes §8.10.
 */
export function throttle(env: GraphEnv, req: SimRequest, token: VerifiedToken, bucket: Bucket, scope = ''): void {
  const limits = env.options().throttling;
  const appKey = token.app?.clientId ?? String(token.claims.oid ?? 'user');
  const tenantApp = `${token.tenant.tenantId}:${appKey}`;
  const buckets: Record<Bucket, [string, number, number]> = {
    identityProtection: [`ip:${token.tenant.tenantId}`, limits.identityProtectionPerSecond, 1000],
    reports: [`reports:${tenantApp}`, limits.reportsPer10Seconds, 10_000],
    security: [`security:${tenantApp}`, limits.securityPerMinute, 60_000],
    outlook: [`outlook:${tenantApp}:${scope}`, limits.outlookPer10Minutes, 600_000],
    directoryWrites: [`writes:${tenantApp}`, limits.directoryWritesPer150Seconds, 150_000],
  };
  const [key, limit, windowMs] = buckets[bucket];
  const verdict = env.limiter.take(key, limit, windowMs, env.ctx.clock.nowMs());
  if (verdict.ok) return;
  const retryAfter = bucket === 'identityProtection' ? undefined : Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  throw throttledError(env.ctx.clock, req, retryAfter);
}

/** Entra ID P1 or P2: sign-in logs (microsoft-notes M11). */
export function requirePremium(env: GraphEnv, req: SimRequest, tenant: SimTenant): void {
  if (tenant.licences.entraP1 || tenant.licences.entraP2) return;
  throw graphError(
    env.ctx.clock,
    req,
    403,
    'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    "Neither tenant is B2C or tenant doesn't have premium license",
  );
}

/**
 * Entra ID P2: riskyUsers, riskDetections and their actions (microsoft-notes §3.1). The real answer is a
 * bare 403 that peers cannot tell from a permission problem (microsoft/zerotrustassessment#1022);
 * the message here says which.
 */
export function requireP2(env: GraphEnv, req: SimRequest, tenant: SimTenant): void {
  if (tenant.licences.entraP2) return;
  throw graphError(env.ctx.clock, req, 403, 'Forbidden', 'Your tenant is not licensed for this feature. Microsoft Entra ID P2 is required.');
}

/** A service principal id for the app, stable per app (directory audits name it). */
export function servicePrincipalId(clientId: string): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const ch of `${round}:${clientId}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
}
