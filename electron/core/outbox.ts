/**
 * Delivers the durable outbox (create-order to the PSP, payment.request and refund.request to
 * the relay): FIFO, one request at a time, with backoff on transient errors.
 * The worker only decides when to send; the core commits what each answer means.
 */
import type { Logger } from 'pino';
import { DEFAULT_BACKOFF, nextDelay, type BackoffLimits } from './backoff.js';
import type { OutboxEntry } from './model.js';
import type { DeliveryResult } from './psp/psp-client.js';
import type { KioskStore } from './store.js';

/** A safety net: look at the queue at least this often even if nothing kicked it. */
export const OUTBOX_POLL_MS = 30_000;

export interface OutboxHandlers {
  /** Checks the entry can still go out; returns null after committing why not (e.g. dead session). */
  prepare(entry: OutboxEntry): { apiKey: string | null } | null;
  send(entry: OutboxEntry, apiKey: string | null): Promise<DeliveryResult>;
  /** Commits a final answer (success or definitive), removing the entry. */
  settle(entry: OutboxEntry, result: Exclude<DeliveryResult, { kind: 'retry' }>): void;
  /** Called after any change to the queue, so the snapshot can be pushed. */
  changed(): void;
}

export class OutboxWorker {
  private running = false;
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  /** The ride whose request is on the wire, so a cancel cannot race it. */
  inFlightRideId: string | null = null;

  constructor(
    private readonly store: KioskStore,
    private readonly handlers: OutboxHandlers,
    private readonly clock: { now: () => Date; random: () => number; backoff?: BackoffLimits },
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.poll = setInterval(() => this.kick(), OUTBOX_POLL_MS);
    this.poll.unref?.();
    this.kick();
  }

  /** Resolves once the request in flight (if any) has been settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.timer = this.poll = null;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  /** Try now; with `resetBackoff`, also skip any backoff wait (the connection just came back). */
  kick(resetBackoff = false): void {
    if (this.stopped) return;
    if (resetBackoff) this.store.retryOutboxNow(this.clock.now().toISOString());
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      do {
        this.again = false;
        while (!this.stopped) {
          const entry = this.store.outboxHead();
          if (!entry) break;
          const waitMs = Date.parse(entry.nextAttemptAt) - this.clock.now().getTime();
          if (waitMs > 0) {
            this.timer = setTimeout(() => this.kick(), waitMs);
            this.timer.unref?.();
            break;
          }
          await this.deliver(entry);
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.logger.error({ err }, 'outbox drain stopped on an unexpected error; retrying on the next poll');
    } finally {
      this.running = false;
    }
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const ready = this.handlers.prepare(entry);
    if (!ready) {
      this.handlers.changed();
      return;
    }
    this.inFlightRideId = entry.rideId;
    let result: DeliveryResult;
    try {
      result = await this.handlers.send(entry, ready.apiKey);
    } finally {
      this.inFlightRideId = null;
    }
    if (result.kind === 'retry') {
      const delay = nextDelay(entry.tries, this.clock.random, this.clock.backoff ?? DEFAULT_BACKOFF);
      const nextAt = new Date(this.clock.now().getTime() + delay).toISOString();
      this.store.scheduleRetry(entry.id, entry.tries + 1, nextAt, result.reason);
      this.logger.warn(
        { kind: entry.kind, rideId: entry.rideId, idempotencyKey: entry.job.idempotencyKey, tries: entry.tries + 1, retryInMs: delay, reason: result.reason },
        `${entry.kind} will be retried`,
      );
    } else {
      this.handlers.settle(entry, result);
      this.logger.info({ kind: entry.kind, rideId: entry.rideId, idempotencyKey: entry.job.idempotencyKey, result: result.kind }, `${entry.kind} settled`);
    }
    this.handlers.changed();
  }
}
