import type { MicrosoftErrorKind } from './microsoft-errors';

/**
 * When a failed call to Microsoft is tried again, and after how long.
 *
 * What is retried:
 * - throttling: HTTP 429 (Graph; Defender, microsoft-notes §5.5) and the Management API's `AF429`, which may arrive as
 *   HTTP 403 with no Retry-After (microsoft-notes §2.5, M3) — every method: a throttled request was not carried out;
 * - 503: every method, POST included — the service refused the request before doing anything;
 * - 504 and network failures/timeouts: only idempotent methods. A gateway timeout or a broken
 *   connection may come after Microsoft carried out a POST action (isolate a device), so an action is
 *   never repeated blindly; its caller checks state and decides;
 * - 500 with the Management API's AF50000/AF50005/AF50006 ("internal error, retry", microsoft-notes §2.6): idempotent only.
 * 401 is not retried here: the caller refreshes the token once and tries again (microsoft-notes §2.6, Elastic does so).
 *
 * How long: `Retry-After` (seconds or HTTP-date, microsoft-notes §6.2) when Microsoft sends it, capped; otherwise
 * exponential back-off with jitter (half fixed, half random), so parallel workers spread out.
 */

export const RETRY_AFTER_CAP_MS = 120_000;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const MANAGE_RETRYABLE_INTERNAL = new Set(['AF50000', 'AF50005', 'AF50006']);

export interface BackoffSettings {
  /** First back-off without Retry-After (default 1 s); doubles per retry. */
  baseMs: number;
  /** Longest computed back-off (default 60 s). */
  maxMs: number;
  /** Longest wait a Retry-After may impose (default 120 s). */
  retryAfterCapMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 1000, maxMs: 60_000, retryAfterCapMs: RETRY_AFTER_CAP_MS };

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

/** `Retry-After` as seconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined; // an IMF-fixdate starts with the day name
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

export interface FailedAttempt {
  method: string;
  kind: MicrosoftErrorKind;
  status: number;
  code?: string;
}

export function shouldRetry(attempt: FailedAttempt): boolean {
  const idempotent = isIdempotent(attempt.method);
  if (attempt.kind === 'throttled') return true;
  if (attempt.status === 503) return true;
  if (attempt.status === 504 || attempt.kind === 'network' || attempt.kind === 'timeout') return idempotent;
  if (attempt.status === 500 && attempt.code && MANAGE_RETRYABLE_INTERNAL.has(attempt.code)) return idempotent;
  return false;
}

/**
 * Milliseconds to wait before retry number `retry` (1 = first retry).
 * `random` returns [0, 1): Math.random in production, fixed in tests.
 */
export function backoffDelayMs(
  retry: number,
  retryAfterSeconds: number | undefined,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, settings.retryAfterCapMs);
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
