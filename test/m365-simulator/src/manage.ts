import { AuditGenerator } from './audit-generator';
import { manageErrorBody } from './errors';
import { isGuid } from './ids';
import { findContentType, manageOptions, type ContentType } from './manage-options';
import { CONTENT_ID_RE, TenantAuditIndex, type ContentTypeCounts } from './manage-store';
import { resolveWindow } from './manage-window';
import { SimError, type SimContext, type SimRequest, type SimResponse, type SimRoute, type SimTenant } from './types';

/**
 * Office 365 Management Activity API (microsoft-notes §2): subscriptions, content listing with NextPageUri
 * paging, content blobs, AF error codes, AF429 throttling (HTTP 403, no Retry-After; microsoft-notes §2.5) and the
 * misleading "Tenant … does not exist" answer when unified audit logging is off (microsoft-notes M6).
 */

const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };

interface Subscription {
  status: 'enabled' | 'disabled';
  webhook: { status: string; address: string; authId: string | null; expiration: string | null } | null;
}

export interface ManageDeps {
  /** Generated audit records per tenant id (`--generate-audit`). */
  generators: Map<string, AuditGenerator>;
}

export interface ManageModule {
  routes: SimRoute[];
  /** Per content type: records that exist, are available now, are still to come (for `/_sim/state`). */
  contentCounts(tenant: SimTenant): Record<ContentType, ContentTypeCounts>;
}

function fail(status: number, code: string, message: string): SimError {
  return new SimError({ status, headers: JSON_CT, body: manageErrorBody(code, message) });
}

export function manageModule(ctx: SimContext, deps: ManageDeps): ManageModule {
  const opts = manageOptions(ctx.scenario.manage);
  const startMs = ctx.clock.nowMs();
  const subscriptions = new Map<string, Map<ContentType, Subscription>>();
  const indexes = new Map<string, TenantAuditIndex>();
  const counters = new Map<string, { minute: number; count: number }>();

  for (const [tenantId, subs] of Object.entries(opts.subscriptions ?? {})) {
    const m = new Map<ContentType, Subscription>();
    for (const [type, status] of Object.entries(subs)) {
      const ct = findContentType(type);
      if (ct) m.set(ct, { status, webhook: null });
    }
    subscriptions.set(tenantId.toLowerCase(), m);
  }

  const subsOf = (t: SimTenant) => {
    let m = subscriptions.get(t.tenantId);
    if (!m) subscriptions.set(t.tenantId, (m = new Map()));
    return m;
  };
  const indexOf = (t: SimTenant) => {
    let i = indexes.get(t.tenantId);
    if (!i) indexes.set(t.tenantId, (i = new TenantAuditIndex(t, opts, startMs, deps.generators.get(t.tenantId))));
    return i;
  };

  /**
   * microsoft-notes §2.5: per-tenant budget with PublisherIdentifier; one shared (global) pool without it. Budgets
   * count per fixed window of simulated time (a minute unless the scenario shortens it).
   */
  function throttle(tenant: SimTenant, publisher: string | null, method: string) {
    const key = publisher ? `pub|${tenant.tenantId}` : 'shared';
    const limit = publisher ? opts.throttlePerMinute : opts.throttleSharedPerMinute;
    const minute = Math.floor(ctx.clock.nowMs() / opts.throttleWindowMs);
    const c = counters.get(key);
    if (!c || c.minute !== minute) counters.set(key, { minute, count: 1 });
    else if (++c.count > limit) {
      throw fail(403, 'AF429', `Too many requests. Method=${method}, PublisherId=${publisher ?? '00000000-0000-0000-0000-000000000000'}`);
    }
  }

  /** Checks shared by every operation; returns the tenant and the publisher id. */
  function prepare(req: SimRequest, method: string, contentType?: ContentType) {
    const tenantParam = req.params.tenant;
    const token = ctx.requireToken(req, 'manage');
    if (!isGuid(tenantParam)) throw fail(400, 'AF20013', `The tenant ID passed in the URL (${tenantParam}) is not a valid GUID.`);
    if (tenantParam.toLowerCase() !== token.tenant.tenantId) {
      throw fail(
        400,
        'AF20010',
        `The tenant ID passed in the URL (${tenantParam}) does not match the tenant ID passed in the access token (${token.tenant.tenantId}).`,
      );
    }
    const tenant = token.tenant;
    const publisher = req.query.get('PublisherIdentifier') ?? req.query.get('publisheridentifier');
    throttle(tenant, publisher, method);
    if (publisher !== null && !isGuid(publisher)) throw fail(400, 'AF20002', 'Invalid parameter type: PublisherIdentifier. Expected type: guid');
    const needed = contentType === 'DLP.All' ? 'ActivityFeed.ReadDlp' : 'ActivityFeed.Read';
    if (!token.roles.includes(needed)) {
      throw fail(403, 'AF10001', `The permission set (${token.roles.join(' ')}) sent in the request did not include the expected permission ${needed}.`);
    }
    if (!tenant.licences.unifiedAuditLog) {
      // microsoft-notes M6: what the service answers when audit logging was never turned on (seen by peers).
      const appId = String(token.claims.appid ?? '');
      throw fail(
        400,
        `${method} [CorrId=${req.requestId}][TenantId=${tenant.tenantId},ContentType=${contentType ?? ''},ApplicationId=${appId},PublisherId=${publisher ?? appId}][AppId=${appId}] failed. Exception`,
        `Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${tenant.tenantId} does not exist.\r\n   at Microsoft.Office.Compliance.Audit.API.AzureManager.GetSubscriptionTableClientForTenantAsync(Guid tenantId)`,
      );
    }
    return { tenant, publisher };
  }

  function contentTypeParam(req: SimRequest): ContentType {
    const raw = req.query.get('contentType');
    if (!raw) throw fail(400, 'AF20001', 'Missing parameter: contentType.');
    const ct = findContentType(raw);
    if (!ct) throw fail(400, 'AF20020', 'The specified content type is not valid.');
    return ct;
  }

  /** contentType is validated after auth, but DLP.All needs its own permission: peek first. */
  const peekType = (req: SimRequest) => findContentType(req.query.get('contentType'));

  function start(req: SimRequest): SimResponse {
    const { tenant } = prepare(req, 'StartSubscription', peekType(req));
    const ct = contentTypeParam(req);
    const body = (req.body ?? {}) as { webhook?: { address?: string; authId?: string; expiration?: string } };
    let webhook: Subscription['webhook'] = null;
    if (body.webhook && typeof body.webhook === 'object') {
      const address = String(body.webhook.address ?? '');
      if (!/^https:\/\//i.test(address))
        throw fail(400, 'AF20021', `The webhook endpoint {${address}) could not be validated. The address must begin with HTTPS.`);
      const exp = body.webhook.expiration;
      if (exp && Date.parse(exp) < ctx.clock.nowMs()) throw fail(400, 'AF20003', `Expiration ${exp} provided is set to past date and time.`);
      // [not emulated] the validation POST to the webhook and notification delivery (microsoft-notes §2.4).
      webhook = { status: 'enabled', address, authId: body.webhook.authId ?? null, expiration: exp || null };
    }
    const subs = subsOf(tenant);
    const existing = subs.get(ct);
    if (existing?.status === 'enabled' && JSON.stringify(existing.webhook) === JSON.stringify(webhook)) {
      // microsoft-notes §2.2: undocumented, means "already enabled"; clients must treat it as success.
      throw fail(400, 'AF20024', 'The subscription is already enabled. No property change.');
    }
    subs.set(ct, { status: 'enabled', webhook });
    return { status: 200, headers: JSON_CT, body: { contentType: ct, status: 'enabled', webhook } };
  }

  function stop(req: SimRequest): SimResponse {
    const { tenant } = prepare(req, 'StopSubscription', peekType(req));
    const ct = contentTypeParam(req);
    const sub = subsOf(tenant).get(ct);
    if (!sub) throw fail(400, 'AF20022', 'No subscription found for the specified content type.');
    sub.status = 'disabled';
    return { status: 200 };
  }

  function list(req: SimRequest): SimResponse {
    const { tenant } = prepare(req, 'ListSubscriptions');
    const body = [...subsOf(tenant)].map(([contentType, s]) => ({ contentType, status: s.status, webhook: s.webhook }));
    return { status: 200, headers: JSON_CT, body };
  }

  function requireEnabled(tenant: SimTenant, ct: ContentType) {
    const sub = subsOf(tenant).get(ct);
    if (!sub) throw fail(400, 'AF20022', 'No subscription found for the specified content type.');
    if (sub.status !== 'enabled') throw fail(400, 'AF20023', 'The subscription was disabled by a tenant admin.');
  }

  function content(req: SimRequest): SimResponse {
    const { tenant, publisher } = prepare(req, 'ListContent', peekType(req));
    const ct = contentTypeParam(req);
    requireEnabled(tenant, ct);
    const nextPage = req.query.get('nextPage');
    let offset = 0;
    if (nextPage !== null) {
      const m = /^\d{14}R(\d{9})$/.exec(nextPage);
      if (!m) throw fail(400, 'AF20031', `Invalid nextPage Input: ${nextPage}.`);
      offset = Number(m[1]);
    }
    const nowMs = ctx.clock.nowMs();
    const w = resolveWindow(req.query.get('startTime'), req.query.get('endTime'), nowMs, opts, nextPage !== null);
    if (!w.ok) throw fail(400, w.code, w.message);
    const blobs = indexOf(tenant).list(ct, w.startMs, w.endMs, nowMs);
    if (offset > blobs.length) throw fail(400, 'AF20031', `Invalid nextPage Input: ${nextPage}.`);
    const page = blobs.slice(offset, offset + opts.pageSize);
    const base = `${req.baseUrl}/api/v1.0/${tenant.tenantId}/activity/feed/audit/`;
    const body = page.map((b) => ({
      contentType: b.contentType,
      contentId: b.contentId,
      contentUri: base + b.contentId,
      contentCreated: new Date(b.createdMs).toISOString(),
      contentExpiration: new Date(b.createdMs + opts.contentRetentionMs).toISOString(),
    }));
    const headers: Record<string, string> = { ...JSON_CT };
    const nextOffset = offset + page.length;
    if (nextOffset < blobs.length) {
      // Times stay readable (`2025-03-03T00:00`), as in the doc's sample.
      const enc = (v: string) => encodeURIComponent(v).replace(/%3A/gi, ':');
      const q = `contentType=${ct}&startTime=${enc(w.startText)}&endTime=${enc(w.endText)}${publisher ? `&PublisherIdentifier=${enc(publisher)}` : ''}`;
      const token = `${new Date(blobs[nextOffset].createdMs).toISOString().replace(/\D/g, '').slice(0, 14)}R${String(nextOffset).padStart(9, '0')}`;
      // microsoft-notes §2.2 / M2: the header is NextPageUri and its URL may say /api/v1/: clients must follow it verbatim.
      headers.NextPageUri = `${req.baseUrl}/api/v1/${tenant.tenantId}/activity/feed/subscriptions/content?${q}&nextPage=${token}`;
    }
    return { status: 200, headers, body };
  }

  function blob(req: SimRequest): SimResponse {
    const id = req.params.contentId;
    const type = CONTENT_ID_RE.test(id) ? findContentType(id.split('$')[3].replace('_', '.')) : undefined;
    const { tenant } = prepare(req, 'GetBlob', type);
    // microsoft-notes §2.2: contentUri must be used verbatim; a `$` encoded as %24 makes the id invalid [unverified].
    if (!type || /%24/i.test(req.rawPath ?? '')) throw fail(400, 'AF20052', `Content ID ${id} in the URL is invalid.`);
    const nowMs = ctx.clock.nowMs();
    const b = indexOf(tenant).get(id, nowMs);
    if (!b) throw fail(400, 'AF20050', `The specified content (${id}) does not exist.`);
    if (b.createdMs + opts.contentRetentionMs <= nowMs) {
      throw fail(400, 'AF20051', `Content requested with the key ${id} has already expired. Content older than 7 days cannot be retrieved.`);
    }
    return { status: 200, headers: JSON_CT, body: indexOf(tenant).body(b) };
  }

  function notifications(req: SimRequest): SimResponse {
    const { tenant } = prepare(req, 'ListNotifications', peekType(req));
    const ct = contentTypeParam(req);
    requireEnabled(tenant, ct);
    const w = resolveWindow(req.query.get('startTime'), req.query.get('endTime'), ctx.clock.nowMs(), opts);
    if (!w.ok) throw fail(400, w.code, w.message);
    return { status: 200, headers: JSON_CT, body: [] }; // no webhook is ever notified
  }

  function dlpSensitiveTypes(req: SimRequest): SimResponse {
    prepare(req, 'GetDlpSensitiveTypes');
    const lang = String(req.headers['accept-language'] ?? '');
    if (lang.includes(',')) throw fail(400, 'AF20053', 'Only one language may be present in the Accept-Language header.');
    if (lang && !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i.test(lang.trim())) throw fail(400, 'AF20054', 'Invalid syntax in Accept-Language header.');
    return {
      status: 200,
      headers: JSON_CT,
      body: [
        { id: '50842eb7-edc8-4019-85dd-5a5c1f2bb085', name: 'Credit Card Number' },
        { id: 'a44669fe-0d48-453d-a9b1-2cc83f2cba77', name: 'U.S. Social Security Number (SSN)' },
        { id: 'e55e2a32-f92d-4985-a35d-a0b269eb687b', name: 'International Banking Account Number (IBAN)' },
      ],
    };
  }

  // Index generated records now, so the first listing is not the slow one.
  for (const tenantId of deps.generators.keys()) {
    const t = ctx.tenants.get(tenantId);
    if (t) indexOf(t);
  }

  const routes: SimRoute[] = [];
  // Both /api/v1.0/ and /api/v1/ are served: NextPageUri says /api/v1/ (microsoft-notes §2.2).
  for (const v of ['v1.0', 'v1']) {
    const p = `/api/${v}/:tenant/activity/feed`;
    routes.push(
      { host: 'manage', method: 'POST', pattern: `${p}/subscriptions/start`, handler: start },
      { host: 'manage', method: 'POST', pattern: `${p}/subscriptions/stop`, handler: stop },
      { host: 'manage', method: 'GET', pattern: `${p}/subscriptions/list`, handler: list },
      { host: 'manage', method: 'GET', pattern: `${p}/subscriptions/content`, handler: content },
      { host: 'manage', method: 'GET', pattern: `${p}/subscriptions/notifications`, handler: notifications },
      { host: 'manage', method: 'GET', pattern: `${p}/audit/:contentId`, handler: blob },
      { host: 'manage', method: 'GET', pattern: `${p}/resources/dlpSensitiveTypes`, handler: dlpSensitiveTypes },
    );
  }
  return { routes, contentCounts: (tenant) => indexOf(tenant).counts(ctx.clock.nowMs()) };
}
