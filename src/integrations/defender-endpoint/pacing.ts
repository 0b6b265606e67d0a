/**
 * The arithmetic of Defender's rate limits (microsoft-notes §5.2, §5.3, M20): each API allows `perMinute`
 * calls in any minute and `perHour` in any hour, per tenant. Calls are booked in time order, so a new
 * call may go at the earliest time that is not before the last booking and leaves each window with
 * room: once the `perMinute`-th newest booking has left the minute window, and the `perHour`-th newest
 * the hour window. Because bookings only ever append, every later window holds no more than this one.
 */

export interface PacingLimits {
  perMinute: number;
  perHour: number;
  minuteMs: number;
  hourMs: number;
  /** Extra spacing after a booking leaves its window (clock and network skew between us and Microsoft). */
  marginMs: number;
}

export interface BookingHistory {
  /** The newest booking, if any. */
  newest?: number;
  /** The `perMinute`-th newest booking (epoch ms), if there are that many. */
  minuteAnchor?: number;
  /** The `perHour`-th newest booking, if there are that many. */
  hourAnchor?: number;
}

/** The earliest time (epoch ms, ≥ now) at which one more call fits both windows. */
export function nextSlot(nowMs: number, history: BookingHistory, limits: PacingLimits): number {
  let at = Math.max(nowMs, history.newest ?? nowMs);
  if (history.minuteAnchor !== undefined) at = Math.max(at, history.minuteAnchor + limits.minuteMs + limits.marginMs);
  if (history.hourAnchor !== undefined) at = Math.max(at, history.hourAnchor + limits.hourMs + limits.marginMs);
  return at;
}

/**
 * The documented limits per API: 100/min and 1,500/h for machines, machine actions, every response
 * action and the indicator create, list and delete APIs; GetPackageUri allows 2/min and 120/h
 * (https://learn.microsoft.com/defender-endpoint/api/get-package-sas-uri); the indicator import 30/min and
 * no hourly figure (microsoft-notes M45), so 30 × 60 an hour; runliveresponse 10/min.
 */
export function documentedLimits(api: string): { perMinute: number; perHour: number } {
  if (api === 'GetPackageUri') return { perMinute: 2, perHour: 120 };
  if (api === 'indicators/import') return { perMinute: 30, perHour: 1800 };
  // Live response: 10 calls a minute (microsoft-notes M50); no hourly limit beyond that is documented.
  if (api === 'runliveresponse') return { perMinute: 10, perHour: 600 };
  return { perMinute: 100, perHour: 1500 };
}
