import { nextSlot, type PacingLimits } from './pacing';

const limits: PacingLimits = { perMinute: 100, perHour: 1500, minuteMs: 60_000, hourMs: 3_600_000, marginMs: 0 };

/** Books `count` calls as fast as the limits allow, returning their times. */
function schedule(count: number, l: PacingLimits): number[] {
  const booked: number[] = [];
  for (let i = 0; i < count; i++) {
    const newest = booked[booked.length - 1];
    const minuteAnchor = booked.length >= l.perMinute ? booked[booked.length - l.perMinute] : undefined;
    const hourAnchor = booked.length >= l.perHour ? booked[booked.length - l.perHour] : undefined;
    booked.push(nextSlot(0, { newest, minuteAnchor, hourAnchor }, l));
  }
  return booked;
}

/** Most calls in any window of `windowMs` ending at a booking (sliding window, as Microsoft counts). */
function busiest(times: number[], windowMs: number): number {
  let most = 0;
  for (const [i, t] of times.entries()) most = Math.max(most, times.filter((u, j) => j <= i && u > t - windowMs).length);
  return most;
}

describe('Defender pacing', () => {
  it('books 500 calls in bursts of 100 a minute apart: the minimum the limits allow', () => {
    const times = schedule(500, limits);
    expect(times.slice(0, 100).every((t) => t === 0)).toBe(true);
    expect(times[100]).toBe(60_000);
    expect(times[499]).toBe(240_000);
    expect(busiest(times, 60_000)).toBe(100);
  });

  it('never puts more than 1,500 calls in an hour', () => {
    const times = schedule(1700, limits);
    expect(busiest(times, 3_600_000)).toBe(1500);
    expect(times[1500]).toBe(3_600_000);
  });

  it('adds the margin after a booking leaves its window and never books in the past', () => {
    const times = schedule(101, { ...limits, marginMs: 500 });
    expect(times[100]).toBe(60_500);
    expect(nextSlot(10_000, { newest: 5_000 }, limits)).toBe(10_000);
  });
});
