/**
 * Digital receipts on the tablet: made in the same transaction as the paid state, with an
 * unguessable token generated here, so the receipt URL is known at once, also offline. The
 * publisher (receipt-publisher.ts) sends them to the relay when it can.
 */
import { randomBytes } from 'node:crypto';
import { localeName } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { receiptPayload, receiptUrl, type ReceiptPayload } from '../../protocol/receipt.js';
import { readDriverSettings } from './driver-settings.js';
import type { KioskStore } from './store.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** 16 random bytes = 128 bits, base64url. */
export function newReceiptToken(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Builds (or rebuilds, keeping its token) the receipt of a paid ride. Caller holds the
 * transaction. Never throws: a receipt that cannot be made must not hold up the paid state
 * (it returns the reason instead, and the ride simply has no receipt URL). `cabPsp` is the cab's
 * configured PSP: a payment without a scan session (HitPay's dynamic QR) names its PSP from it.
 */
export function saveReceiptFor(store: KioskStore, rideId: string, now: string, cabPsp: PspName | null = null): string | null {
  const ride = store.getRide(rideId);
  const payment = store.getPayment(rideId);
  if (!ride || !payment || ride.lines.length === 0) return 'the ride has no payment or no lines';
  const existing = store.getReceipt(rideId);
  const session = ride.sessionId ? store.getSession(ride.sessionId) : null;
  const locale = localeName.safeParse(store.getSetting('locale'));
  const parsed = receiptPayload.safeParse({
    rideId,
    merchantOrderId: ride.merchantOrderId,
    token: existing?.token ?? newReceiptToken(),
    driverId: readDriverSettings(store, ride.currency).driverId,
    startedAt: ride.startedAt,
    endedAt: ride.endedAt ?? payment.paidAt,
    paidAt: payment.paidAt,
    currency: payment.currency,
    lines: ride.lines,
    orderAmount: payment.orderAmount,
    tipAmount: payment.tipAmount,
    totalAmount: payment.totalAmount,
    method: payment.method,
    psp: payment.method === 'psp' ? (session?.psp ?? cabPsp) : null,
    pspReference: payment.pspOrderId,
    locale: locale.success ? locale.data : 'en',
  });
  if (!parsed.success) return zodIssuesText(parsed.error);
  const payload: ReceiptPayload = parsed.data;
  store.saveReceipt(rideId, payload.token, JSON.stringify(payload), now);
  return null;
}

export function receiptUrlFor(store: KioskStore, rideId: string, baseUrl: string): string | null {
  const receipt = store.getReceipt(rideId);
  return receipt ? receiptUrl(baseUrl, receipt.token) : null;
}
