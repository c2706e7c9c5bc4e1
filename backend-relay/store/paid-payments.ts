/**
 * The payments the relay itself knows are paid, one per (psp, pspOrderId). A row is written in
 * the same transaction as the order.paid event that tells the cab (sqlite-store's appendEvent),
 * whichever way the relay learnt it: a Hips webhook, a relay-made payment's update, or
 * reconciliation. Refunds and receipts are checked against these rows, never against what a
 * tablet says.
 */
import type Database from 'better-sqlite3';
import { orderPaid, type PspName } from '../../protocol/relay-protocol.js';
import type { NewEvent } from './relay-store.js';

export interface PaidPayment {
  psp: PspName;
  pspOrderId: string;
  cabId: string;
  rideId: string;
  merchantOrderId: string;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  currency: string;
  paidAt: string;
}

export interface PaidPaymentRow {
  psp: string;
  psp_order_id: string;
  cab_id: string;
  ride_id: string;
  merchant_order_id: string;
  order_amount: number;
  tip_amount: number;
  total_amount: number;
  currency: string;
  paid_at: string;
}

export const INSERT_PAID_PAYMENT = `
  INSERT INTO paid_payments (psp, psp_order_id, cab_id, ride_id, merchant_order_id, order_amount, tip_amount, total_amount, currency, paid_at)
  VALUES (@psp, @psp_order_id, @cab_id, @ride_id, @merchant_order_id, @order_amount, @tip_amount, @total_amount, @currency, @paid_at)
  ON CONFLICT DO NOTHING`;

/** The row an order.paid event records; null for any other event or one not about its own cab. */
export function paidPaymentOfEvent(event: NewEvent): PaidPaymentRow | null {
  if (event.type !== 'order.paid') return null;
  const data = orderPaid.safeParse(event.data);
  if (!data.success) return null;
  const prefix = `${event.cabId}.`;
  const { merchantOrderId } = data.data;
  if (!merchantOrderId.startsWith(prefix) || merchantOrderId.length === prefix.length) return null;
  return {
    psp: event.psp,
    psp_order_id: data.data.pspOrderId,
    cab_id: event.cabId,
    ride_id: merchantOrderId.slice(prefix.length),
    merchant_order_id: merchantOrderId,
    order_amount: data.data.orderAmount,
    tip_amount: data.data.tipAmount,
    total_amount: data.data.totalAmount,
    currency: data.data.currency.toUpperCase(),
    paid_at: event.occurredAt,
  };
}

/** Synchronous reads of the paid payments (receipt.publish answers without waiting). */
export function paidPaymentReader(db: Database.Database): {
  byPspOrder(psp: PspName, pspOrderId: string): PaidPayment | null;
  ofRide(cabId: string, rideId: string): PaidPayment[];
} {
  const one = db.prepare<[string, string], PaidPaymentRow>(`SELECT * FROM paid_payments WHERE psp = ? AND psp_order_id = ?`);
  const ofRide = db.prepare<[string, string], PaidPaymentRow>(`SELECT * FROM paid_payments WHERE cab_id = ? AND ride_id = ? ORDER BY paid_at, psp_order_id`);
  return {
    byPspOrder: (psp, pspOrderId) => {
      const row = one.get(psp, pspOrderId);
      return row ? toPaidPayment(row) : null;
    },
    ofRide: (cabId, rideId) => ofRide.all(cabId, rideId).map(toPaidPayment),
  };
}

export function toPaidPayment(r: PaidPaymentRow): PaidPayment {
  return {
    psp: r.psp as PspName,
    pspOrderId: r.psp_order_id,
    cabId: r.cab_id,
    rideId: r.ride_id,
    merchantOrderId: r.merchant_order_id,
    orderAmount: r.order_amount,
    tipAmount: r.tip_amount,
    totalAmount: r.total_amount,
    currency: r.currency,
    paidAt: r.paid_at,
  };
}
