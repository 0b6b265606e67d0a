import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import type { Clouds, MicrosoftResource } from './clouds';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import { TransportError, type HttpsTransport, type TransportResponse } from './https-transport';
import { errorFromResponse, withoutQuery } from './microsoft-error.mapper';
import { ForeignHostError, MicrosoftApiError } from './microsoft-errors';
import { DEFAULT_BACKOFF, backoffDelayMs, shouldRetry, type BackoffSettings } from './retry-policy';
import { tenantKey, type TenantCredentials } from './tenant-credentials';
import type { TokenProvider } from './token-provider';

/**
 * Calls to the Microsoft APIs that have no SDK here — the Office 365 Management Activity API and
 * Defender for Endpoint (Graph goes through GraphClientFactory). One request: token, timeout,
 * retries with back-off (rules in retry-policy.ts), one token refresh on 401, a per-tenant
 * concurrency limit, and typed errors.
 */

export type QueryValue = string | number | boolean | undefined;

export interface MicrosoftRequest {
  tenant: TenantCredentials;
  resource: MicrosoftResource;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * A path on the resource's base URL of the tenant's cloud (`/api/machines`), or an absolute URL
   * taken from a response (`NextPageUri`, `contentUri`, `@odata.nextLink`): absolute URLs must pass
   * the follow-URL rule and are used verbatim (§2.2: "Follow the header verbatim").
   */
  url: string;
  /** Added to the query; a name the URL already carries is left as it is. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the configured per-request timeout. */
  timeoutMs?: number;
}

export interface MicrosoftResponse<T = unknown> {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON; text for other content; undefined when empty. */
  body: T;
  requestId?: string;
  /** The Management API's next page (§2.2), to be passed back as `url` as it is. */
  nextPageUri?: string;
}

export interface MicrosoftHttpOptions {
  clouds: Clouds;
  tokens: TokenProvider;
  transport: HttpsTransport;
  limiter: ConcurrencyLimiter;
  timeoutMs: number;
  maxRetries: number;
  backoff?: BackoffSettings;
  /** Waits between attempts (tests pass a recording fake). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  logger?: LoggerService;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class MicrosoftHttp {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly logger: LoggerService;

  constructor(private readonly options: MicrosoftHttpOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? new Logger(MicrosoftHttp.name);
  }

  async request<T = unknown>(request: MicrosoftRequest): Promise<MicrosoftResponse<T>> {
    const { tenant, resource } = request;
    const method = request.method ?? 'GET';
    const url = this.resolveUrl(request);
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const laneKey = `${tenantKey(tenant)}|${resource}`;
    let attempts = 0;
    let retries = 0;
    let refreshed = false;

    for (;;) {
      attempts += 1;
      const token = await this.options.tokens.getToken(tenant, resource);
      const clientRequestId = randomUUID();
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...lowerCaseKeys(request.headers),
        'client-request-id': clientRequestId,
        authorization: `Bearer ${token}`,
      };
      if (payload !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }

      let failure: MicrosoftApiError;
      try {
        const response = await this.options.limiter.run(laneKey, () =>
          this.options.transport.send({ method, url, headers, body: payload, timeoutMs: request.timeoutMs ?? this.options.timeoutMs }),
        );
        const body = parseBody(response);
        if (response.status < 400) {
          return {
            status: response.status,
            headers: response.headers,
            body: body as T,
            requestId: response.headers['request-id'] ?? response.headers['x-ms-request-id'] ?? response.headers['client-request-id'] ?? clientRequestId,
            nextPageUri: response.headers['nextpageuri'],
          };
        }
        failure = errorFromResponse({ resource, method, url, status: response.status, headers: response.headers, body, attempts, nowMs: this.now() });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        failure = new MicrosoftApiError({
          kind: error.kind,
          resource,
          status: 0,
          message: error.message,
          requestId: clientRequestId,
          method,
          url: withoutQuery(url),
          attempts,
        });
      }

      if (failure.kind === 'unauthorized' && !refreshed) {
        // An expired or revoked token: fetch a new one once (§2.6: renew the token on 401).
        refreshed = true;
        this.options.tokens.invalidate(tenant, resource, token);
        continue;
      }
      if (retries < this.options.maxRetries && shouldRetry({ method, kind: failure.kind, status: failure.status, code: failure.code })) {
        retries += 1;
        const delayMs = backoffDelayMs(retries, failure.retryAfterSeconds, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
        this.logger.warn(
          `${resource} ${method} ${url.host}${url.pathname} for tenant ${tenant.tenantId}: ${failure.kind} (${failure.status || 'no answer'}${failure.code ? ` ${failure.code}` : ''}); retry ${retries}/${this.options.maxRetries} in ${delayMs} ms`,
        );
        await this.sleep(delayMs);
        continue;
      }
      throw failure;
    }
  }

  private resolveUrl(request: MicrosoftRequest): URL {
    const { clouds } = this.options;
    const { tenant, resource } = request;
    let url: URL;
    if (/^[a-z][a-z0-9+.-]*:/i.test(request.url)) {
      try {
        url = clouds.assertFollowable(tenant.cloud, request.url, resource);
      } catch (error) {
        if (error instanceof ForeignHostError) {
          this.logger.warn(`refused to follow a ${resource} URL for tenant ${tenant.tenantId}: ${error.message}`);
        }
        throw error;
      }
    } else {
      const path = request.url.startsWith('/') ? request.url : `/${request.url}`;
      url = new URL(`${clouds.baseUrl(tenant.cloud, resource)}${path}`);
    }
    return appendQuery(url, request.query);
  }
}

/** Appends parameters the URL does not carry yet, leaving its own query exactly as it was. */
export function appendQuery(url: URL, query: Record<string, QueryValue> | undefined): URL {
  if (!query) return url;
  const present = new Set([...url.searchParams.keys()].map((k) => k.toLowerCase()));
  const extra = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && !present.has(name.toLowerCase())) extra.append(name, String(value));
  }
  const text = extra.toString();
  if (!text) return url;
  return new URL(`${url.href}${url.search ? '&' : '?'}${text}`);
}

function parseBody(response: TransportResponse): unknown {
  if (response.body.length === 0) return undefined;
  const text = response.body.toString('utf8');
  if (/json/i.test(response.headers['content-type'] ?? '') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}
