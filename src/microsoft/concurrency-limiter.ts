/**
 * At most `max` tasks in flight per key (tenant × Microsoft API), the rest wait in arrival order.
 * Slots are held only while a request is on the wire, never during a back-off sleep: a throttled
 * tenant must not park the slots that its other calls need (microsoft-notes §6.3: sleeping retries pile up).
 */
export class ConcurrencyLimiter {
  private readonly lanes = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`concurrency must be a positive integer (got ${max})`);
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(key);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  /** Requests in flight for a key (for tests and metrics). */
  active(key: string): number {
    return this.lanes.get(key)?.active ?? 0;
  }

  private acquire(key: string): Promise<void> {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { active: 0, waiting: [] }));
    if (lane.active < this.max) {
      lane.active += 1;
      return Promise.resolve();
    }
    const queue = lane.waiting;
    return new Promise((resolve) => queue.push(resolve));
  }

  private release(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    const next = lane.waiting.shift();
    if (next) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    lane.active -= 1;
    if (lane.active === 0) this.lanes.delete(key);
  }
}
