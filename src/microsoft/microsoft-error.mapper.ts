import type { MicrosoftResource } from './clouds';
import { MicrosoftApiError, type MicrosoftErrorKind } from './microsoft-errors';
import { parseRetryAfter } from './retry-policy';

/**
 * Turns a failed Microsoft answer into a MicrosoftApiError. Error bodies differ per service:
 * - Graph (microsoft-notes §6.1): `{"error":{"code","message","innerError":{"request-id","client-request-id","date"}}}`
 * - Management Activity API (microsoft-notes §2.6): `{"error":{"code":"AFxxxxx","message"}}`; ASP.NET answers such as
 *   `{"Message":"…"}` also occur;
 * - Defender for Endpoint (microsoft-notes §5.5): `{"error":{"code","message","target"}}` where target is the request id.
 */

/** 403 codes that mean "the tenant lacks a licence", not "the app lacks a permission" (microsoft-notes M11). */
const LICENCE_CODES = new Set(['Authentication_RequestFromNonPremiumTenantOrB2CTenant', 'DisabledFeature']);

export interface ParsedErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
}

export function parseErrorBody(body: unknown): ParsedErrorBody {
  if (typeof body === 'string') return { message: body.trim().slice(0, 500) || undefined };
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (error && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    const inner = (e.innerError ?? e.innererror) as Record<string, unknown> | undefined;
    const innerId = inner && typeof inner === 'object' ? (inner['request-id'] ?? inner['client-request-id']) : undefined;
    return {
      code: typeof e.code === 'string' ? e.code : undefined,
      message: typeof e.message === 'string' ? e.message : undefined,
      requestId: typeof innerId === 'string' ? innerId : typeof e.target === 'string' ? e.target : undefined,
    };
  }
  const message = record.Message ?? record.message ?? (typeof error === 'string' ? error : undefined);
  return { message: typeof message === 'string' ? message : undefined };
}

export function classify(status: number, code: string | undefined, message: string | undefined): MicrosoftErrorKind {
  // AF429 is throttling whatever the status (often 403; microsoft-notes §2.5, M3).
  if (status === 429 || code === 'AF429' || code === 'TooManyRequests') return 'throttled';
  if (status === 401) return 'unauthorized';
  if (status === 403) {
    if ((code && LICENCE_CODES.has(code)) || /not licen[cs]ed|licen[cs]e (is )?required/i.test(message ?? '')) return 'unlicensed';
    return 'forbidden';
  }
  if (status === 404) return 'not-found';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'bad-request';
}

/** The id to quote to Microsoft: response headers first, then the body. */
export function requestIdOf(headers: Record<string, string>, parsed: ParsedErrorBody): string | undefined {
  return headers['request-id'] ?? headers['x-ms-request-id'] ?? parsed.requestId ?? headers['client-request-id'];
}

export interface FailedResponse {
  resource: MicrosoftResource;
  method: string;
  url: URL;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  attempts: number;
  nowMs: number;
}

export function errorFromResponse(failed: FailedResponse): MicrosoftApiError {
  const parsed = parseErrorBody(failed.body);
  return new MicrosoftApiError({
    kind: classify(failed.status, parsed.code, parsed.message),
    resource: failed.resource,
    status: failed.status,
    code: parsed.code,
    message: parsed.message ?? `HTTP ${failed.status}`,
    requestId: requestIdOf(failed.headers, parsed),
    retryAfterSeconds: parseRetryAfter(failed.headers['retry-after'], failed.nowMs),
    method: failed.method,
    url: withoutQuery(failed.url),
    attempts: failed.attempts,
  });
}

export function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
