/**
 * What the passenger's side shows while a ride is being paid, as pure functions of the snapshot
 * and the clock. Every branch reads `cab.capabilities`, never the PSP's name, so a new PSP with
 * the same flags gets the same screens.
 */
import type { KioskSnapshot, RecentPaymentView, RideView } from '../../protocol/kiosk-api.js';
import { maxTip } from '../../protocol/money.js';
import { TIP_PRESETS_PERCENT } from '../../protocol/psp-capabilities.js';

export interface TipPreset {
  percent: number;
  amount: number;
}

/** The preset tips in minor units, rounded down so that 20 % is exactly the cap. */
export function tipPresets(orderAmount: number): TipPreset[] {
  return TIP_PRESETS_PERCENT.map((percent) => ({ percent, amount: Math.floor((orderAmount * percent) / 100) }));
}

/** A custom tip is allowed from 0 up to the cap (20 % of the order amount). */
export function tipAllowed(tipMinor: number, orderAmount: number): boolean {
  return Number.isSafeInteger(tipMinor) && tipMinor >= 0 && tipMinor <= maxTip(orderAmount);
}

export type PassengerView =
  /** The passenger picks a tip on the tablet before the payment goes out. */
  | 'pick_tip'
  /** The relay's dynamic QR for this ride, still valid. */
  | 'dynamic_qr'
  /** The dynamic QR's time is up; the driver makes a new one. */
  | 'qr_expired'
  /** A dynamic-QR PSP: the request is on its way, no QR yet. */
  | 'preparing_qr'
  /** The request is in the passenger's app, waiting for approval. */
  | 'approve_in_app'
  /** The cab's static QR: scan (again) to pay. */
  | 'scan_static'
  /** A failed dynamic-QR payment: nothing to scan until the driver makes a new QR. */
  | 'failed_no_qr'
  /** A failed in-app payment the driver can send again to the same check-in: no new scan. */
  | 'failed_send_again';

/** The passenger's view for a ride that is ended, awaiting payment or failed. */
export function passengerView(snapshot: KioskSnapshot, nowMs: number): PassengerView {
  const ride = snapshot.ride;
  const caps = snapshot.cab.capabilities;
  if (!ride) return 'scan_static';
  if (caps.tipOnTablet && ride.tipAmount === null) return 'pick_tip';
  if (ride.state === 'failed') {
    if (!caps.staticQr) return 'failed_no_qr';
    // The driver's button sends the request again; "scan to pay" would contradict it.
    return canRetryPayment(snapshot) ? 'failed_send_again' : 'scan_static';
  }
  if (ride.paymentQr) return secondsLeft(ride.paymentQr.expiresAt, nowMs) > 0 ? 'dynamic_qr' : 'qr_expired';
  if (caps.dynamicQr) return 'preparing_qr';
  return ride.state === 'awaiting_payment' ? 'approve_in_app' : 'scan_static';
}

/** Whole seconds until `expiresAt`, never below 0 (an unreadable time counts as expired). */
export function secondsLeft(expiresAt: string, nowMs: number): number {
  const end = Date.parse(expiresAt);
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.ceil((end - nowMs) / 1000));
}

/** "04:59": minutes and seconds, as a countdown shows them. */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The tip the ride's payment carries: the one picked on the tablet, else none yet. */
export function rideTip(ride: RideView): number {
  return ride.tipAmount ?? 0;
}

/** Failures a fresh payment request can cure (the relay makes the payment, the passenger is still here). */
const RETRYABLE_FAILURES: ReadonlySet<string> = new Set(['payment_expired', 'payment_rejected', 'payment_canceled']);

export function canRetryPayment(snapshot: KioskSnapshot): boolean {
  const ride = snapshot.ride;
  return (
    snapshot.cab.capabilities.relayMakesPayment &&
    ride !== null &&
    ride.state === 'failed' &&
    ride.failure !== null &&
    RETRYABLE_FAILURES.has(ride.failure.code)
  );
}

/** A refund amount is allowed from 1 minor unit up to what may still be refunded. */
export function refundAllowed(amountMinor: number, payment: RecentPaymentView): boolean {
  return Number.isSafeInteger(amountMinor) && amountMinor > 0 && amountMinor <= payment.refundableAmount;
}
