import { verifyClientAssertion } from './client-assertion';
import { aadstsError, aadstsResponse } from './errors';
import { isGuid } from './ids';
import { MICROSOFT_RESOURCES, resolveResource, type ResolvedResource } from './resources';
import { CORDON_PERMISSIONS } from './scenario';
import type { TokenService } from './tokens';
import type { SimApp, SimContext, SimRequest, SimResponse, SimRoute, SimTenant } from './types';

/**
 * The Entra ID login host (microsoft-notes §1): the v2.0 token endpoint for the client-credentials grant
 * (secret in the form or HTTP Basic, or a certificate client_assertion), OpenID discovery, JWKS and
 * the instance-discovery document MSAL asks for.
 */

const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };
const NO_STORE = { ...JSON_CT, 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };
const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function form(req: SimRequest): Record<string, string> {
  return req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, string>) : {};
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`. */
function basicCredentials(req: SimRequest): { id: string; secret: string } | undefined {
  const h = req.headers.authorization;
  const m = /^Basic\s+(\S+)$/i.exec((Array.isArray(h) ? h[0] : h) ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
}

export function entraModule(ctx: SimContext, tokens: TokenService): SimRoute[] {
  const now = () => ctx.clock.now();
  const login = () => ctx.baseUrls().login;
  const hostPort = () => new URL(login()).host;

  const missing = (name: string) => aadstsError(now(), 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

  function tenantOr400(param: string, errorName = 'invalid_request'): SimTenant {
    const tenant = ctx.findTenant(param);
    if (tenant) return tenant;
    if (!isGuid(param) && !param.includes('.') && !MULTI_TENANT.has(param.toLowerCase())) {
      throw aadstsError(now(), 400, errorName, 900023, `Specified tenant identifier '${param}' is neither a valid DNS name, nor a valid external domain.`);
    }
    throw aadstsError(
      now(),
      400,
      errorName,
      90002,
      `Tenant '${param}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }

  /** Scope rules (microsoft-notes §1.1): `{resource}/.default`, one resource per request. */
  function resolveScopes(scope: string): ResolvedResource {
    const scopes = scope.split(/\s+/).filter(Boolean);
    if (!scopes.length) throw missing('scope');
    const resolved: ResolvedResource[] = [];
    for (const s of scopes) {
      if (!s.toLowerCase().endsWith('/.default')) {
        if (!s.includes('/')) {
          throw aadstsError(
            now(),
            400,
            'invalid_scope',
            70011,
            `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
          );
        }
        throw aadstsError(
          now(),
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      }
      const resource = s.slice(0, -'/.default'.length);
      const r = resolveResource(resource, ctx.baseUrls());
      if (!r) {
        throw aadstsError(
          now(),
          400,
          'invalid_resource',
          500011,
          `The resource principal named ${resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        );
      }
      resolved.push(r);
    }
    if (new Set(resolved.map((r) => r.audience.toLowerCase())).size > 1) {
      throw aadstsError(
        now(),
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. Scopes for more than one resource were requested.`,
      );
    }
    return resolved[0];
  }

  function authenticate(req: SimRequest, tenantParam: string, tenant: SimTenant, app: SimApp, f: Record<string, string>, basicSecret?: string): '1' | '2' {
    const secret = f.client_secret ?? basicSecret;
    if (f.client_assertion !== undefined || f.client_assertion_type !== undefined) {
      if (f.client_assertion_type !== JWT_BEARER) {
        throw aadstsError(now(), 400, 'invalid_request', 50027, `Invalid client_assertion_type '${f.client_assertion_type ?? ''}'; expected ${JWT_BEARER}.`);
      }
      if (!f.client_assertion) throw missing('client_assertion');
      const base = login();
      const audiences = [tenantParam, tenant.tenantId, ...tenant.domains].map((t) => `${base}/${t}/oauth2/v2.0/token`);
      const result = verifyClientAssertion(f.client_assertion, { app, clientId: app.clientId, audiences, nowSeconds: Math.floor(ctx.clock.nowMs() / 1000) });
      if (!result.ok) throw aadstsError(now(), 401, 'invalid_client', result.aadsts, result.message);
      return '2';
    }
    if (secret === undefined) {
      throw aadstsError(now(), 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (app.clientSecrets.includes(secret)) return '1';
    if (app.expiredClientSecrets?.includes(secret)) {
      throw aadstsError(
        now(),
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
      );
    }
    throw aadstsError(
      now(),
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }

  function token(req: SimRequest): SimResponse {
    const tenantParam = req.params.tenant;
    const tenant = tenantOr400(tenantParam);
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    if (!ct.includes('application/x-www-form-urlencoded')) throw missing('grant_type');
    const f = form(req);
    const basic = basicCredentials(req);
    if (!f.grant_type) throw missing('grant_type');
    if (f.grant_type !== 'client_credentials') {
      throw aadstsError(now(), 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${f.grant_type}'.`);
    }
    const clientId = f.client_id ?? basic?.id;
    if (!clientId) throw missing('client_id');
    if (!isGuid(clientId)) {
      throw aadstsError(now(), 400, 'unauthorized_client', 700038, `${clientId} is not a valid application identifier.`);
    }
    const app = tenant.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
    if (!app) {
      throw aadstsError(
        now(),
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (f.scope === undefined) throw missing('scope');
    const resource = resolveScopes(f.scope);
    const appidacr = authenticate(req, tenantParam, tenant, app, f, basic?.secret);
    const roles = app.permissions[resource.host] ?? [];
    const minted = tokens.mintAppToken(tenant, app, resource.audience, roles, appidacr);
    return {
      status: 200,
      headers: NO_STORE,
      body: { token_type: 'Bearer', expires_in: minted.expires_in, ext_expires_in: minted.expires_in, access_token: minted.access_token },
    };
  }

  function openidConfiguration(req: SimRequest, version: 'v1' | 'v2'): SimResponse {
    const param = req.params.tenant;
    const multi = MULTI_TENANT.has(param.toLowerCase());
    const tenant = multi ? undefined : tenantOr400(param, 'invalid_tenant');
    const base = login();
    const t = tenant?.tenantId ?? param.toLowerCase();
    const tid = tenant?.tenantId ?? '{tenantid}';
    const v = version === 'v2' ? '/v2.0' : '';
    const o = version === 'v2' ? '/v2.0' : '';
    const body = {
      token_endpoint: `${base}/${t}/oauth2${o}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery${o}/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: version === 'v2' ? `${base}/${tid}${v}` : `https://sts.windows.net/${tid}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${ctx.baseUrls().graph}/oidc/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2${o}/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2${o}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2${o}/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: 'WW',
      cloud_instance_name: hostPort(),
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(ctx.baseUrls().graph).host,
      rbac_url: 'https://pas.windows.net',
    };
    return { status: 200, headers: JSON_CT, body };
  }

  function keys(req: SimRequest): SimResponse {
    const param = req.params.tenant;
    const tenant = MULTI_TENANT.has(param.toLowerCase()) ? undefined : tenantOr400(param, 'invalid_tenant');
    const issuer = tenant ? `${login()}/${tenant.tenantId}/v2.0` : `${login()}/{tenantid}/v2.0`;
    return { status: 200, headers: JSON_CT, body: tokens.jwks(issuer) };
  }

  /** Instance discovery (microsoft-notes §1.3): MSAL reads `tenant_discovery_endpoint` and `metadata[].aliases`. */
  function instance(req: SimRequest): SimResponse {
    const authz = req.query.get('authorization_endpoint');
    let tenant = 'common';
    if (authz) {
      try {
        tenant = new URL(authz).pathname.split('/').filter(Boolean)[0] ?? 'common';
      } catch {
        return aadstsResponse(now(), 400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
      }
    }
    const host = hostPort();
    return {
      status: 200,
      headers: JSON_CT,
      body: {
        tenant_discovery_endpoint: `${login()}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
    };
  }

  /** An error Entra shows on its own page instead of redirecting (unknown tenant or app, unregistered reply URL). */
  function consentPage(status: number, aadsts: number, message: string): SimResponse {
    const text = `AADSTS${aadsts}: ${message}`;
    return {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!DOCTYPE html><html><body><h1>Sorry, but we're having trouble signing you in.</h1><p>${text}</p></body></html>`,
    };
  }

  /**
   * The admin-consent endpoint (microsoft-notes M43): the simulated admin signs in and grants (or declines) the
   * app registration's `requiredResourceAccess`; the answer is a 302 to `redirect_uri` with
   * `admin_consent=True&tenant&scope&state`, or `error&error_description` — Microsoft may send
   * `admin_consent=True` together with `error`, so a client reads `error` first.
   */
  function adminConsent(req: SimRequest, version: 'v1' | 'v2'): SimResponse {
    const tenant = ctx.findTenant(req.params.tenant);
    if (!tenant) return consentPage(400, 90002, `Tenant '${req.params.tenant}' not found.`);
    const clientId = req.query.get('client_id') ?? '';
    if (!clientId) return consentPage(400, 900144, "The request body must contain the following parameter: 'client_id'.");
    const app = tenant.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
    if (!app) {
      return consentPage(400, 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'.`);
    }
    const redirectUri = req.query.get('redirect_uri') ?? app.replyUrls?.[0];
    if (!redirectUri) return consentPage(400, 900144, "The request body must contain the following parameter: 'redirect_uri'.");
    if (app.replyUrls && !app.replyUrls.includes(redirectUri)) {
      return consentPage(
        400,
        50011,
        `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'.`,
      );
    }
    let target: URL;
    try {
      target = new URL(redirectUri);
    } catch {
      return consentPage(400, 50011, `The redirect URI '${redirectUri}' specified in the request is not a valid URI.`);
    }
    const state = req.query.get('state');
    const redirect = (params: Record<string, string>): SimResponse => {
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { location: target.toString(), 'cache-control': 'no-store, no-cache' }, body: '' };
    };
    const scope = req.query.get('scope') ?? '';
    const scopes = scope.split(/\s+/).filter(Boolean);
    if (version === 'v2' && !scopes.length) {
      return redirect({ error: 'invalid_request', error_description: "AADSTS900144: The request body must contain the following parameter: 'scope'." });
    }
    for (const s of scopes) {
      const resource = s.replace(/\/[^/]*$/, '');
      if (!resolveResource(resource, ctx.baseUrls())) {
        return redirect({
          error: 'invalid_client',
          error_description: `AADSTS650053: The application '${app.displayName}' asked for scope '${s}' that doesn't exist on the resource.`,
        });
      }
    }
    if (app.consentOutcome === 'decline') {
      return redirect({ admin_consent: 'True', error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.' });
    }
    const requested = app.requiredResourceAccess ?? CORDON_PERMISSIONS;
    for (const host of ['graph', 'manage', 'defender'] as const) {
      const add = requested[host] ?? [];
      app.permissions[host] = [...new Set([...app.permissions[host], ...add])];
    }
    const granted = (['graph', 'manage', 'defender'] as const).flatMap((host) => {
      const uri = MICROSOFT_RESOURCES.find((r) => r.host === host)!.uri;
      return app.permissions[host].map((p) => `${uri}/${p}`);
    });
    return redirect({ admin_consent: 'True', tenant: tenant.tenantId, ...(version === 'v2' ? { scope: granted.join(' ') } : {}) });
  }

  return [
    { host: 'login', method: 'POST', pattern: '/:tenant/oauth2/v2.0/token', handler: token },
    { host: 'login', method: 'GET', pattern: '/:tenant/v2.0/adminconsent', handler: (r) => adminConsent(r, 'v2') },
    { host: 'login', method: 'GET', pattern: '/:tenant/adminconsent', handler: (r) => adminConsent(r, 'v1') },
    { host: 'login', method: 'GET', pattern: '/:tenant/v2.0/.well-known/openid-configuration', handler: (r) => openidConfiguration(r, 'v2') },
    { host: 'login', method: 'GET', pattern: '/:tenant/.well-known/openid-configuration', handler: (r) => openidConfiguration(r, 'v1') },
    { host: 'login', method: 'GET', pattern: '/:tenant/discovery/v2.0/keys', handler: keys },
    { host: 'login', method: 'GET', pattern: '/:tenant/discovery/keys', handler: keys },
    { host: 'login', method: 'GET', pattern: '/common/discovery/instance', handler: instance },
  ];
}
