/**
 * When a queue of store writes is flushed: eager writes after this event-loop turn's I/O
 * callbacks (setImmediate), so everything those callbacks queued goes together; lazy writes
 * (isLazyWrite) with the next eager flush, or after LAZY_FLUSH_MS at the latest. Shared by the
 * group commit (a transaction per flush) and the writer thread's sender (a message per flush).
 */
import { LAZY_FLUSH_MS } from './store-writer-protocol.js';

export class FlushSchedule {
  private immediate = false;
  private lazyTimer: NodeJS.Timeout | null = null;

  constructor(private readonly flush: () => void) {}

  /** A write was queued. */
  queued(lazy: boolean): void {
    if (lazy) {
      this.lazyTimer ??= setTimeout(this.flush, LAZY_FLUSH_MS);
    } else if (!this.immediate) {
      this.immediate = true;
      setImmediate(this.flush);
    }
  }

  /** Called as a flush starts: what was scheduled is served by it. */
  flushing(): void {
    this.immediate = false;
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
  }
}
