/**
 * Listing windows for `/subscriptions/content` (microsoft-notes §2.2, M1): at most 24 h wide (we use
 * 23 h: peers saw exactly 24 h rejected), starting at most 7 days back (with a margin for clock
 * skew), with an overlap behind the cursor for content that became available late.
 */

export const HOUR_MS = 3_600_000;
export const MAX_WINDOW_MS = 23 * HOUR_MS;
export const MAX_LOOKBACK_MS = 7 * 24 * HOUR_MS;
/** Kept clear of the 7-day limit: the provider's clock and ours, and the time the run takes. */
export const LOOKBACK_MARGIN_MS = 15 * 60_000;

export interface WindowPlan {
  windows: Array<{ start: Date; end: Date }>;
  /** Set when the cursor is older than the provider keeps content: that span is lost and reported. */
  lost?: { start: Date; end: Date };
}

export function planWindows(input: { now: Date; cursor: Date | null; overlapMs: number; initialLookbackMs: number }): WindowPlan {
  const nowMs = input.now.getTime();
  const oldest = nowMs - MAX_LOOKBACK_MS + LOOKBACK_MARGIN_MS;
  let lost: WindowPlan['lost'];
  let startMs: number;
  if (input.cursor === null) {
    startMs = Math.max(nowMs - input.initialLookbackMs, oldest);
  } else {
    const cursorMs = input.cursor.getTime();
    if (cursorMs < oldest) lost = { start: new Date(cursorMs), end: new Date(oldest) };
    startMs = Math.max(cursorMs - input.overlapMs, oldest);
  }
  // Whole seconds: the API accepts YYYY-MM-DDTHH:MM:SS.
  startMs = Math.floor(startMs / 1000) * 1000;
  const endMs = Math.floor(nowMs / 1000) * 1000;
  const windows: WindowPlan['windows'] = [];
  for (let s = startMs; s < endMs; s += MAX_WINDOW_MS) {
    windows.push({ start: new Date(s), end: new Date(Math.min(s + MAX_WINDOW_MS, endMs)) });
  }
  return { windows, lost };
}

/** `YYYY-MM-DDTHH:MM:SS`, UTC, as the API documents. */
export function formatApiTime(date: Date): string {
  return date.toISOString().slice(0, 19);
}
