import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Logger, type LoggerService } from '@nestjs/common';
import { ForeignHostError, type Clouds, type MicrosoftResource } from './clouds';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import { TransportError, type HttpsTransport, type TransportRequest, type TransportResponse, type TransportStreamResponse } from './https-transport';
import { errorFromResponse, withoutQuery } from './microsoft-error.mapper';
import { MicrosoftApiError } from './microsoft-errors';
import { DEFAULT_BACKOFF, backoffDelayMs, shouldRetry, type BackoffSettings } from './retry-policy';
import { tenantKey, type TenantCredentials } from './tenant-credentials';
import type { TokenProvider } from './token-provider';

/**
 * Calls to the Microsoft APIs — Graph (through GraphClientFactory, which adds its paths and paging),
 * the Office 365 Management Activity API and Defender for Endpoint. One request: token, timeout,
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
   * the follow-URL rule and are used verbatim (microsoft-notes §2.2, M2).
   */
  url: string;
  /** Added to the query; a name the URL already carries is left as it is. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the configured per-request timeout. */
  timeoutMs?: number;
  /**
   * Sent as `client-request-id` on every attempt (Graph echoes it as `request-id`, and Microsoft
   * support can trace it); default: a new GUID per attempt.
   */
  clientRequestId?: string;
}

export interface MicrosoftResponse<T = unknown> {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON; text for other content; undefined when empty. */
  body: T;
  requestId?: string;
  /** The Management API's next page (microsoft-notes §2.2), to be passed back as `url` as it is. */
  nextPageUri?: string;
}

/** A `stream` answer: a successful status line, the body still to be read. */
export interface MicrosoftStreamResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The body's bytes as they arrive; fails with a MicrosoftApiError (`network`, `timeout`). Read it once. */
  body: AsyncIterable<Buffer>;
  requestId?: string;
  nextPageUri?: string;
  /** Stops reading (when the caller gives up early); idempotent, and harmless after the end. */
  close(): void;
}

/** One attempt of a request, as `exchange` hands it to the mode that sends it. */
interface Attempt {
  method: string;
  url: URL;
  laneKey: string;
  clientRequestId: string;
  attempts: number;
  timeoutMs: number;
  transport: TransportRequest;
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
    return this.exchange(request, async (call) => {
      const response = await this.options.limiter.run(call.laneKey, () => this.options.transport.send(call.transport));
      const body = parseBody(response);
      if (response.status >= 400) return this.failureOf(request, call, response, body);
      return {
        ok: {
          status: response.status,
          headers: response.headers,
          body: body as T,
          requestId: answerRequestId(response.headers, call.clientRequestId),
          nextPageUri: response.headers['nextpageuri'],
        },
      };
    });
  }

  /**
   * Like `request`, for answers too large to hold whole (Management Activity content blobs): it
   * answers once a successful status line is in, with the body to be read as it arrives. Everything
   * up to the status line is as in `request` — token, 401 refresh, retries and back-off on throttling
   * and server errors (an error answer's body is read whole: it is small). Once the body flows,
   * nothing is retried: a broken or stalled body (no bytes for the timeout while the caller waits
   * for more) fails the iteration with a `network` or `timeout` MicrosoftApiError, and the caller
   * decides. The request keeps its concurrency slot until the body is read or closed: the caller
   * must read `body` to its end or call `close()`.
   */
  async stream(request: MicrosoftRequest): Promise<MicrosoftStreamResponse> {
    return this.exchange(request, async (call) => {
      const release = await this.slot(call.laneKey);
      let response: TransportStreamResponse;
      try {
        response = await this.options.transport.open(call.transport);
      } catch (error) {
        release();
        throw error;
      }
      if (response.status >= 400) {
        let body: Buffer;
        try {
          body = await readErrorBody(response.body, call.url);
        } finally {
          release();
        }
        return this.failureOf(
          request,
          call,
          { status: response.status, headers: response.headers, body },
          parseBody({ status: response.status, headers: response.headers, body }),
        );
      }
      const requestId = answerRequestId(response.headers, call.clientRequestId);
      const streamed = new StreamedBody(
        response.body,
        call.timeoutMs,
        release,
        (kind, message) =>
          new MicrosoftApiError({
            kind,
            resource: request.resource,
            status: response.status,
            message,
            requestId,
            method: call.method,
            url: withoutQuery(call.url),
            attempts: call.attempts,
          }),
      );
      return {
        ok: {
          status: response.status,
          headers: response.headers,
          requestId,
          nextPageUri: response.headers['nextpageuri'],
          body: streamed,
          close: () => streamed.close(),
        },
      };
    });
  }

  /**
   * One request's attempts: token, headers, `attempt` (which answers the result or the failure of a
   * sent request), then one token refresh on 401 and retries with back-off per the retry policy.
   */
  private async exchange<R>(request: MicrosoftRequest, attempt: (call: Attempt) => Promise<{ ok: R } | { failure: MicrosoftApiError }>): Promise<R> {
    const { tenant, resource } = request;
    const method = request.method ?? 'GET';
    const url = this.resolveUrl(request);
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const laneKey = `${tenantKey(tenant)}|${resource}`;
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs;
    let attempts = 0;
    let retries = 0;
    let refreshed = false;

    for (;;) {
      attempts += 1;
      const token = await this.options.tokens.getToken(tenant, resource);
      const clientRequestId = request.clientRequestId ?? randomUUID();
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...lowerCaseKeys(request.headers),
        'client-request-id': clientRequestId,
        authorization: `Bearer ${token}`,
      };
      // As Microsoft's Graph SDKs do: the retry's number, for Microsoft's side of the story.
      if (retries > 0) headers['retry-attempt'] = String(retries);
      if (payload !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }

      let failure: MicrosoftApiError;
      try {
        const outcome = await attempt({
          method,
          url,
          laneKey,
          clientRequestId,
          attempts,
          timeoutMs,
          transport: { method, url, headers, body: payload, timeoutMs },
        });
        if ('ok' in outcome) return outcome.ok;
        failure = outcome.failure;
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
        // An expired or revoked token: fetch a new one once (microsoft-notes §2.6: renew the token on 401).
        refreshed = true;
        this.options.tokens.invalidate(tenant, resource, token);
        continue;
      }
      if (failure.kind === 'forbidden' && !refreshed && (this.options.tokens.ageMs(tenant, resource, token) ?? 0) >= STALE_TOKEN_MS) {
        // A token keeps the roles it was issued with: one older than a minute may predate a grant made since
        // (by a consent, or noticed by another replica's probe). A 403 carried nothing out, so asking once more
        // with a fresh token is safe, writes included; a fresh token's 403 is the answer.
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

  private failureOf(request: MicrosoftRequest, call: Attempt, response: TransportResponse, body: unknown): { failure: MicrosoftApiError } {
    return {
      failure: errorFromResponse({
        resource: request.resource,
        method: call.method,
        url: call.url,
        status: response.status,
        headers: response.headers,
        body,
        attempts: call.attempts,
        nowMs: this.now(),
      }),
    };
  }

  /** Takes a concurrency slot of the lane and answers its release (for a request that outlives one call). */
  private slot(laneKey: string): Promise<() => void> {
    return new Promise((acquired) => {
      void this.options.limiter.run(laneKey, () => new Promise<void>((release) => acquired(release)));
    });
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

function answerRequestId(headers: Record<string, string>, clientRequestId: string): string {
  return headers['request-id'] ?? headers['x-ms-request-id'] ?? headers['client-request-id'] ?? clientRequestId;
}

/** A token at least this old is renewed once on a 403: it may predate a permission granted since. */
const STALE_TOKEN_MS = 60_000;

/** Error answers are small; more than this is not an error body worth keeping. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

async function readErrorBody(body: Readable, url: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk.subarray(0, MAX_ERROR_BODY_BYTES - size));
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch (error) {
    throw new TransportError('network', `${url.host}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}

/**
 * A streamed body: each wait for the next bytes is bounded by the timeout (time the caller spends
 * between reads does not count: it may be writing the previous batch to the database), failures
 * become MicrosoftApiErrors, and the concurrency slot is released exactly once, at the end, on a
 * failure, or on `close`.
 */
class StreamedBody implements AsyncIterable<Buffer> {
  private released = false;

  constructor(
    private readonly body: Readable,
    private readonly timeoutMs: number,
    private readonly release: () => void,
    private readonly failure: (kind: 'network' | 'timeout', message: string) => MicrosoftApiError,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const chunks = this.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      for (;;) {
        const next = await this.nextWithin(chunks);
        if (next.done) return;
        yield next.value;
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    this.body.destroy();
    this.release();
  }

  private async nextWithin(chunks: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.body.destroy(new Error('timed out'));
    }, this.timeoutMs);
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (error) {
      if (timedOut) throw this.failure('timeout', `no data for ${this.timeoutMs} ms while reading the response body`);
      throw this.failure('network', `the response body broke off: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) throw this.failure('timeout', `no data for ${this.timeoutMs} ms while reading the response body`);
    return next;
  }
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}
