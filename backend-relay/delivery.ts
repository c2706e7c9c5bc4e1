/**
 * Per-cab ordered delivery with acks. One session per connected tablet walks the cab's log
 * from the tablet's lastSeq: it sends one event, waits for its ack (or the ack timeout, then
 * sends it again), and only then sends the next. So the tablet never sees a gap (where pruning
 * left one, it is told first where the log continues: log.start), and a lost ack costs one
 * redelivery that the tablet recognises by id.
 */
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import { SOCKET_EVENTS, type LogStart, type RelayEvent } from '../protocol/relay-protocol.js';
import type { RelayMetrics } from './metrics.js';
import type { RelayStore, StoredEvent } from './store/relay-store.js';

/**
 * Events read from the store at a time: a backlog streams page by page, never read whole. A
 * page is the only synchronous work (about 0.7 ms to read and parse 100 order events, measured
 * on the 2-core dev machine); every event then waits for its ack over the network, so the
 * event loop serves other cabs between any two events of a page without an explicit yield.
 */
export const PAGE_SIZE = 100;
/** A tablet that falls this far behind is served from the store only. */
const FRESH_LIMIT = 100;
const STOPPED = Symbol('stopped');

/**
 * A tablet's answer that means "applied (or already had it), move on": an object with
 * `ok: true`. Checked by hand: it runs once per delivered event (a zod parse was ~2 % of the
 * relay's CPU per hook in the benchmark's profile, docs/performance.md).
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
  private cursor = 0;
  private started = false;
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
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    readonly cabId: string,
    private readonly deps: DeliveryDeps,
  ) {}

  /** Starts sending what follows `startAfterSeq`; once only. */
  begin(startAfterSeq: number): void {
    if (this.started) return;
    this.started = true;
    this.cursor = startAfterSeq;
    this.done = this.run().catch((err: unknown) => {
      this.deps.logger.error({ err, cabId: this.cabId }, 'delivery stopped by an error; the tablet is disconnected to retry');
      this.socket.disconnect(true);
    });
  }

  notify(event?: StoredEvent): void {
    // An event handed over is known; anything else means "look in the store". Before the
    // start the cursor is unknown: the first read finds the event anyway.
    if (event && this.started && event.seq > this.cursor && this.fresh.size < FRESH_LIMIT) this.fresh.set(event.seq, event);
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
      const page = await this.deps.store.eventsAfter(this.cabId, this.cursor, PAGE_SIZE);
      // A full page may have more behind it: read on after it, with or without a new event.
      if (page.length === PAGE_SIZE) this.pending = true;
      if (page.length === 0) {
        this.fresh.clear(); // only seqs at or below the cursor can be left here
        continue;
      }
      for (const event of page) {
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
      if (event.seq > this.cursor + 1) this.announceLogStart(event.seq, attempt);
      let answer: unknown;
      try {
        answer = await Promise.race([this.socket.timeout(ackTimeoutMs).emitWithAck(SOCKET_EVENTS.relayEvent, envelope), this.stopSignal]);
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

  /**
   * The seqs between the cursor and this event were pruned (acked by an earlier install of the
   * cab): the tablet is told where the log continues, just before the event (Socket.IO keeps
   * the order), so it does not wait for them. Not awaited: a kiosk that does not know
   * `log.start` never answers, and the event's own ack decides what happens next.
   */
  private announceLogStart(firstSeq: number, attempt: number): void {
    const { logger, ackTimeoutMs } = this.deps;
    const log = { cabId: this.cabId, tabletLastSeq: this.cursor, firstSeq, attempt };
    if (attempt === 1) logger.info(log, 'the tablet is behind the pruned part of its log; telling it where the log starts');
    const start: LogStart = { firstSeq };
    this.socket.timeout(ackTimeoutMs).emit(SOCKET_EVENTS.logStart, start, (err: Error | null, answer: unknown) => {
      if (err) logger.warn(log, 'no answer to log.start (a kiosk too old to know it stays at the gap until updated)');
      else if (!isPositiveAck(answer)) logger.warn({ ...log, answer }, 'the tablet refused log.start');
    });
  }
}

/**
 * The live sessions by cab. At most one tablet per cab: a newer connection replaces the older.
 * A socket counts as the cab's live connection from its authenticated handshake (attach);
 * delivery starts once the handshake is recorded (start).
 */
export class DeliveryHub {
  private readonly sessions = new Map<string, CabDeliverySession>();

  constructor(private readonly deps: DeliveryDeps) {}

  /** The cab's live connection from now on: a scan finds the cab online, a rotation finds the socket. */
  attach(socket: Socket, cabId: string): void {
    const previous = this.sessions.get(cabId);
    if (previous) {
      this.deps.logger.info({ cabId }, 'a newer connection replaces the tablet’s previous one');
      previous.stop();
      previous.socket.disconnect(true);
    }
    const session = new CabDeliverySession(socket, cabId, this.deps);
    this.sessions.set(cabId, session);
    socket.on('disconnect', () => {
      session.stop();
      if (this.sessions.get(cabId) === session) this.sessions.delete(cabId);
    });
  }

  /** Starts delivery after `startAfterSeq` on an attached socket; false when it is no longer the cab's. */
  start(socket: Socket, cabId: string, startAfterSeq: number): boolean {
    const session = this.sessions.get(cabId);
    if (session?.socket !== socket || !socket.connected) return false;
    session.begin(startAfterSeq);
    return true;
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
