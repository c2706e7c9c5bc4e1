/**
 * The kiosk's SQLite store. Power is cut without warning, so: WAL,
 * synchronous=FULL, and every state change is one transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { orderLine } from '../../protocol/relay-protocol.js';
import { MIGRATIONS } from './migrations.js';
import type { Failure, OutboxEntry, OutboxJob, PaymentQr, PaymentRecord, RefundRecord, Ride, Session } from './model.js';
import { refundIdempotencyKey } from './model.js';

export const DB_FILE_NAME = 'kiosk.db';

type Row = Record<string, unknown>;

/** Applies pending migrations in one transaction; refuses a database from a newer app. */
export function migrate(db: Database.Database, migrations: readonly string[] = MIGRATIONS): number {
  const known = migrations.length;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > known) {
    throw new Error(
      `this database was written by a newer cabpay (schema ${current}, this app knows ${known}); install the newer version or move the file away (${db.name})`,
    );
  }
  if (current === known) return current;
  db.transaction(() => {
    for (let version = current; version < known; version++) db.exec(migrations[version]!);
    // user_version cannot be bound as a parameter; `known` is our own integer.
    db.pragma(`user_version = ${known}`);
  })();
  return known;
}

export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    cachePreparedStatements(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The store prepares its SQL where it runs it; compiling the same statement again on every
 * call was ~9 % of the preview's CPU per relay event (bench/kiosk.ts profile). Our SQL is a
 * fixed set of constant strings, so each is compiled once. Only the one-argument form is
 * cached: better-sqlite3's own pragma/transaction calls pass more and change modes.
 */
function cachePreparedStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db) as (...args: unknown[]) => Database.Statement;
  const cache = new Map<string, Database.Statement>();
  (db as unknown as { prepare: (...args: unknown[]) => Database.Statement }).prepare = (...args: unknown[]) => {
    if (args.length !== 1 || typeof args[0] !== 'string') return prepare(...args);
    let statement = cache.get(args[0]);
    if (!statement) cache.set(args[0], (statement = prepare(args[0])));
    return statement;
  };
}

const linesSchema = z.array(orderLine);
const paymentQrSchema = z.object({
  qrData: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  expiresAt: z.string(),
  attempt: z.number().int().nullable(),
  paymentRequestId: z.string().nullable(),
});

function failureFrom(code: unknown, message: unknown): Failure | null {
  return code == null ? null : { code: code as string, message: (message as string | null) ?? '' };
}

function rideFromRow(row: Row): Ride {
  return {
    rideId: row.ride_id as string,
    merchantOrderId: row.merchant_order_id as string,
    state: row.state as Ride['state'],
    startedAt: row.started_at as string,
    endedAt: (row.ended_at as string | null) ?? null,
    currency: row.currency as string,
    lines: linesSchema.parse(JSON.parse(row.lines_json as string)),
    order: row.order_status as Ride['order'],
    attempt: row.attempt as number,
    sessionId: (row.session_id as string | null) ?? null,
    pspOrderId: (row.psp_order_id as string | null) ?? null,
    failure: failureFrom(row.failure_code, row.failure_message),
    tipAmount: (row.tip_amount as number | null) ?? null,
    paymentQr: row.payment_qr_json == null ? null : (paymentQrSchema.parse(JSON.parse(row.payment_qr_json as string)) as PaymentQr),
    paymentExpiresAt: (row.payment_expires_at as string | null) ?? null,
  };
}

function sessionFromRow(row: Row): Session {
  return {
    sessionId: row.session_id as string,
    psp: row.psp as Session['psp'],
    qrCode: row.qr_code as string,
    allowTip: row.allow_tip === 1,
    oneTimeOrderApiKey: (row.one_time_order_api_key as string | null) ?? null,
    startedAt: row.started_at as string,
    expiresAt: row.expires_at as string,
    state: row.state as Session['state'],
    rideId: (row.ride_id as string | null) ?? null,
  };
}

function outboxFromRow(row: Row): OutboxEntry {
  // The kind column was always 'create_order' before relay-made payments and refunds.
  const job = { kind: row.kind, job: JSON.parse(row.job_json as string) } as OutboxJob;
  return {
    ...job,
    id: row.id as number,
    rideId: row.ride_id as string,
    tries: row.tries as number,
    nextAttemptAt: row.next_attempt_at as string,
    lastError: (row.last_error as string | null) ?? null,
    createdAt: row.created_at as string,
  };
}

function paymentFromRow(row: Row): PaymentRecord & { refundedAmount: number } {
  return {
    rideId: row.ride_id as string,
    method: row.method as PaymentRecord['method'],
    pspOrderId: (row.psp_order_id as string | null) ?? null,
    orderAmount: row.order_amount as number,
    tipAmount: row.tip_amount as number,
    totalAmount: row.total_amount as number,
    currency: row.currency as string,
    paidAt: row.paid_at as string,
    refundedAmount: row.refunded_amount as number,
  };
}

/** Settings keys; values are stored as text. */
export type SettingKey =
  | 'locale'
  | 'theme'
  | 'lastSeq'
  // the floor a log.start raised lastSeq to (invariants.ts)
  | 'logStartFloor'
  | 'offlineSince'
  | 'screenRideId'
  | 'currentSessionId'
  // driver settings (driver-settings.ts), changed only behind the PIN
  | 'driverSettings'
  // PIN attempts: failures in a row and the lockout end (pin.ts)
  | 'pinFailures'
  | 'pinLockedUntil'
  // the last relay event refused about the ride on screen (JSON), for the driver's warning
  | 'refusedEvent';

export interface StoredReceipt {
  rideId: string;
  token: string;
  payloadJson: string;
  createdAt: string;
  publishedAt: string | null;
  refusedReason: string | null;
}

function refundFromRow(row: Row): RefundRecord {
  return {
    refundId: row.refund_id as string,
    rideId: row.ride_id as string,
    amount: row.amount as number,
    currency: row.currency as string,
    reason: row.reason as string,
    requestedBy: row.requested_by as string,
    requestedAt: row.requested_at as string,
    state: row.state as RefundRecord['state'],
    failure: failureFrom(row.failure_code, row.failure_message),
    settledAt: (row.settled_at as string | null) ?? null,
  };
}

/** A ride the driver left unfinished for the next fare (attention.ts). */
export interface ParkedRide {
  rideId: string;
  parkedAt: string;
  outcome: 'paid' | 'failed' | null;
  outcomeAt: string | null;
  seenAt: string | null;
}

function parkedFromRow(row: Row): ParkedRide {
  return {
    rideId: row.ride_id as string,
    parkedAt: row.parked_at as string,
    outcome: (row.outcome as ParkedRide['outcome']) ?? null,
    outcomeAt: (row.outcome_at as string | null) ?? null,
    seenAt: (row.seen_at as string | null) ?? null,
  };
}

/** An order this tablet made at its PSP, and whether the relay has been told of it. */
export interface OrderReport {
  pspOrderId: string;
  rideId: string;
  attempt: number;
  createdAt: string;
  reportedAt: string | null;
  refusedReason: string | null;
}

function orderReportFromRow(row: Row): OrderReport {
  return {
    pspOrderId: row.psp_order_id as string,
    rideId: row.ride_id as string,
    attempt: row.attempt as number,
    createdAt: row.created_at as string,
    reportedAt: (row.reported_at as string | null) ?? null,
    refusedReason: (row.refused_reason as string | null) ?? null,
  };
}

function receiptFromRow(row: Row): StoredReceipt {
  return {
    rideId: row.ride_id as string,
    token: row.token as string,
    payloadJson: row.payload_json as string,
    createdAt: row.created_at as string,
    publishedAt: (row.published_at as string | null) ?? null,
    refusedReason: (row.refused_reason as string | null) ?? null,
  };
}

export class KioskStore {
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(dataDir: string): KioskStore {
    mkdirSync(dataDir, { recursive: true });
    return new KioskStore(openDatabase(path.join(dataDir, DB_FILE_NAME)));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- settings ----
  getSetting(key: SettingKey): string | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
    return row ? (row.value as string) : null;
  }
  setSetting(key: SettingKey, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
  lastSeq(): number {
    return Number(this.getSetting('lastSeq') ?? '0');
  }
  /** Raises lastSeq to `seq` (never lowers it); returns the lastSeq now held. */
  raiseLastSeq(seq: number): number {
    return this.transaction(() => {
      const lastSeq = this.lastSeq();
      if (seq <= lastSeq) return lastSeq;
      this.setSetting('lastSeq', String(seq));
      // Remembered so the invariants can tell this floor from a lost applied event.
      this.setSetting('logStartFloor', String(seq));
      return seq;
    });
  }

  // ---- applied events ----
  isEventApplied(eventId: string): boolean {
    return this.db.prepare('SELECT 1 FROM applied_events WHERE event_id = ?').get(eventId) !== undefined;
  }
  /** A known event: the seq it was last delivered under, and why it was refused (null if it was not). */
  appliedEvent(eventId: string): { seq: number; rejection: string | null } | null {
    const row = this.db.prepare('SELECT seq, rejection FROM applied_events WHERE event_id = ?').get(eventId) as Row | undefined;
    return row ? { seq: row.seq as number, rejection: (row.rejection as string | null) ?? null } : null;
  }
  /**
   * A known event id delivered again under the next seq (a relay bug): nothing is applied, but
   * the seq moves on so delivery does too. The record keeps the seq it was last seen under.
   */
  recordRepeatedEvent(eventId: string, seq: number): void {
    this.db.prepare('UPDATE applied_events SET seq = ? WHERE event_id = ?').run(seq, eventId);
    this.setSetting('lastSeq', String(seq));
  }
  /** Old applied events only guard against duplicates that seq already rules out; keep the latest. */
  pruneAppliedEvents(appliedBefore: string): number {
    return this.db.prepare('DELETE FROM applied_events WHERE applied_at < ? AND seq < ?').run(appliedBefore, this.lastSeq()).changes;
  }
  recordEvent(eventId: string, seq: number, type: string, appliedAt: string, rejection: string | null = null): void {
    this.db
      .prepare('INSERT INTO applied_events (event_id, seq, type, applied_at, rejection) VALUES (?, ?, ?, ?, ?)')
      .run(eventId, seq, type, appliedAt, rejection);
    this.setSetting('lastSeq', String(seq));
  }

  // ---- rides ----
  getRide(rideId: string): Ride | null {
    const row = this.db.prepare('SELECT * FROM rides WHERE ride_id = ?').get(rideId) as Row | undefined;
    return row ? rideFromRow(row) : null;
  }
  getRideByMerchantOrderId(merchantOrderId: string): Ride | null {
    const row = this.db.prepare('SELECT * FROM rides WHERE merchant_order_id = ?').get(merchantOrderId) as Row | undefined;
    return row ? rideFromRow(row) : null;
  }
  saveRide(ride: Ride): void {
    this.db
      .prepare(
        `INSERT INTO rides (ride_id, merchant_order_id, state, started_at, ended_at, currency, lines_json,
           order_status, attempt, session_id, psp_order_id, failure_code, failure_message, tip_amount, payment_qr_json, payment_expires_at)
         VALUES (@rideId, @merchantOrderId, @state, @startedAt, @endedAt, @currency, @linesJson,
           @order, @attempt, @sessionId, @pspOrderId, @failureCode, @failureMessage, @tipAmount, @paymentQrJson, @paymentExpiresAt)
         ON CONFLICT(ride_id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at,
           lines_json = excluded.lines_json, order_status = excluded.order_status, attempt = excluded.attempt,
           session_id = excluded.session_id, psp_order_id = excluded.psp_order_id,
           failure_code = excluded.failure_code, failure_message = excluded.failure_message,
           tip_amount = excluded.tip_amount, payment_qr_json = excluded.payment_qr_json,
           payment_expires_at = excluded.payment_expires_at`,
      )
      .run({
        rideId: ride.rideId,
        merchantOrderId: ride.merchantOrderId,
        state: ride.state,
        startedAt: ride.startedAt,
        endedAt: ride.endedAt,
        currency: ride.currency,
        linesJson: JSON.stringify(ride.lines),
        order: ride.order,
        attempt: ride.attempt,
        sessionId: ride.sessionId,
        pspOrderId: ride.pspOrderId,
        failureCode: ride.failure?.code ?? null,
        failureMessage: ride.failure?.message ?? null,
        // Older callers (and test fixtures) may leave these out.
        tipAmount: ride.tipAmount ?? null,
        paymentQrJson: ride.paymentQr ? JSON.stringify(ride.paymentQr) : null,
        paymentExpiresAt: ride.paymentExpiresAt ?? null,
      });
  }
  /** Rides whose order is at the PSP and whose payment outcome has not arrived yet. */
  listRidesAwaitingConfirmation(): Ride[] {
    return (this.db.prepare(`SELECT * FROM rides WHERE state = 'awaiting_payment' AND order_status = 'created'`).all() as Row[]).map(rideFromRow);
  }
  /**
   * Rides off screen whose payment is under way (order queued or out), other than the one on
   * screen. An `ended` ride left behind never had a scan; no payment is pending for it, and a
   * later scan is the next passenger's, so it is not counted (it stays `ended` in the store).
   */
  countPendingRides(exceptRideId: string | null): number {
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM rides WHERE state = 'awaiting_payment' AND ride_id IS NOT ?`).get(exceptRideId) as Row;
    return row.n as number;
  }

  // ---- sessions ----
  getSession(sessionId: string): Session | null {
    const row = this.db.prepare('SELECT * FROM sessions WHERE session_id = ?').get(sessionId) as Row | undefined;
    return row ? sessionFromRow(row) : null;
  }
  saveSession(session: Session): void {
    this.db
      .prepare(
        `INSERT INTO sessions (session_id, psp, qr_code, allow_tip, one_time_order_api_key, started_at, expires_at, state, ride_id)
         VALUES (@sessionId, @psp, @qrCode, @allowTip, @key, @startedAt, @expiresAt, @state, @rideId)
         ON CONFLICT(session_id) DO UPDATE SET state = excluded.state, ride_id = excluded.ride_id,
           -- a dead session's one-time key is useless to us and should not linger on the tablet
           one_time_order_api_key = CASE WHEN excluded.state IN ('canceled','timed_out','expired')
             THEN NULL ELSE sessions.one_time_order_api_key END`,
      )
      .run({
        sessionId: session.sessionId,
        psp: session.psp,
        qrCode: session.qrCode,
        allowTip: session.allowTip ? 1 : 0,
        key: session.oneTimeOrderApiKey,
        startedAt: session.startedAt,
        expiresAt: session.expiresAt,
        state: session.state,
        rideId: session.rideId,
      });
  }
  /**
   * Sessions whose expiry still matters: ready ones, and those whose ride's order has not gone
   * out; with `dueBy`, only those expired by then. (julianday reads the relay's UTC offsets.)
   */
  listExpirableSessions(dueBy?: string): Session[] {
    const expirable = `(state = 'ready' OR (state = 'in_use' AND ride_id IN (SELECT ride_id FROM rides WHERE order_status = 'queued')))`;
    const rows =
      dueBy === undefined
        ? this.db.prepare(`SELECT * FROM sessions WHERE ${expirable} ORDER BY expires_at`).all()
        : this.db.prepare(`SELECT * FROM sessions WHERE ${expirable} AND julianday(expires_at) <= julianday(?) ORDER BY expires_at`).all(dueBy);
    return (rows as Row[]).map(sessionFromRow);
  }
  /** The next expiry after `after` among the expirable sessions (for the one expiry timer). */
  nextSessionExpiry(after: string): string | null {
    const row = this.db
      .prepare(
        `SELECT expires_at FROM sessions
           WHERE (state = 'ready' OR (state = 'in_use' AND ride_id IN (SELECT ride_id FROM rides WHERE order_status = 'queued')))
             AND julianday(expires_at) > julianday(?)
           ORDER BY julianday(expires_at) LIMIT 1`,
      )
      .get(after) as Row | undefined;
    return row ? (row.expires_at as string) : null;
  }

  // ---- outbox ----
  enqueue(item: OutboxJob, now: string): void {
    this.db
      .prepare(
        `INSERT INTO outbox (ride_id, kind, job_json, idempotency_key, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(item.job.rideId, item.kind, JSON.stringify(item.job), item.job.idempotencyKey, now, now);
  }
  outboxHead(): OutboxEntry | null {
    const row = this.db.prepare('SELECT * FROM outbox ORDER BY id LIMIT 1').get() as Row | undefined;
    return row ? outboxFromRow(row) : null;
  }
  /** The ride's queued payment job (create-order or payment.request), if any. */
  outboxEntryForRide(rideId: string): OutboxEntry | null {
    const row = this.db.prepare(`SELECT * FROM outbox WHERE ride_id = ? AND kind != 'refund' ORDER BY id LIMIT 1`).get(rideId) as Row | undefined;
    return row ? outboxFromRow(row) : null;
  }
  outboxDepth(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as Row).n as number;
  }
  deleteOutboxEntry(id: number): void {
    this.db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
  }
  /** Drops the ride's payment jobs; its refunds go out regardless of what the payment does. */
  deleteOutboxForRide(rideId: string): void {
    this.db.prepare(`DELETE FROM outbox WHERE ride_id = ? AND kind != 'refund'`).run(rideId);
  }
  deleteOutboxForRefund(refundId: string): void {
    this.db.prepare(`DELETE FROM outbox WHERE kind = 'refund' AND idempotency_key = ?`).run(refundIdempotencyKey(refundId));
  }
  scheduleRetry(id: number, tries: number, nextAttemptAt: string, lastError: string): void {
    this.db.prepare('UPDATE outbox SET tries = ?, next_attempt_at = ?, last_error = ? WHERE id = ?').run(tries, nextAttemptAt, lastError, id);
  }
  /** The connection is back: waiting out a backoff computed while offline helps no one. */
  retryOutboxNow(now: string): void {
    this.db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at > ?').run(now, now);
  }

  // ---- payments ----
  getPayment(rideId: string): (PaymentRecord & { refundedAmount: number }) | null {
    const row = this.db.prepare('SELECT * FROM payments WHERE ride_id = ?').get(rideId) as Row | undefined;
    return row ? paymentFromRow(row) : null;
  }
  recordPayment(p: PaymentRecord): void {
    this.db
      .prepare(
        `INSERT INTO payments (ride_id, method, psp_order_id, order_amount, tip_amount, total_amount, currency, paid_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(ride_id) DO UPDATE SET method = excluded.method, psp_order_id = excluded.psp_order_id,
           order_amount = excluded.order_amount, tip_amount = excluded.tip_amount,
           total_amount = excluded.total_amount, currency = excluded.currency, paid_at = excluded.paid_at`,
      )
      .run(p.rideId, p.method, p.pspOrderId, p.orderAmount, p.tipAmount, p.totalAmount, p.currency, p.paidAt);
  }
  /** Never above the amount paid, whatever the events say. */
  addRefund(rideId: string, amount: number): void {
    this.db.prepare('UPDATE payments SET refunded_amount = MIN(total_amount, refunded_amount + ?) WHERE ride_id = ?').run(amount, rideId);
  }
  /** The last paid rides, newest first (the refund menu). */
  listRecentPayments(limit: number): (PaymentRecord & { refundedAmount: number })[] {
    return (this.db.prepare('SELECT * FROM payments ORDER BY paid_at DESC, rowid DESC LIMIT ?').all(limit) as Row[]).map(paymentFromRow);
  }

  // ---- refunds ----
  getRefund(refundId: string): RefundRecord | null {
    const row = this.db.prepare('SELECT * FROM refunds WHERE refund_id = ?').get(refundId) as Row | undefined;
    return row ? refundFromRow(row) : null;
  }
  saveRefund(r: RefundRecord): void {
    this.db
      .prepare(
        `INSERT INTO refunds (refund_id, ride_id, amount, currency, reason, requested_by, requested_at, state,
           failure_code, failure_message, settled_at)
         VALUES (@refundId, @rideId, @amount, @currency, @reason, @requestedBy, @requestedAt, @state,
           @failureCode, @failureMessage, @settledAt)
         ON CONFLICT(refund_id) DO UPDATE SET state = excluded.state, failure_code = excluded.failure_code,
           failure_message = excluded.failure_message, settled_at = excluded.settled_at`,
      )
      .run({
        refundId: r.refundId,
        rideId: r.rideId,
        amount: r.amount,
        currency: r.currency,
        reason: r.reason,
        requestedBy: r.requestedBy,
        requestedAt: r.requestedAt,
        state: r.state,
        failureCode: r.failure?.code ?? null,
        failureMessage: r.failure?.message ?? null,
        settledAt: r.settledAt,
      });
  }
  /** The ride's refunds, newest first. */
  listRefunds(rideId: string): RefundRecord[] {
    return (this.db.prepare('SELECT * FROM refunds WHERE ride_id = ? ORDER BY requested_at DESC, rowid DESC').all(rideId) as Row[]).map(refundFromRow);
  }

  // ---- parked rides (attention.ts) ----
  getParkedRide(rideId: string): ParkedRide | null {
    const row = this.db.prepare('SELECT * FROM parked_rides WHERE ride_id = ?').get(rideId) as Row | undefined;
    return row ? parkedFromRow(row) : null;
  }
  parkRide(rideId: string, at: string): void {
    this.db.prepare('INSERT INTO parked_rides (ride_id, parked_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(rideId, at);
  }
  /** Paid or failed since the driver moved on: back on the list (unseen) with the news. */
  noteParkedOutcome(rideId: string, outcome: 'paid' | 'failed', at: string): void {
    this.db.prepare('UPDATE parked_rides SET outcome = ?, outcome_at = ?, seen_at = NULL WHERE ride_id = ?').run(outcome, at, rideId);
  }
  markParkedSeen(rideId: string, at: string): void {
    this.db.prepare('UPDATE parked_rides SET seen_at = ? WHERE ride_id = ? AND seen_at IS NULL').run(at, rideId);
  }
  /** Parked rides the driver has not taken off the list, newest first, with the ride. */
  listUnseenParkedRides(limit: number): { ride: Ride; parked: ParkedRide }[] {
    return (
      this.db
        .prepare(
          `SELECT r.*, p.parked_at, p.outcome, p.outcome_at, p.seen_at FROM parked_rides p JOIN rides r ON r.ride_id = p.ride_id
           WHERE p.seen_at IS NULL ORDER BY p.parked_at DESC, r.rowid DESC LIMIT ?`,
        )
        .all(limit) as Row[]
    ).map((row) => ({ ride: rideFromRow(row), parked: parkedFromRow(row) }));
  }

  // ---- order reports (orders this tablet made at its PSP, for the relay's reconciliation) ----
  addOrderReport(r: Omit<OrderReport, 'reportedAt' | 'refusedReason'>): void {
    this.db
      .prepare('INSERT INTO order_reports (psp_order_id, ride_id, attempt, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(r.pspOrderId, r.rideId, r.attempt, r.createdAt);
  }
  unsentOrderReports(limit: number): OrderReport[] {
    return (
      this.db.prepare('SELECT * FROM order_reports WHERE reported_at IS NULL AND refused_reason IS NULL ORDER BY created_at LIMIT ?').all(limit) as Row[]
    ).map(orderReportFromRow);
  }
  getOrderReport(pspOrderId: string): OrderReport | null {
    const row = this.db.prepare('SELECT * FROM order_reports WHERE psp_order_id = ?').get(pspOrderId) as Row | undefined;
    return row ? orderReportFromRow(row) : null;
  }
  markOrderReported(pspOrderId: string, now: string): void {
    this.db.prepare('UPDATE order_reports SET reported_at = ? WHERE psp_order_id = ?').run(now, pspOrderId);
  }
  markOrderReportRefused(pspOrderId: string, reason: string): void {
    this.db.prepare('UPDATE order_reports SET refused_reason = ? WHERE psp_order_id = ?').run(reason, pspOrderId);
  }

  // ---- receipts ----
  getReceipt(rideId: string): StoredReceipt | null {
    const row = this.db.prepare('SELECT * FROM receipts WHERE ride_id = ?').get(rideId) as Row | undefined;
    return row ? receiptFromRow(row) : null;
  }
  /** A new payload for the ride's receipt (same token once made); it must be published again. */
  saveReceipt(rideId: string, token: string, payloadJson: string, now: string): void {
    this.db
      .prepare(
        `INSERT INTO receipts (ride_id, token, payload_json, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(ride_id) DO UPDATE SET payload_json = excluded.payload_json,
           published_at = NULL, refused_reason = NULL`,
      )
      .run(rideId, token, payloadJson, now);
  }
  unpublishedReceipts(limit: number): StoredReceipt[] {
    return (
      this.db.prepare('SELECT * FROM receipts WHERE published_at IS NULL AND refused_reason IS NULL ORDER BY created_at LIMIT ?').all(limit) as Row[]
    ).map(receiptFromRow);
  }
  /** Only if the payload is still the one that was sent (a newer one must go out too). */
  markReceiptPublished(rideId: string, payloadJson: string, now: string): void {
    this.db.prepare('UPDATE receipts SET published_at = ? WHERE ride_id = ? AND payload_json = ?').run(now, rideId, payloadJson);
  }
  markReceiptRefused(rideId: string, payloadJson: string, reason: string): void {
    this.db.prepare('UPDATE receipts SET refused_reason = ? WHERE ride_id = ? AND payload_json = ?').run(reason, rideId, payloadJson);
  }
}
