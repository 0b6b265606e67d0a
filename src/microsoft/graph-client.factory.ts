import type { LoggerService } from '@nestjs/common';
import type { Clouds } from './clouds';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import type { HttpsTransport } from './https-transport';
import { MicrosoftHttp } from './microsoft-http';
import { DEFAULT_BACKOFF, type BackoffSettings } from './retry-policy';
import type { TenantCredentials } from './tenant-credentials';
import type { TokenProvider } from './token-provider';

/**
 * Microsoft Graph per tenant, on the tenant cloud's Graph host (`/v1.0`), through MicrosoftHttp: the
 * token of the tenant's app, a per-request timeout, one token refresh on 401, retries per
 * retry-policy.ts (429 and 503 on every method after `Retry-After` or back-off; 504 and dropped
 * connections only on idempotent methods, so a POST that may have run is never repeated), a
 * per-tenant concurrency limit and typed errors (MicrosoftApiError with Graph's code and request id).
 *
 * Graph used to go through `@microsoft/microsoft-graph-client`'s middleware chain. Its RetryHandler
 * covers fewer cases (microsoft-notes §6.3: 429/503/504 only, never a dropped connection), and at 50 concurrent
 * isolations its chain (a `Headers` and a `Response` per call, the body read through a web stream)
 * was about a tenth of Cordon's CPU for calls that are plain JSON over HTTPS.
 */

export const GRAPH_VERSION = 'v1.0';

/**
 * Back-off for Graph answers without Retry-After: from 1–2 s, doubling. Identity Protection allows one
 * request per second per tenant and throttles without Retry-After (microsoft-notes §3.5, M12): a retry sooner than
 * a second after its 429 would only be throttled again.
 */
export const GRAPH_BACKOFF: BackoffSettings = { ...DEFAULT_BACKOFF, baseMs: 2000 };

export interface GraphClientFactoryOptions {
  clouds: Clouds;
  tokens: TokenProvider;
  transport: HttpsTransport;
  limiter: ConcurrencyLimiter;
  timeoutMs: number;
  maxRetries: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  logger?: LoggerService;
}

export class GraphClientFactory {
  private readonly http: MicrosoftHttp;

  constructor(options: GraphClientFactoryOptions) {
    this.http = new MicrosoftHttp({ ...options, backoff: GRAPH_BACKOFF });
  }

  forTenant(tenant: TenantCredentials): TenantGraphClient {
    return new TenantGraphClient(tenant, this.http);
  }
}

export type GraphQuery = Record<string, string | number | boolean | undefined>;

export interface GraphCallOptions {
  query?: GraphQuery;
  headers?: Record<string, string>;
  /**
   * Sent as `client-request-id` (Graph echoes it as `request-id` and support can trace it); the same
   * id is kept across retries of the call. Default: a new GUID per attempt.
   */
  clientRequestId?: string;
}

interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

/** One tenant's Graph, with Cordon's error and retry rules. */
export class TenantGraphClient {
  constructor(
    readonly tenant: TenantCredentials,
    private readonly http: MicrosoftHttp,
  ) {}

  get<T>(path: string, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, body, options);
  }

  patch<T>(path: string, body: unknown, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('PATCH', path, body, options);
  }

  delete(path: string, options: GraphCallOptions = {}): Promise<void> {
    return this.call<void>('DELETE', path, undefined, options);
  }

  /**
   * Pages of a collection: the first request, then each `@odata.nextLink` as given, after the
   * follow-URL rule (a link off the tenant cloud's Graph host throws ForeignHostError, nothing sent).
   */
  async *pages<T>(path: string, options: GraphCallOptions = {}): AsyncGenerator<T[]> {
    let page = await this.get<GraphPage<T>>(path, options);
    for (;;) {
      yield page.value ?? [];
      const next = page['@odata.nextLink'];
      if (!next) return;
      page = await this.get<GraphPage<T>>(next, { headers: options.headers });
    }
  }

  /** Every item of a collection, following nextLinks; stops after `limit` items when given. */
  async all<T>(path: string, options: GraphCallOptions & { limit?: number } = {}): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.pages<T>(path, options)) {
      items.push(...page);
      if (options.limit !== undefined && items.length >= options.limit) return items.slice(0, options.limit);
    }
    return items;
  }

  /** A path is under `/v1.0` of the tenant cloud's Graph; an absolute URL (a nextLink) is used verbatim. */
  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, options: GraphCallOptions): Promise<T> {
    const url = /^https?:/i.test(path) ? path : `/${GRAPH_VERSION}/${path.replace(/^\/+/, '')}`;
    const response = await this.http.request<T>({
      tenant: this.tenant,
      resource: 'graph',
      method,
      url,
      query: options.query,
      body,
      headers: options.headers,
      clientRequestId: options.clientRequestId,
    });
    return response.body;
  }
}
