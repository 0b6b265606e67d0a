/**
 * Sliding-window request limits on the simulated clock (microsoft-notes §3.5, §6.2).
 * Only admitted requests are counted, so a client that waits `Retry-After` always gets through.
 */
export class SlidingWindowLimiter {
  private readonly admitted = new Map<string, number[]>();

  /** Admits the request, or returns how long until a slot frees up. */
  take(key: string, limit: number, windowMs: number, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (limit <= 0) return { ok: true };
    const recent = (this.admitted.get(key) ?? []).filter((t) => t > nowMs - windowMs);
    if (recent.length >= limit) {
      this.admitted.set(key, recent);
      return { ok: false, retryAfterMs: recent[0] + windowMs - nowMs };
    }
    recent.push(nowMs);
    this.admitted.set(key, recent);
    return { ok: true };
  }
}
