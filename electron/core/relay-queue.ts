/**
 * Sends a queue the tablet keeps in its store to the relay: oldest first, one at a time, while
 * the relay is connected. A transient failure waits with backoff before the next try; a refusal
 * for good is recorded by the sender and the queue moves on. Kept apart from the outbox, so a
 * relay that is away never holds up what the tablet owes its PSP.
 */
import type { Logger } from 'pino';
import { nextDelay } from './backoff.js';

/** What sending one item came to: sent, refused for good (recorded; go on), try later, or stop this round. */
export type QueueStep = { kind: 'sent' } | { kind: 'refused' } | { kind: 'retry'; log: Record<string, unknown>; message: string } | { kind: 'stop' };

export interface RelayQueueDeps<T> {
  /** What the queue sends, for its one error line. */
  what: string;
  connected: () => boolean;
  /** The oldest item still to send, if any. */
  next: () => T | undefined;
  send: (item: T) => Promise<QueueStep>;
  random: () => number;
  logger: Logger;
}

export class RelayQueue<T> {
  private running = false;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: RelayQueueDeps<T>) {}

  kick(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.deps.connected()) {
          const item = this.deps.next();
          if (item === undefined) break;
          if (!this.after(await this.deps.send(item))) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.deps.logger.error({ err }, `${this.deps.what} stopped on an unexpected error; it resumes on the next change`);
    } finally {
      this.running = false;
    }
  }

  /** Whether to go on with the next item. */
  private after(step: QueueStep): boolean {
    switch (step.kind) {
      case 'sent':
        this.failures = 0;
        return true;
      case 'refused':
        return true;
      case 'stop':
        return false;
      case 'retry': {
        const delay = nextDelay(this.failures++, this.deps.random);
        this.deps.logger.warn({ ...step.log, retryInMs: delay }, step.message);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, delay);
        this.retryTimer.unref?.();
        return false;
      }
    }
  }
}
