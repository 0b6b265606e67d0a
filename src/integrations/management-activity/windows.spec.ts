import { HOUR_MS, MAX_LOOKBACK_MS, formatApiTime, planWindows } from './windows';

const now = new Date('2026-03-10T12:00:00.500Z');

describe('planWindows', () => {
  it('splits a first run into windows under 24 h, no further back than 7 days', () => {
    const plan = planWindows({ now, cursor: null, overlapMs: HOUR_MS, initialLookbackMs: 30 * 24 * HOUR_MS });
    expect(plan.lost).toBeUndefined();
    for (const w of plan.windows) {
      expect(w.end.getTime() - w.start.getTime()).toBeLessThan(24 * HOUR_MS);
      expect(w.end.getTime()).toBeGreaterThan(w.start.getTime());
      expect(now.getTime() - w.start.getTime()).toBeLessThan(MAX_LOOKBACK_MS);
    }
    // contiguous, ending at now (whole seconds)
    for (let i = 1; i < plan.windows.length; i++) expect(plan.windows[i].start).toEqual(plan.windows[i - 1].end);
    expect(plan.windows.at(-1)!.end.toISOString()).toBe('2026-03-10T12:00:00.000Z');
    expect(plan.windows.length).toBe(8);
  });

  it('starts an overlap behind the cursor', () => {
    const plan = planWindows({ now, cursor: new Date('2026-03-10T11:00:00Z'), overlapMs: 2 * HOUR_MS, initialLookbackMs: 0 });
    expect(plan.windows).toEqual([{ start: new Date('2026-03-10T09:00:00Z'), end: new Date('2026-03-10T12:00:00Z') }]);
  });

  it('clamps a cursor older than 7 days and reports the lost span', () => {
    const cursor = new Date('2026-03-01T00:00:00Z');
    const plan = planWindows({ now, cursor, overlapMs: HOUR_MS, initialLookbackMs: 0 });
    expect(plan.lost?.start).toEqual(cursor);
    expect(now.getTime() - plan.windows[0].start.getTime()).toBeLessThan(MAX_LOOKBACK_MS);
    expect(plan.lost?.end.getTime()).toBeLessThanOrEqual(plan.windows[0].start.getTime() + 1000);
  });

  it('plans nothing when the cursor is at now', () => {
    expect(planWindows({ now, cursor: now, overlapMs: 0, initialLookbackMs: 0 }).windows).toEqual([]);
  });

  it('formats times as the API documents them', () => {
    expect(formatApiTime(new Date('2026-03-10T09:05:07.123Z'))).toBe('2026-03-10T09:05:07');
  });
});
