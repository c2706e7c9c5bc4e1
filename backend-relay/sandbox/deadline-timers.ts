/**
 * One timer per deadline (session order timeout, order payment timeout). The deadline itself
 * lives in the database; the timer only wakes the flow, which re-checks state in a transaction.
 * On start the flows re-arm every open deadline, so timeouts survive a restart.
 */
export class DeadlineTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /** Runs `fire` at `atMs` (epoch ms), or at once if that has passed. Replaces any timer under `key`. */
  schedule(key: string, atMs: number, fire: () => void): void {
    if (this.closed) return;
    this.cancel(key);
    const wait = Math.max(0, Math.min(atMs - Date.now(), 2 ** 31 - 1));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (!this.closed) fire();
    }, wait);
    timer.unref();
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
