/**
 * Defender for Endpoint throttling: each API allows 100 calls per minute and 1,500 per hour
 * (microsoft-notes §5.2, §5.3, M20), except `GetPackageUri`, documented at 2 per minute and 120 per hour
 * (https://learn.microsoft.com/defender-endpoint/api/get-package-sas-uri). Past the limit the answer is
 * 429 `TooManyRequests` with `Retry-After` in seconds (microsoft-notes §5.5).
 *
 * Sim choices, since Microsoft does not document them:
 * - the budget is per tenant and per API (isolate, unisolate, list machines, ...), shared by all apps
 *   of the tenant;
 * - the windows slide on the sim clock: a call is allowed when fewer than `perMinute` calls were
 *   accepted in the last 60 s and fewer than `perHour` in the last 3,600 s;
 * - refused (429) calls do not consume budget, so `Retry-After` is exact: waiting that many seconds
 *   always frees a slot.
 */

export interface RateLimit {
  perMinute: number;
  perHour: number;
}

export const ACTION_API_LIMIT: RateLimit = { perMinute: 100, perHour: 1500 };
export const PACKAGE_URI_LIMIT: RateLimit = { perMinute: 2, perHour: 120 };

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Accepted-call timestamps per API, oldest first. */
export type RateLimitState = Map<string, number[]>;

/**
 * Records a call at `nowMs` when the budget allows it and returns undefined; otherwise returns the
 * `Retry-After` seconds (at least 1) and records nothing.
 */
export function takeRateLimitSlot(state: RateLimitState, api: string, limit: RateLimit, nowMs: number): number | undefined {
  let calls = state.get(api);
  if (!calls) {
    calls = [];
    state.set(api, calls);
  }
  while (calls.length > 0 && calls[0] <= nowMs - HOUR_MS) calls.shift();

  let retryAtMs = 0;
  if (calls.length >= limit.perHour) {
    // The hour window frees a slot when its oldest call leaves it.
    retryAtMs = Math.max(retryAtMs, calls[calls.length - limit.perHour] + HOUR_MS);
  }
  const firstInMinute = calls.findIndex((t) => t > nowMs - MINUTE_MS);
  const inMinute = firstInMinute < 0 ? 0 : calls.length - firstInMinute;
  if (inMinute >= limit.perMinute) {
    retryAtMs = Math.max(retryAtMs, calls[calls.length - limit.perMinute] + MINUTE_MS);
  }
  if (retryAtMs > 0) return Math.max(1, Math.ceil((retryAtMs - nowMs) / 1000));
  calls.push(nowMs);
  return undefined;
}
