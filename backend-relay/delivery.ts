/**
 * Per-cab ordered delivery with acks. One session per connected tablet walks the cab's log
 * from the tablet's lastSeq: it sends one event, waits for its ack (or the ack timeout, then
 * sends it again), and only then sends the next. So the tablet never sees a gap, and a lost
 * ack costs one redelivery that the tablet recognises by id.
 */
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import { SOCKET_EVENTS, type RelayEvent } from '../protocol/relay-protocol.js';
import type { RelayMetrics } from './metrics.js';
import type { RelayStore, StoredEvent } from './store/relay-store.js';

const BATCH = 100;
/** A tablet that falls this far behind is served from the store only. */
const FRESH_LIMIT = 100;
const STOPPED = Symbol('stopped');

/**
 * A tablet's answer that means "applied (or already had it), move on": an object with
 * `ok: true`. Checked by hand: it runs once per delivered event (a zod parse was ~2 % of the
 * relay's CPU per hook in the issue 7 profile).
 */
function isPositiveAck(answer: unknown): boolean {
  return typeof answer === 'object' && answer !== null && !Array.isArray(answer) && (answer as { ok?: unknown }).ok === true;
}
const negativeAck = z.looseObject({ ok: z.literal(false), error: z.looseObject({ code: z.string(), message: z.string() }) });
/** Refusal codes counted by name (`relay_events_rejected_total{code}`); any other is `other`. */
const REFUSAL_CODES: ReadonlySet<string> = new Set(['rejected', 'invalid_event', 'unreadable']);

export interface DeliveryDeps {
  store: RelayStore;
  metrics: RelayMetrics;
  logger: Logger;
  ackTimeoutMs: number;
}

export function toEnvelope(e: StoredEvent): RelayEvent {
  return { seq: e.seq, id: e.id, type: e.type, occurredAt: e.occurredAt, data: e.data } as RelayEvent;
}

class CabDeliverySession {
  private cursor: number;
  private pending = true;
  /**
   * Events just committed for this cab, by seq, handed over by the ingress: the common case
   * (a live tablet, nothing queued) is sent from memory without reading and re-parsing the
   * row. The database stays the source: anything not here is read from the store.
   */
  private readonly fresh = new Map<number, StoredEvent>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private signalStop: () => void = () => {};
  /** Resolves when the session stops, so a pending ack wait never outlives the connection. */
  private readonly stopSignal = new Promise<typeof STOPPED>((resolve) => {
    this.signalStop = () => resolve(STOPPED);
  });
  readonly done: Promise<void>;

  constructor(
    readonly socket: Socket,
    readonly cabId: string,
    startAfterSeq: number,
    private readonly deps: DeliveryDeps,
  ) {
    this.cursor = startAfterSeq;
    this.done = this.run().catch((err: unknown) => {
      deps.logger.error({ err, cabId }, 'delivery stopped by an error; the tablet is disconnected to retry');
      socket.disconnect(true);
    });
  }

  notify(event?: StoredEvent): void {
    // An event handed over is known; anything else means "look in the store".
    if (event && event.seq > this.cursor && this.fresh.size < FRESH_LIMIT) this.fresh.set(event.seq, event);
    else this.pending = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.signalStop();
    this.wake?.();
  }

  private get active(): boolean {
    return !this.stopped && this.socket.connected;
  }

  /** Resolves on notify/stop, or after `ms` when given. */
  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.active) {
      const next = this.fresh.get(this.cursor + 1);
      if (next) {
        this.fresh.delete(next.seq);
        if (!(await this.deliverUntilAcked(next))) return;
        this.cursor = next.seq;
        continue;
      }
      // Nothing handed over and nothing signalled: the store holds nothing newer for us.
      if (!this.pending && this.fresh.size === 0) {
        await this.pause();
        continue;
      }
      this.pending = false;
      const batch = await this.deps.store.eventsAfter(this.cabId, this.cursor, BATCH);
      if (batch.length === 0) {
        this.fresh.clear(); // only seqs at or below the cursor can be left here
        continue;
      }
      for (const event of batch) {
        this.fresh.delete(event.seq);
        if (!(await this.deliverUntilAcked(event))) return;
        this.cursor = event.seq;
      }
    }
  }

  private async deliverUntilAcked(event: StoredEvent): Promise<boolean> {
    const { logger, metrics, store, ackTimeoutMs } = this.deps;
    const envelope = toEnvelope(event);
    for (let attempt = 1; this.active; attempt++) {
      if (attempt > 1) metrics.redeliveries.inc();
      let answer: unknown;
      try {
        answer = await Promise.race([
          this.socket.timeout(ackTimeoutMs).emitWithAck(SOCKET_EVENTS.relayEvent, envelope),
          this.stopSignal,
        ]);
      } catch {
        logger.info({ cabId: this.cabId, seq: event.seq, attempt }, 'no ack in time; sending the event again');
        continue;
      }
      if (answer === STOPPED) return false;
      if (isPositiveAck(answer)) {
        const now = Date.now();
        // Not awaited: the next event may go as soon as the tablet has this one. The record
        // is bookkeeping (group-committed shortly); if a crash loses it, the tablet's
        // handshake lastSeq acks it again and the tablet ignores a resend by id.
        store.markAcked(this.cabId, event.seq, now).catch((err: unknown) => {
          logger.error({ err, cabId: this.cabId, seq: event.seq }, 'could not record an ack; the tablet’s next handshake will');
        });
        metrics.deliveryLatency.observe(Math.max(0, now - event.committedAtMs) / 1000);
        return true;
      }
      const refusal = negativeAck.safeParse(answer);
      const code = refusal.success ? refusal.data.error.code : 'unreadable';
      metrics.eventsRejected.inc({ type: event.type, code: REFUSAL_CODES.has(code) ? code : 'other' });
      if (code === 'rejected') {
        // The tablet checked the event against its own ride and will never apply it: sending
        // it again changes nothing, so it is recorded (this log line, the counter) and delivery moves on.
        logger.warn(
          { cabId: this.cabId, seq: event.seq, eventId: event.id, type: event.type, reason: refusal.success ? refusal.data.error.message.slice(0, 500) : '' },
          'the tablet rejected the event as not matching its ride; not sending it again',
        );
        store.markAcked(this.cabId, event.seq, Date.now()).catch((err: unknown) => {
          logger.error({ err, cabId: this.cabId, seq: event.seq }, 'could not record a rejected event as answered; the tablet’s next handshake will');
        });
        return true;
      }
      logger.warn(
        { cabId: this.cabId, seq: event.seq, attempt, error: refusal.success ? refusal.data.error : 'unreadable ack' },
        'the tablet refused the event; retrying after the ack timeout',
      );
      // Wait before retrying so a tablet that keeps refusing is not flooded; stop wakes us.
      await this.pause(ackTimeoutMs);
    }
    return false;
  }
}

/** The live sessions by cab. At most one tablet per cab: a newer connection replaces the older. */
export class DeliveryHub {
  private readonly sessions = new Map<string, CabDeliverySession>();

  constructor(private readonly deps: DeliveryDeps) {}

  start(socket: Socket, cabId: string, startAfterSeq: number): void {
    const previous = this.sessions.get(cabId);
    if (previous) {
      this.deps.logger.info({ cabId }, 'a newer connection replaces the tablet’s previous one');
      previous.stop();
      previous.socket.disconnect(true);
    }
    const session = new CabDeliverySession(socket, cabId, startAfterSeq, this.deps);
    this.sessions.set(cabId, session);
    socket.on('disconnect', () => {
      session.stop();
      if (this.sessions.get(cabId) === session) this.sessions.delete(cabId);
    });
  }

  /** A new event was committed for this cab (passed along, it can be sent from memory). */
  notify(cabId: string, event?: StoredEvent): void {
    this.sessions.get(cabId)?.notify(event);
  }

  isConnected(cabId: string): boolean {
    return this.sessions.get(cabId)?.socket.connected ?? false;
  }

  connectedCount(): number {
    return this.sessions.size;
  }

  /** Ends the cab's live connection (token rotated, cab deleted). */
  disconnect(cabId: string): void {
    const session = this.sessions.get(cabId);
    if (!session) return;
    session.stop();
    session.socket.disconnect(true);
    this.sessions.delete(cabId);
  }

  async stopAll(): Promise<void> {
    const all = [...this.sessions.values()];
    for (const s of all) s.stop();
    this.sessions.clear();
    await Promise.allSettled(all.map((s) => s.done));
  }
}
