/** What the console shows of a cab: its registry row and live state, and on its page what the relay knows of its money. */
import type Database from 'better-sqlite3';
import type { CabEventView, CabView, PaymentView, RefundView } from '../../protocol/console-api.js';
import type { CabRecord } from '../store/relay-store.js';

export type { CabEventView, CabView, PaymentView, RefundView };

export function cabView(cab: CabRecord, online: boolean): CabView {
  return {
    cabId: cab.cabId,
    plate: cab.plate,
    label: cab.label,
    psp: cab.psp,
    enabled: cab.enabled,
    online,
    lastSeenAt: cab.lastSeenAt,
    appVersion: cab.appVersion,
    rideState: cab.rideState,
    outboxDepth: cab.outboxDepth,
    backlog: cab.backlog,
    qrCodes: cab.qrCodes,
    qrContent: cab.qrContent,
  };
}

export const RECENT_LIMIT = 50;

export class CabHistory {
  private readonly events;
  private readonly payments;
  private readonly refunds;

  constructor(db: Database.Database) {
    this.events = db.prepare<
      [string, number],
      { seq: number; id: string; type: string; occurred_at: string; committed_at_ms: number; acked_at_ms: number | null; data: string }
    >(`SELECT seq, id, type, occurred_at, committed_at_ms, acked_at_ms, data FROM events WHERE cab_id = ? ORDER BY seq DESC LIMIT ?`);
    this.payments = db.prepare<[string, number], Record<string, string | number>>(
      `SELECT ride_id, attempt, psp, reference, order_amount, tip_amount, currency, status, created_at, updated_at
       FROM payments WHERE cab_id = ? ORDER BY created_at DESC, attempt DESC LIMIT ?`,
    );
    this.refunds = db.prepare<[string, number], Record<string, string | number>>(
      `SELECT refund_id, ride_id, psp, amount, currency, reason, requested_by, status, requested_at, updated_at
       FROM refunds WHERE cab_id = ? ORDER BY requested_at DESC LIMIT ?`,
    );
  }

  recentEvents(cabId: string): CabEventView[] {
    return this.events.all(cabId, RECENT_LIMIT).map((r) => ({
      seq: r.seq,
      id: r.id,
      type: r.type,
      occurredAt: r.occurred_at,
      committedAt: new Date(r.committed_at_ms).toISOString(),
      ackedAt: r.acked_at_ms === null ? null : new Date(r.acked_at_ms).toISOString(),
      data: JSON.parse(r.data) as unknown,
    }));
  }

  recentPayments(cabId: string): PaymentView[] {
    return this.payments.all(cabId, RECENT_LIMIT).map((r) => ({
      rideId: String(r.ride_id),
      attempt: Number(r.attempt),
      psp: String(r.psp),
      reference: String(r.reference),
      amount: Number(r.order_amount),
      tip: Number(r.tip_amount),
      currency: String(r.currency),
      status: String(r.status),
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
    }));
  }

  recentRefunds(cabId: string): RefundView[] {
    return this.refunds.all(cabId, RECENT_LIMIT).map((r) => ({
      refundId: String(r.refund_id),
      rideId: String(r.ride_id),
      psp: String(r.psp),
      amount: Number(r.amount),
      currency: String(r.currency),
      reason: String(r.reason),
      requestedBy: String(r.requested_by),
      status: String(r.status),
      requestedAt: String(r.requested_at),
      updatedAt: String(r.updated_at),
    }));
  }
}
