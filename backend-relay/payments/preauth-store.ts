/**
 * Vipps pre-authorization reservations (migration 5, `store/preauth-schema.ts`). Every status
 * change is a compare-and-set on the current status, so a hook and the relay's own work never
 * both move one reservation on. Claiming a reservation for a ride writes the ride's payment row
 * in the same transaction: a crash leaves either both or neither.
 */
import type Database from 'better-sqlite3';
import type { PaymentRequestAck, PspName } from '../../protocol/relay-protocol.js';
import type { NewPayment } from '../store/payment-store.js';

export type ReservationStatus =
  | 'pending' // stored at check-in; the create call is due
  | 'created' // pushed to the passenger's app
  | 'authorized' // approved: usable for the fare
  | 'rejected'
  | 'expired'
  | 'failed' // Vipps refused the create (an expired check-in)
  | 'cancel_due' // not used; the whole reservation is to be canceled at Vipps
  | 'canceled'
  | 'capture_due' // claimed by a ride: capture the final amount
  | 'release_due' // captured (or the capture refused): release the rest
  | 'settled'
  | 'release_failed';

/** Statuses with work for the relay (swept at start and on every sweep). */
export const DUE_RESERVATION_STATUSES: readonly ReservationStatus[] = ['pending', 'cancel_due', 'capture_due', 'release_due'];
/** Not yet used by a ride and still live at Vipps (or about to be). */
export const OPEN_RESERVATION_STATUSES: readonly ReservationStatus[] = ['pending', 'created', 'authorized'];

export interface ReservationRecord {
  reference: string;
  cabId: string;
  sessionId: string;
  psp: PspName;
  amount: number;
  currency: string;
  status: ReservationStatus;
  rideId: string | null;
  attempt: number | null;
  captureAmount: number | null;
  createdAt: string;
  updatedAt: string;
}

interface ReservationRow {
  reference: string;
  cab_id: string;
  session_id: string;
  psp: string;
  amount: number;
  currency: string;
  status: string;
  ride_id: string | null;
  attempt: number | null;
  capture_amount: number | null;
  created_at: string;
  updated_at: string;
}

function toReservation(r: ReservationRow): ReservationRecord {
  return {
    reference: r.reference,
    cabId: r.cab_id,
    sessionId: r.session_id,
    psp: r.psp as PspName,
    amount: r.amount,
    currency: r.currency,
    status: r.status as ReservationStatus,
    rideId: r.ride_id,
    attempt: r.attempt,
    captureAmount: r.capture_amount,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const inList = (statuses: readonly ReservationStatus[]) => statuses.map((s) => `'${s}'`).join(', ');

export class PreauthStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO reservations (reference, cab_id, session_id, psp, amount, currency, status, created_at, updated_at)
         VALUES (@reference, @cabId, @sessionId, @psp, @amount, @currency, 'pending', @now, @now)
         ON CONFLICT DO NOTHING`,
      ),
      byReference: db.prepare<[string], ReservationRow>(`SELECT * FROM reservations WHERE reference = ?`),
      bySession: db.prepare<[string, string], ReservationRow>(`SELECT * FROM reservations WHERE cab_id = ? AND session_id = ?`),
      openOfCab: db.prepare<[string], ReservationRow>(
        `SELECT * FROM reservations WHERE cab_id = ? AND status IN (${inList(OPEN_RESERVATION_STATUSES)}) ORDER BY created_at`,
      ),
      due: db.prepare<[], ReservationRow>(`SELECT * FROM reservations WHERE status IN (${inList(DUE_RESERVATION_STATUSES)}) ORDER BY updated_at LIMIT 100`),
      stale: db.prepare<[string], ReservationRow>(
        `SELECT * FROM reservations WHERE status IN (${inList(OPEN_RESERVATION_STATUSES)}) AND created_at <= ? ORDER BY created_at LIMIT 100`,
      ),
      claim: db.prepare(
        `UPDATE reservations SET status = 'capture_due', ride_id = @rideId, attempt = @attempt, capture_amount = @captureAmount, updated_at = @now
         WHERE reference = @reference AND status = 'authorized'`,
      ),
      // The ride's payment row: known by the reservation's reference, authorized, its capture
      // driven by the reservation (capture_due stays 0 so the plain capture path leaves it alone).
      insertPayment: db.prepare(
        `INSERT INTO payments (cab_id, ride_id, attempt, psp, reference, psp_reference, session_id, order_amount, tip_amount, currency, lines_json, status, ack_json, capture_due, created_at, updated_at)
         VALUES (@cabId, @rideId, @attempt, @psp, @reference, @reference, @sessionId, @orderAmount, @tipAmount, @currency, @linesJson, 'authorized', @ackJson, 0, @now, @now)`,
      ),
    };
  }

  /** Stores a new reservation as pending unless the session has one; returns the stored row. */
  async insert(r: Pick<ReservationRecord, 'reference' | 'cabId' | 'sessionId' | 'psp' | 'amount' | 'currency'>, nowIso: string): Promise<ReservationRecord> {
    this.s.insert.run({ ...r, now: nowIso });
    return toReservation(this.s.bySession.get(r.cabId, r.sessionId)!);
  }

  async byReference(reference: string): Promise<ReservationRecord | null> {
    const row = this.s.byReference.get(reference);
    return row ? toReservation(row) : null;
  }

  async bySession(cabId: string, sessionId: string): Promise<ReservationRecord | null> {
    const row = this.s.bySession.get(cabId, sessionId);
    return row ? toReservation(row) : null;
  }

  async openOfCab(cabId: string): Promise<ReservationRecord[]> {
    return this.s.openOfCab.all(cabId).map(toReservation);
  }

  async due(): Promise<ReservationRecord[]> {
    return this.s.due.all().map(toReservation);
  }

  /** Open reservations created at or before `beforeIso` (abandoned: no ride end came). */
  async staleOpen(beforeIso: string): Promise<ReservationRecord[]> {
    return this.s.stale.all(beforeIso).map(toReservation);
  }

  /** Moves the reservation to `to` when its status is one of `from`; false when it was not. */
  async move(reference: string, from: readonly ReservationStatus[], to: ReservationStatus, nowIso: string): Promise<boolean> {
    const params: Record<string, unknown> = { reference, to, now: nowIso };
    from.forEach((s, i) => (params[`from${i}`] = s));
    const sql = `UPDATE reservations SET status = @to, updated_at = @now WHERE reference = @reference AND status IN (${from.map((_, i) => `@from${i}`).join(', ')})`;
    return this.db.prepare(sql).run(params).changes > 0;
  }

  /**
   * Claims an authorized reservation for one attempt of a ride and writes that attempt's payment
   * row (reference = the reservation's, status authorized, `ack`), in one transaction. False
   * when the reservation was no longer authorized or the attempt already has a row.
   */
  async claim(reference: string, payment: NewPayment, captureAmount: number, ack: PaymentRequestAck, nowIso: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const claimed = this.s.claim.run({ reference, rideId: payment.rideId, attempt: payment.attempt, captureAmount, now: nowIso }).changes > 0;
        if (!claimed) return false;
        this.s.insertPayment.run({
          cabId: payment.cabId,
          rideId: payment.rideId,
          attempt: payment.attempt,
          psp: payment.psp,
          reference,
          sessionId: payment.sessionId,
          orderAmount: payment.orderAmount,
          tipAmount: payment.tipAmount,
          currency: payment.currency,
          linesJson: JSON.stringify(payment.lines),
          ackJson: JSON.stringify(ack),
          now: nowIso,
        });
        return true;
      })
      .immediate();
  }
}
