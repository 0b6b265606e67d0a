import type { SimClock } from './types';

/**
 * The simulated clock: real time plus an offset that only moves forward (`/_sim/clock/advance`).
 * Token lifetimes, content availability and machine-action progression all read it, so tests can
 * jump hours ahead instead of sleeping.
 */
export class SimClockImpl implements SimClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(this.nowMs());
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`clock can only move forward (got ${ms} ms)`);
    this.offsetMs += ms;
  }

  /** How far the simulated clock is ahead of real time. */
  offset(): number {
    return this.offsetMs;
  }
}
