import { hostError } from './errors';
import { acceptedAudiences, isXdrAudience, normaliseResourceUri, type ApiHost } from './resources';
import type { TokenService } from './tokens';
import { SimError, type SimClock, type SimHost, type SimRequest, type SimTenant, type VerifiedToken } from './types';

/**
 * `SimContext.requireToken`: verifies the bearer token the way each API answers when it is wrong.
 * - Graph: 401 `InvalidAuthenticationToken` (+ WWW-Authenticate); missing role ⇒ 403
 *   `Authorization_RequestDenied` "Insufficient privileges to complete the operation." (microsoft-notes §4.3, §6.1).
 * - Management Activity API: 401 in its `{error:{code,message}}` shape; missing ActivityFeed.Read ⇒
 *   AF10001 (microsoft-notes §2.1, §2.6).
 * - Defender for Endpoint: 401 `Unauthorized`; a token for another audience — including
 *   api.security.microsoft.com — ⇒ 403 `Forbidden` (microsoft-notes §1.1, M16).
 */

export interface AuthDeps {
  clock: SimClock;
  tokens: TokenService;
  findTenant(idOrDomain: string): SimTenant | undefined;
  baseUrls(): Record<SimHost, string>;
}

function bearer(req: SimRequest): string | undefined {
  const h = req.headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(v ?? '');
  return m?.[1];
}

export function createRequireToken(deps: AuthDeps) {
  const unauthorized = (req: SimRequest, host: ApiHost, message: string): SimError => {
    const now = deps.clock.now();
    switch (host) {
      case 'graph':
        return hostError('graph', req, now, 401, 'InvalidAuthenticationToken', message, {
          'www-authenticate': `Bearer realm="", authorization_uri="${deps.baseUrls().login}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
        });
      case 'manage':
        // [unverified] status/code for a bad token; the documented codes (microsoft-notes §2.6) cover permissions only.
        return hostError('manage', req, now, 401, 'Unauthorized', `Authorization has been denied for this request. ${message}`);
      case 'defender':
        return hostError('defender', req, now, 401, 'Unauthorized', message);
    }
  };

  const forbidden = (req: SimRequest, host: ApiHost, roles: string[], anyOf: string[]): SimError => {
    const now = deps.clock.now();
    switch (host) {
      case 'graph':
        return hostError('graph', req, now, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      case 'manage':
        return hostError(
          'manage',
          req,
          now,
          403,
          'AF10001',
          `The permission set (${roles.join(' ')}) sent in the request did not include the expected permission ${anyOf.join(' or ')}.`,
        );
      case 'defender':
        return hostError(
          'defender',
          req,
          now,
          403,
          'Forbidden',
          `The application does not have any of the required application roles (${anyOf.join(', ')}) to access the resource.`,
        );
    }
  };

  return function requireToken(req: SimRequest, resource: ApiHost, anyOf?: string[]): VerifiedToken {
    const token = bearer(req);
    if (!token) throw unauthorized(req, resource, 'Access token is empty.');
    const check = deps.tokens.check(token);
    if (!check.ok) {
      const message = check.reason === 'malformed' ? 'CompactToken parsing failed with error code: 80049217' : check.message;
      throw unauthorized(req, resource, message);
    }
    const claims = check.claims;
    const aud = normaliseResourceUri(String(claims.aud ?? ''));
    if (!acceptedAudiences(resource, deps.baseUrls()).includes(aud)) {
      if (resource === 'defender') {
        const why = isXdrAudience(aud) ? ' (a Defender XDR token; request https://api.securitycenter.microsoft.com/.default)' : '';
        throw hostError('defender', req, deps.clock.now(), 403, 'Forbidden', `The token audience ${String(claims.aud)} is not valid for this API${why}.`);
      }
      throw unauthorized(req, resource, 'Access token validation failure. Invalid audience.');
    }
    const tenant = deps.findTenant(String(claims.tid ?? ''));
    if (!tenant) throw unauthorized(req, resource, 'Access token validation failure. Unknown tenant.');
    const iss = String(claims.iss ?? '');
    const validIssuers = [`https://sts.windows.net/${tenant.tenantId}/`, `${deps.baseUrls().login}/${tenant.tenantId}/v2.0`];
    if (!validIssuers.includes(iss)) throw unauthorized(req, resource, 'Access token validation failure. Invalid issuer.');
    let app = undefined;
    if (claims.idtyp === 'app' || claims.appid) {
      app = tenant.apps.find((a) => a.clientId.toLowerCase() === String(claims.appid).toLowerCase());
      if (!app) throw unauthorized(req, resource, 'Access token validation failure. The application was not found in the tenant.');
    }
    const roles = Array.isArray(claims.roles) ? (claims.roles as string[]) : [];
    const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
    if (anyOf?.length) {
      const held = new Set([...roles, ...scopes].map((r) => r.toLowerCase()));
      if (!anyOf.some((r) => held.has(r.toLowerCase()))) throw forbidden(req, resource, roles, anyOf);
    }
    return { tenant, app, audience: String(claims.aud), roles, claims };
  };
}
