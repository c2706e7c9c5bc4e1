/**
 * Relay-made payments, check-ins, refunds and the adapters' key/value table (migration 4).
 * The meta values and the check-ins' customer tokens are secrets: sealed with the SecretBox
 * when RELAY_SECRETS_KEY is set.
 * Each method commits before it resolves (plain better-sqlite3 transactions on the relay's
 * main connection; SQLite serializes them with the store writer thread's group commits).
 */
import type Database from 'better-sqlite3';
import type { OrderLine, PspName } from '../../protocol/relay-protocol.js';
import type { CheckIn } from '../psp/psp-adapter.js';
import { isSealed, SecretKeyError, type SecretBox } from '../secret-box.js';
import { paidPaymentReader, type PaidPayment } from './paid-payments.js';

export type PaymentStatus = 'pending' | 'created' | 'authorized' | 'captured' | 'paid' | 'failed' | 'canceled' | 'expired' | 'refunded';
/** No further PSP update changes these. */
export const FINAL_PAYMENT_STATUSES: ReadonlySet<PaymentStatus> = new Set(['paid', 'failed', 'canceled', 'expired', 'refunded']);

export interface PaymentRecord {
  cabId: string;
  rideId: string;
  attempt: number;
  psp: PspName;
  reference: string;
  pspReference: string | null;
  sessionId: string | null;
  orderAmount: number;
  tipAmount: number;
  currency: string;
  lines: OrderLine[];
  status: PaymentStatus;
  /** The first final answer to payment.request, replayed to repeats. */
  ack: unknown;
  qr: { qrData: string; expiresAt: string; paymentRequestId: string } | null;
  expiresAt: string | null;
  captureDue: boolean;
  createdAt: string;
  updatedAt: string;
}

export type NewPayment = Pick<
  PaymentRecord,
  'cabId' | 'rideId' | 'attempt' | 'psp' | 'reference' | 'sessionId' | 'orderAmount' | 'tipAmount' | 'currency' | 'lines'
>;

export interface PaymentPatch {
  status?: PaymentStatus;
  pspReference?: string;
  ack?: unknown;
  qr?: PaymentRecord['qr'];
  expiresAt?: string | null;
  captureDue?: boolean;
}

export type RefundStatus = 'pending' | 'refunded' | 'refused';

export interface RefundRecord {
  refundId: string;
  cabId: string;
  rideId: string;
  merchantOrderId: string;
  psp: PspName;
  pspOrderId: string;
  amount: number;
  currency: string;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  status: RefundStatus;
  pspRefundId: string | null;
  ack: unknown;
  updatedAt: string;
  /** When the relay last sent it to the PSP; a pending refund with it set has an unknown outcome. */
  pspCalledAt: string | null;
}

/** One refund.request as the relay answered it: who asked, for which cab, when, and how it ended. */
export interface RefundAuditEntry {
  id: number;
  refundId: string;
  cabId: string;
  rideId: string;
  psp: PspName;
  pspOrderId: string | null;
  amount: number;
  currency: string | null;
  requestedBy: string;
  requestedAt: string;
  receivedAt: string;
  outcome: RefundAuditOutcome;
  code: string | null;
  message: string | null;
}
/** refunded, refused by the PSP, rejected by the relay's own checks, or not settled yet (unavailable). */
export type RefundAuditOutcome = 'refunded' | 'refused' | 'rejected' | 'unavailable';

export interface RefundAuditFilter {
  cabId?: string;
  rideId?: string;
  outcome?: RefundAuditOutcome;
  /** Received at or after (ISO time). */
  since?: string;
  /** Received before (ISO time). */
  until?: string;
  /** Entries with an id below this (the next page). */
  before?: number;
  limit: number;
}

/** What reserving a refund against a paid payment found. */
export type RefundReservation = { kind: 'reserved'; refund: RefundRecord } | { kind: 'exceeds'; refundable: number };

interface PaymentRow {
  cab_id: string;
  ride_id: string;
  attempt: number;
  psp: string;
  reference: string;
  psp_reference: string | null;
  session_id: string | null;
  order_amount: number;
  tip_amount: number;
  currency: string;
  lines_json: string;
  status: string;
  ack_json: string | null;
  qr_json: string | null;
  expires_at: string | null;
  capture_due: number;
  created_at: string;
  updated_at: string;
}

interface RefundRow {
  refund_id: string;
  cab_id: string;
  ride_id: string;
  merchant_order_id: string;
  psp: string;
  psp_order_id: string;
  amount: number;
  currency: string;
  reason: string;
  requested_by: string;
  requested_at: string;
  status: string;
  psp_refund_id: string | null;
  ack_json: string | null;
  updated_at: string;
  psp_called_at: string | null;
}

interface RefundAuditRow {
  id: number;
  refund_id: string;
  cab_id: string;
  ride_id: string;
  psp: string;
  psp_order_id: string | null;
  amount: number;
  currency: string | null;
  requested_by: string;
  requested_at: string;
  received_at: string;
  outcome: string;
  code: string | null;
  message: string | null;
}

const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

function toPayment(r: PaymentRow): PaymentRecord {
  return {
    cabId: r.cab_id,
    rideId: r.ride_id,
    attempt: r.attempt,
    psp: r.psp as PspName,
    reference: r.reference,
    pspReference: r.psp_reference,
    sessionId: r.session_id,
    orderAmount: r.order_amount,
    tipAmount: r.tip_amount,
    currency: r.currency,
    lines: JSON.parse(r.lines_json) as OrderLine[],
    status: r.status as PaymentStatus,
    ack: parse(r.ack_json),
    qr: parse(r.qr_json) as PaymentRecord['qr'],
    expiresAt: r.expires_at,
    captureDue: r.capture_due === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRefund(r: RefundRow): RefundRecord {
  return {
    refundId: r.refund_id,
    cabId: r.cab_id,
    rideId: r.ride_id,
    merchantOrderId: r.merchant_order_id,
    psp: r.psp as PspName,
    pspOrderId: r.psp_order_id,
    amount: r.amount,
    currency: r.currency,
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    status: r.status as RefundStatus,
    pspRefundId: r.psp_refund_id,
    ack: parse(r.ack_json),
    updatedAt: r.updated_at,
    pspCalledAt: r.psp_called_at,
  };
}

function toAudit(r: RefundAuditRow): RefundAuditEntry {
  return {
    id: r.id,
    refundId: r.refund_id,
    cabId: r.cab_id,
    rideId: r.ride_id,
    psp: r.psp as PspName,
    pspOrderId: r.psp_order_id,
    amount: r.amount,
    currency: r.currency,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    receivedAt: r.received_at,
    outcome: r.outcome as RefundAuditOutcome,
    code: r.code,
    message: r.message,
  };
}

/** Durable key/value pairs for adapters (e.g. the Vipps webhook id and secret). */
export interface MetaStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

export class PaymentStore implements MetaStore {
  private readonly s;
  private readonly paid;

  /** `secrets`: seals the meta values and check-in tokens at rest (RELAY_SECRETS_KEY); null keeps them plain. */
  constructor(
    private readonly db: Database.Database,
    private readonly secrets: SecretBox | null = null,
  ) {
    this.paid = paidPaymentReader(db);
    this.s = {
      metaGet: db.prepare<[string], { value: string }>(`SELECT value FROM meta WHERE key = ?`),
      metaSet: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      payment: db.prepare<[string, string, number], PaymentRow>(`SELECT * FROM payments WHERE cab_id = ? AND ride_id = ? AND attempt = ?`),
      paymentByReference: db.prepare<[string], PaymentRow>(`SELECT * FROM payments WHERE reference = ?`),
      paymentByPspReference: db.prepare<[string, string], PaymentRow>(
        `SELECT * FROM (SELECT * FROM payments WHERE psp_reference = ? UNION ALL SELECT * FROM payments WHERE reference = ?) LIMIT 1`,
      ),
      olderAttempts: db.prepare<[string, string, number], PaymentRow>(
        `SELECT * FROM payments WHERE cab_id = ? AND ride_id = ? AND attempt < ? ORDER BY attempt`,
      ),
      paidOfRide: db.prepare<[string, string], PaymentRow>(
        `SELECT * FROM payments WHERE cab_id = ? AND ride_id = ? AND status IN ('paid', 'refunded') LIMIT 1`,
      ),
      insertPayment: db.prepare(
        `INSERT INTO payments (cab_id, ride_id, attempt, psp, reference, session_id, order_amount, tip_amount, currency, lines_json, status, created_at, updated_at)
         VALUES (@cabId, @rideId, @attempt, @psp, @reference, @sessionId, @orderAmount, @tipAmount, @currency, @linesJson, 'pending', @now, @now)
         ON CONFLICT DO NOTHING`,
      ),
      expired: db.prepare<[string], PaymentRow>(
        `SELECT * FROM payments WHERE status = 'created' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 100`,
      ),
      captureDue: db.prepare<[], PaymentRow>(`SELECT * FROM payments WHERE capture_due = 1 ORDER BY updated_at LIMIT 100`),
      putCheckIn: db.prepare(
        `INSERT INTO checkins (session_id, cab_id, merchant_qr_id, customer_token, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(session_id) DO UPDATE SET cab_id = excluded.cab_id, merchant_qr_id = excluded.merchant_qr_id,
           customer_token = excluded.customer_token, expires_at = excluded.expires_at`,
      ),
      checkIn: db.prepare<[string, string], { session_id: string; merchant_qr_id: string; customer_token: string; expires_at: string }>(
        `SELECT * FROM checkins WHERE session_id = ? AND cab_id = ?`,
      ),
      claimCheckIn: db.prepare(
        `UPDATE checkins SET ride_id = @rideId WHERE session_id = @sessionId AND cab_id = @cabId AND (ride_id IS NULL OR ride_id = @rideId)`,
      ),
      checkInRide: db.prepare<[string, string], { ride_id: string | null }>(`SELECT ride_id FROM checkins WHERE session_id = ? AND cab_id = ?`),
      refund: db.prepare<[string], RefundRow>(`SELECT * FROM refunds WHERE refund_id = ?`),
      insertRefund: db.prepare(
        `INSERT INTO refunds (refund_id, cab_id, ride_id, merchant_order_id, psp, psp_order_id, amount, currency, reason, requested_by, requested_at, status, updated_at)
         VALUES (@refundId, @cabId, @rideId, @merchantOrderId, @psp, @pspOrderId, @amount, @currency, @reason, @requestedBy, @requestedAt, 'pending', @now)
         ON CONFLICT DO NOTHING`,
      ),
      finishRefund: db.prepare(`UPDATE refunds SET status = ?, psp_refund_id = ?, ack_json = ?, updated_at = ? WHERE refund_id = ? AND status = 'pending'`),
      refundsOfPayment: db.prepare<[string, string], RefundRow>(`SELECT * FROM refunds WHERE psp = ? AND psp_order_id = ? ORDER BY updated_at, refund_id`),
      refundCalled: db.prepare(`UPDATE refunds SET psp_called_at = ?, updated_at = ? WHERE refund_id = ? AND status = 'pending'`),
      refundNotSent: db.prepare(`UPDATE refunds SET psp_called_at = NULL, updated_at = ? WHERE refund_id = ? AND status = 'pending'`),
      insertAudit: db.prepare(
        `INSERT INTO refund_audit (refund_id, cab_id, ride_id, psp, psp_order_id, amount, currency, requested_by, requested_at, received_at, outcome, code, message)
         VALUES (@refundId, @cabId, @rideId, @psp, @pspOrderId, @amount, @currency, @requestedBy, @requestedAt, @receivedAt, @outcome, @code, @message)`,
      ),
      captureSent: db.prepare(`UPDATE payments SET capture_sent_at = ? WHERE reference = ?`),
      captureSentAt: db.prepare<[string], { capture_sent_at: string | null }>(`SELECT capture_sent_at FROM payments WHERE reference = ?`),
      allMeta: db.prepare<[], { key: string; value: string }>(`SELECT key, value FROM meta`),
      allCheckInTokens: db.prepare<[], { session_id: string; customer_token: string }>(`SELECT session_id, customer_token FROM checkins`),
      setCheckInToken: db.prepare(`UPDATE checkins SET customer_token = ? WHERE session_id = ?`),
    };
  }

  // ---- secrets at rest --------------------------------------------------------------------

  private conceal(plain: string, where: string): string {
    return this.secrets ? this.secrets.seal(plain, where) : plain;
  }

  private reveal(stored: string, where: string): string {
    if (!isSealed(stored)) return stored;
    if (!this.secrets)
      throw new SecretKeyError(`the stored secret ${where} is encrypted, but RELAY_SECRETS_KEY is not set: set it to the key the database was written with`);
    return this.secrets.open(stored, where);
  }

  /**
   * At start: with a key, seals what was stored in plain text (before the key was set) and
   * checks that the key opens what is sealed; without one, refuses a database whose secrets are
   * sealed. Throws SecretKeyError with what to do; returns how many values it sealed now.
   */
  protectStoredSecrets(): { sealedNow: number; plain: number } {
    const values = [
      ...this.s.allMeta.all().map((r) => ({ stored: r.value, where: `meta:${r.key}`, write: (v: string) => this.s.metaSet.run(r.key, v) })),
      ...this.s.allCheckInTokens.all().map((r) => ({
        stored: r.customer_token,
        where: `checkin:${r.session_id}`,
        write: (v: string) => this.s.setCheckInToken.run(v, r.session_id),
      })),
    ];
    return this.db.transaction(() => {
      let sealedNow = 0;
      for (const value of values) {
        const plain = this.reveal(value.stored, value.where);
        if (this.secrets && !isSealed(value.stored)) {
          value.write(this.secrets.seal(plain, value.where));
          sealedNow++;
        }
      }
      return { sealedNow, plain: this.secrets ? 0 : values.length };
    })();
  }

  // ---- meta -----------------------------------------------------------------------------

  async get(key: string): Promise<string | null> {
    const stored = this.s.metaGet.get(key)?.value;
    return stored === undefined ? null : this.reveal(stored, `meta:${key}`);
  }

  async set(key: string, value: string): Promise<void> {
    this.s.metaSet.run(key, this.conceal(value, `meta:${key}`));
  }

  // ---- payments ---------------------------------------------------------------------------

  async payment(cabId: string, rideId: string, attempt: number): Promise<PaymentRecord | null> {
    const row = this.s.payment.get(cabId, rideId, attempt);
    return row ? toPayment(row) : null;
  }

  async paymentByReference(reference: string): Promise<PaymentRecord | null> {
    const row = this.s.paymentByReference.get(reference);
    return row ? toPayment(row) : null;
  }

  /** By the PSP's id (HitPay's request id), or by our reference (Vipps uses ours). */
  async paymentByPspReference(pspReference: string): Promise<PaymentRecord | null> {
    const row = this.s.paymentByPspReference.get(pspReference, pspReference);
    return row ? toPayment(row) : null;
  }

  async olderAttempts(cabId: string, rideId: string, attempt: number): Promise<PaymentRecord[]> {
    return this.s.olderAttempts.all(cabId, rideId, attempt).map(toPayment);
  }

  async paidAttemptOfRide(cabId: string, rideId: string): Promise<PaymentRecord | null> {
    const row = this.s.paidOfRide.get(cabId, rideId);
    return row ? toPayment(row) : null;
  }

  /** Inserts a pending row unless the attempt exists; returns the row as stored. */
  async insertPayment(p: NewPayment, nowIso: string): Promise<PaymentRecord> {
    this.s.insertPayment.run({ ...p, linesJson: JSON.stringify(p.lines), now: nowIso });
    return toPayment(this.s.payment.get(p.cabId, p.rideId, p.attempt)!);
  }

  /**
   * Applies `patch` when the row's status is one of `from` (all when omitted); false when the
   * row was not in such a state (someone else moved it on first).
   */
  async updatePayment(reference: string, patch: PaymentPatch, nowIso: string, from?: readonly PaymentStatus[]): Promise<boolean> {
    const sets: string[] = ['updated_at = @now'];
    const params: Record<string, unknown> = { reference, now: nowIso };
    if (patch.status !== undefined) {
      sets.push('status = @status');
      params.status = patch.status;
    }
    if (patch.pspReference !== undefined) {
      sets.push('psp_reference = @pspReference');
      params.pspReference = patch.pspReference;
    }
    if (patch.ack !== undefined) {
      sets.push('ack_json = @ack');
      params.ack = JSON.stringify(patch.ack);
    }
    if (patch.qr !== undefined) {
      sets.push('qr_json = @qr');
      params.qr = patch.qr === null ? null : JSON.stringify(patch.qr);
    }
    if (patch.expiresAt !== undefined) {
      sets.push('expires_at = @expiresAt');
      params.expiresAt = patch.expiresAt;
    }
    if (patch.captureDue !== undefined) {
      sets.push('capture_due = @captureDue');
      params.captureDue = patch.captureDue ? 1 : 0;
    }
    let where = 'reference = @reference';
    if (from) {
      from.forEach((s, i) => (params[`from${i}`] = s));
      where += ` AND status IN (${from.map((_, i) => `@from${i}`).join(', ')})`;
    }
    return this.db.prepare(`UPDATE payments SET ${sets.join(', ')} WHERE ${where}`).run(params).changes > 0;
  }

  async expiredPayments(nowIso: string): Promise<PaymentRecord[]> {
    return this.s.expired.all(nowIso).map(toPayment);
  }

  async capturesDue(): Promise<PaymentRecord[]> {
    return this.s.captureDue.all().map(toPayment);
  }

  // ---- check-ins --------------------------------------------------------------------------

  async putCheckIn(cabId: string, c: CheckIn): Promise<void> {
    this.s.putCheckIn.run(c.sessionId, cabId, c.merchantQrId, this.conceal(c.customerToken, `checkin:${c.sessionId}`), c.expiresAt);
  }

  async checkIn(cabId: string, sessionId: string): Promise<CheckIn | null> {
    const r = this.s.checkIn.get(sessionId, cabId);
    return r
      ? {
          sessionId: r.session_id,
          merchantQrId: r.merchant_qr_id,
          customerToken: this.reveal(r.customer_token, `checkin:${r.session_id}`),
          expiresAt: r.expires_at,
        }
      : null;
  }

  /**
   * A check-in pays one ride: binds it to `rideId` in one statement, unless another ride holds it.
   * The same ride again (a retry, a new attempt) is `claimed` again.
   */
  async claimCheckIn(
    cabId: string,
    sessionId: string,
    rideId: string,
  ): Promise<{ status: 'claimed' } | { status: 'used'; rideId: string } | { status: 'unknown' }> {
    if (this.s.claimCheckIn.run({ cabId, sessionId, rideId }).changes > 0) return { status: 'claimed' };
    const row = this.s.checkInRide.get(sessionId, cabId);
    return row?.ride_id ? { status: 'used', rideId: row.ride_id } : { status: 'unknown' };
  }

  // ---- refunds ----------------------------------------------------------------------------

  async refund(refundId: string): Promise<RefundRecord | null> {
    const row = this.s.refund.get(refundId);
    return row ? toRefund(row) : null;
  }

  /** Settles a pending refund; false when it was settled already. */
  async finishRefund(refundId: string, status: RefundStatus, pspRefundId: string | null, ack: unknown, nowIso: string): Promise<boolean> {
    return this.s.finishRefund.run(status, pspRefundId, JSON.stringify(ack), nowIso, refundId).changes > 0;
  }

  async refundsOfPayment(psp: PspName, pspOrderId: string): Promise<RefundRecord[]> {
    return this.s.refundsOfPayment.all(psp, pspOrderId).map(toRefund);
  }

  /**
   * Records the refund as pending against `paid` when what is refunded and pending of the payment
   * leaves room for it, in one transaction (a second relay process cannot overbook it either).
   * A refund already stored under this id (not sent, or found not to have happened) is kept.
   */
  async reserveRefund(
    r: Omit<RefundRecord, 'status' | 'pspRefundId' | 'ack' | 'updatedAt' | 'pspCalledAt'>,
    paid: PaidPayment,
    nowIso: string,
  ): Promise<RefundReservation> {
    return this.db
      .transaction((): RefundReservation => {
        const others = this.s.refundsOfPayment.all(paid.psp, paid.pspOrderId).filter((x) => x.refund_id !== r.refundId);
        const booked = others.reduce((sum, x) => sum + (x.status === 'refused' ? 0 : x.amount), 0);
        const refundable = paid.totalAmount - booked;
        if (r.amount > refundable) return { kind: 'exceeds', refundable: Math.max(0, refundable) };
        this.s.insertRefund.run({ ...r, now: nowIso });
        return { kind: 'reserved', refund: toRefund(this.s.refund.get(r.refundId)!) };
      })
      .immediate();
  }

  /** Marks the refund as sent to the PSP, before the call: from now on its outcome is looked up, never assumed. */
  async markRefundCalled(refundId: string, nowIso: string): Promise<void> {
    this.s.refundCalled.run(nowIso, nowIso, refundId);
  }

  /** The PSP says it never booked this refund: it may be sent again. */
  async markRefundNotSent(refundId: string, nowIso: string): Promise<void> {
    this.s.refundNotSent.run(nowIso, refundId);
  }

  // ---- paid payments (written by the store with their order.paid event) ------------------

  async paidPaymentsOfRide(cabId: string, rideId: string): Promise<PaidPayment[]> {
    return this.paid.ofRide(cabId, rideId);
  }

  // ---- the refund audit -------------------------------------------------------------------

  async auditRefund(entry: Omit<RefundAuditEntry, 'id'>): Promise<void> {
    this.s.insertAudit.run(entry);
  }

  async refundAudit(filter: RefundAuditFilter): Promise<RefundAuditEntry[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    const conditions: [unknown, string, string][] = [
      [filter.cabId, 'cab_id = @cabId', 'cabId'],
      [filter.rideId, 'ride_id = @rideId', 'rideId'],
      [filter.outcome, 'outcome = @outcome', 'outcome'],
      [filter.since, 'received_at >= @since', 'since'],
      [filter.until, 'received_at < @until', 'until'],
      [filter.before, 'id < @before', 'before'],
    ];
    for (const [value, condition, name] of conditions) {
      if (value === undefined) continue;
      where.push(condition);
      params[name] = value;
    }
    const sql = `SELECT * FROM refund_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return this.db.prepare<[Record<string, unknown>], RefundAuditRow>(sql).all(params).map(toAudit);
  }

  // ---- captures ---------------------------------------------------------------------------

  /** Marks a capture as sent, before the call: a later one first asks the PSP what was captured. */
  async markCaptureSent(reference: string, nowIso: string): Promise<void> {
    this.s.captureSent.run(nowIso, reference);
  }

  async captureSentAt(reference: string): Promise<string | null> {
    return this.s.captureSentAt.get(reference)?.capture_sent_at ?? null;
  }
}
