/**
 * Relay events as they arrive, applied in bounded batches. The socket hands events over faster
 * than they can be committed when a relay misbehaves (thousands at once); applying them as they
 * come held the event loop until the last one, so the driver's screen could not even read its
 * state. Here each turn takes at most `maxBatch` events, the core commits them in one
 * transaction within a time budget, and the loop is free between turns.
 */
import type { Logger } from 'pino';
import type { RelayEventAck } from '../../protocol/relay-protocol.js';

/** Events applied per transaction at most. */
export const MAX_EVENTS_PER_BATCH = 50;
/**
 * Events waiting at most. A relay sends the next event after the ack of the previous one, so
 * this many waiting is a flood: the rest is dropped unacked (the relay sends it again) and the
 * connection is dropped too, which also stops the socket library from parsing the flood.
 */
export const MAX_QUEUED_EVENTS = 1_000;

export type AckFn = (answer: RelayEventAck) => void;

export interface EventIntakeOptions {
  /**
   * Applies the first events of `raws` in one transaction and returns one answer per event it
   * took (null: leave it unacked), in order; it may take fewer than given (its time budget).
   */
  applyBatch(raws: unknown[]): (RelayEventAck | null)[];
  /** Called once per flood, when the queue is full: drop the connection and come back later. */
  onFlood(): void;
  logger: Logger;
  maxBatch?: number;
  maxQueued?: number;
}

export class EventIntake {
  private readonly queue: { raw: unknown; ack: AckFn }[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private dropped = 0;
  private stopped = false;

  constructor(private readonly options: EventIntakeOptions) {}

  get depth(): number {
    return this.queue.length;
  }

  push(raw: unknown, ack: AckFn): void {
    if (this.stopped) return;
    if (this.queue.length >= (this.options.maxQueued ?? MAX_QUEUED_EVENTS)) {
      if (this.dropped++ === 0) {
        this.options.logger.warn(
          { queued: this.queue.length },
          'the relay sends events without waiting for acks; dropping the rest unacked and reconnecting later (the relay sends them again)',
        );
        this.options.onFlood();
      }
      return;
    }
    this.queue.push({ raw, ack });
    this.schedule();
  }

  /** Drops what is waiting (unacked) and takes nothing more. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = null;
    if (this.stopped || this.queue.length === 0) return;
    const batch = this.queue.slice(0, this.options.maxBatch ?? MAX_EVENTS_PER_BATCH);
    const answers = this.options.applyBatch(batch.map((item) => item.raw));
    // Always make progress, even if the core took nothing (it was stopped).
    const taken = this.queue.splice(0, Math.max(1, answers.length));
    taken.forEach((item, i) => {
      const answer = answers[i];
      if (answer) item.ack(answer);
    });
    if (this.dropped > 0 && this.queue.length === 0) {
      this.options.logger.warn({ dropped: this.dropped }, 'the flooded events are applied; the dropped ones come again from the relay');
      this.dropped = 0;
    }
    if (this.queue.length > 0) this.schedule();
  }
}
