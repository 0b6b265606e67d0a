import type { ResolvedManageOptions } from './manage-options';

/**
 * Time-window rules of `/subscriptions/content` and `/notifications` (microsoft-notes §2.2, M1):
 * both times or neither (neither ⇒ the last 24 h); formats YYYY-MM-DD, YYYY-MM-DDTHH:MM,
 * YYYY-MM-DDTHH:MM:SS (UTC); window ≤ 24 h (exactly 24 h rejected by default, as peers saw);
 * start no more than 7 days back. Violations answer AF20030 (or AF20055 on newer deployments).
 */

export type WindowResult = { ok: true; startMs: number; endMs: number; startText: string; endText: string } | { ok: false; code: string; message: string };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Fraction and a trailing Z are tolerated: clients commonly send them.
const FORMAT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?Z?$/i;

export const WINDOW_MESSAGE =
  'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.';

export function parseApiTime(s: string): number {
  if (!FORMAT.test(s)) return NaN;
  const t = s.toUpperCase().endsWith('Z') ? s.slice(0, -1) : s;
  const full = t.length === 10 ? `${t}T00:00:00` : t.length === 16 ? `${t}:00` : t;
  return Date.parse(`${full}Z`);
}

export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function resolveWindow(
  start: string | null,
  end: string | null,
  nowMs: number,
  opts: ResolvedManageOptions,
  /** A valid nextPage continues a window the server already accepted: only formats are checked. */
  continuation = false,
): WindowResult {
  const bad = { ok: false as const, code: opts.windowErrorCode, message: WINDOW_MESSAGE };
  if ((start === null) !== (end === null)) return bad;
  if (start === null || end === null) {
    const endMs = nowMs;
    const startMs = nowMs - DAY;
    return { ok: true, startMs, endMs, startText: formatApiTime(startMs), endText: formatApiTime(endMs) };
  }
  const startMs = parseApiTime(start);
  if (Number.isNaN(startMs)) return { ok: false, code: 'AF20002', message: 'Invalid parameter type: startTime. Expected type: datetime' };
  const endMs = parseApiTime(end);
  if (Number.isNaN(endMs)) return { ok: false, code: 'AF20002', message: 'Invalid parameter type: endTime. Expected type: datetime' };
  if (!continuation) {
    const width = endMs - startMs;
    if (width <= 0 || width > DAY || (width === DAY && opts.rejectExactly24h)) return bad;
    if (startMs < nowMs - opts.contentRetentionMs) return bad;
  }
  return { ok: true, startMs, endMs, startText: start, endText: end };
}
