import { randomUUID } from 'node:crypto';
import {
  AuthenticationHandler,
  Client,
  GraphError,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type AuthenticationProvider,
} from '@microsoft/microsoft-graph-client';
import { Logger, type LoggerService } from '@nestjs/common';
import type { Clouds } from './clouds';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import { GraphTransportMiddleware } from './graph-transport.middleware';
import { TransportError, type HttpsTransport } from './https-transport';
import { classify, parseErrorBody, withoutQuery } from './microsoft-error.mapper';
import { ForeignHostError, MicrosoftApiError } from './microsoft-errors';
import { DEFAULT_BACKOFF, backoffDelayMs, parseRetryAfter, shouldRetry } from './retry-policy';
import { tenantKey, type TenantCredentials } from './tenant-credentials';
import type { TokenProvider } from './token-provider';

/**
 * Microsoft Graph clients per tenant (`@microsoft/microsoft-graph-client`), on the tenant cloud's Graph
 * host, with tokens from the TokenProvider and our transport (extra CA, host allow-list, concurrency).
 *
 * The client's RetryHandler stays: it retries 429/503/504 and honours Retry-After (reference §6.3,
 * trap 23). We set its attempts from configuration and keep it off POST after a 504 (the action may
 * have run; see retry-policy.ts). What it does not cover — a 401 (one token refresh), network errors
 * on idempotent calls, error mapping, following `@odata.nextLink` — TenantGraphClient does.
 */

export const GRAPH_VERSION = 'v1.0';
/** RetryHandler's own default and first delay without Retry-After (§6.3). */
const GRAPH_RETRY_DELAY_SECONDS = 3;
/** RetryHandler refuses more than 10 (§6.3). */
const GRAPH_MAX_RETRIES_LIMIT = 10;

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
  private readonly logger: LoggerService;

  constructor(private readonly options: GraphClientFactoryOptions) {
    this.logger = options.logger ?? new Logger(GraphClientFactory.name);
  }

  forTenant(tenant: TenantCredentials): TenantGraphClient {
    const { clouds, tokens, transport, limiter, timeoutMs, maxRetries } = this.options;
    const baseUrl = clouds.baseUrl(tenant.cloud, 'graph');
    const failures = new Map<string, Error>();
    const authProvider: AuthenticationProvider = { getAccessToken: () => tokens.getToken(tenant, 'graph') };
    const retryOptions = new RetryHandlerOptions(
      GRAPH_RETRY_DELAY_SECONDS,
      Math.min(maxRetries, GRAPH_MAX_RETRIES_LIMIT),
      (_delay, _attempt, request, fetchOptions, response) => !(fetchOptions?.method?.toUpperCase() === 'POST' && response.status === 504),
    );
    const chain = [
      new AuthenticationHandler(authProvider),
      new RetryHandler(retryOptions),
      new TelemetryHandler(),
      new GraphTransportMiddleware({ cloud: tenant.cloud, clouds, transport, limiter, laneKey: `${tenantKey(tenant)}|graph`, timeoutMs, logger: this.logger, failures }),
    ];
    const client = Client.initWithMiddleware({
      middleware: chain,
      baseUrl,
      defaultVersion: GRAPH_VERSION,
      // The AuthenticationHandler only adds the token for known Graph hosts or these (host names,
      // no port); our transport then checks host and port exactly.
      customHosts: new Set([new URL(baseUrl).hostname]),
    });
    return new TenantGraphClient(tenant, client, failures, this.options, this.logger);
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

/** One tenant's Graph: the raw SDK client plus calls with Cordon's error and retry rules. */
export class TenantGraphClient {
  constructor(
    readonly tenant: TenantCredentials,
    /** The SDK client, for what the helpers below do not cover; map its errors with `toMicrosoftApiError`. */
    readonly client: Client,
    private readonly failures: Map<string, Error>,
    private readonly options: GraphClientFactoryOptions,
    private readonly logger: LoggerService,
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
      try {
        this.options.clouds.assertFollowable(this.tenant.cloud, next, 'graph');
      } catch (error) {
        if (error instanceof ForeignHostError) {
          this.logger.warn(`refused to follow an @odata.nextLink for tenant ${this.tenant.tenantId}: ${error.message}`);
        }
        throw error;
      }
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

  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, options: GraphCallOptions): Promise<T> {
    let refreshed = false;
    let networkRetries = 0;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      // Fetched here (the AuthenticationHandler then finds it cached) so that a refused credential
      // surfaces as MicrosoftAuthError, not as a GraphError that has lost its type.
      await this.options.tokens.getToken(this.tenant, 'graph');
      const clientRequestId = options.clientRequestId ?? randomUUID();
      const request = this.client.api(path).headers({ ...(options.headers ?? {}), 'client-request-id': clientRequestId });
      if (options.query) request.query(definedOnly(options.query));
      try {
        switch (method) {
          case 'GET':
            return (await request.get()) as T;
          case 'POST':
            return (await request.post(body)) as T;
          case 'PATCH':
            return (await request.patch(body)) as T;
          case 'DELETE':
            return (await request.delete()) as T;
        }
      } catch (error) {
        const typed = this.failures.get(clientRequestId);
        this.failures.delete(clientRequestId);
        if (typed instanceof ForeignHostError) throw typed;
        const url = this.describeUrl(path);
        const mapped = typed instanceof TransportError ? transportError(typed, method, url, clientRequestId, attempts) : toMicrosoftApiError(error, method, url, attempts);
        if (mapped.kind === 'unauthorized' && !refreshed) {
          refreshed = true;
          this.options.tokens.invalidate(this.tenant, 'graph');
          continue;
        }
        // RetryHandler already retried 429/503/504; what is left to us are failures without an answer.
        if ((mapped.kind === 'network' || mapped.kind === 'timeout') && networkRetries < this.options.maxRetries && shouldRetry(mapped)) {
          networkRetries += 1;
          const delayMs = backoffDelayMs(networkRetries, undefined, DEFAULT_BACKOFF, this.options.random);
          this.logger.warn(`graph ${method} ${url} for tenant ${this.tenant.tenantId}: ${mapped.kind}; retry ${networkRetries}/${this.options.maxRetries} in ${delayMs} ms`);
          await (this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delayMs);
          continue;
        }
        throw mapped;
      }
    }
  }

  private describeUrl(path: string): string {
    try {
      const base = `${this.options.clouds.baseUrl(this.tenant.cloud, 'graph')}/${GRAPH_VERSION}/`;
      return withoutQuery(new URL(/^https?:/i.test(path) ? path : path.replace(/^\/+/, ''), base));
    } catch {
      return path;
    }
  }
}

/** A GraphError (or anything the Graph client threw) as a MicrosoftApiError. */
export function toMicrosoftApiError(error: unknown, method: string, url: string, attempts = 1): MicrosoftApiError {
  if (error instanceof MicrosoftApiError) return error;
  if (error instanceof GraphError && error.statusCode > 0) {
    const parsed = parseErrorBody(safeJson(error.body) ?? { error: { code: error.code, message: error.message } });
    const code = error.code ?? parsed.code;
    const headers = error.headers;
    return new MicrosoftApiError({
      kind: classify(error.statusCode, code ?? undefined, error.message),
      resource: 'graph',
      status: error.statusCode,
      code: code ?? undefined,
      message: error.message || parsed.message || `HTTP ${error.statusCode}`,
      requestId: error.requestId ?? parsed.requestId ?? headers?.get('request-id') ?? undefined,
      retryAfterSeconds: parseRetryAfter(headers?.get('retry-after'), Date.now()),
      method,
      url,
      attempts,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new MicrosoftApiError({ kind: 'network', resource: 'graph', status: 0, message, method, url, attempts });
}

function transportError(error: TransportError, method: string, url: string, requestId: string, attempts: number): MicrosoftApiError {
  return new MicrosoftApiError({ kind: error.kind, resource: 'graph', status: 0, message: error.message, requestId, method, url, attempts });
}

function safeJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return { error: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function definedOnly(query: GraphQuery): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
}
