/**
 * Which screen the kiosk shows is a pure function of the core's snapshot; the UI keeps no
 * copy of the ride state of its own. The core's ride machine already folds sessions into the
 * ride state (a live session turns "ended" into "awaiting_payment", a canceled one fails
 * the ride), so the ride state decides the screen.
 */
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { PspCapabilities } from '../../protocol/psp-capabilities.js';
import type { MessageKey } from './i18n/en.js';

export const screenNames = ['idle', 'on_ride', 'ended', 'awaiting_payment', 'paid', 'failed', 'canceled'] as const;
export type ScreenName = (typeof screenNames)[number];

export function screenFor(snapshot: KioskSnapshot): ScreenName {
  const ride = snapshot.ride;
  if (ride === null) return 'idle';
  switch (ride.state) {
    case 'idle':
      return 'idle';
    case 'on_ride':
      return 'on_ride';
    case 'ended':
      return 'ended';
    case 'awaiting_payment':
      return 'awaiting_payment';
    case 'paid':
      return 'paid';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
  }
}

/** A passenger has scanned and waits, not yet bound to a ride: "Passenger ready". */
export function passengerWaiting(snapshot: KioskSnapshot): boolean {
  return snapshot.session?.state === 'ready';
}

/** Why the passenger has to scan again, if their latest session ended before paying. */
export type SessionProblem = 'canceled' | 'timed_out' | 'expired';
export function sessionProblem(snapshot: KioskSnapshot): SessionProblem | null {
  const state = snapshot.session?.state;
  return state === 'canceled' || state === 'timed_out' || state === 'expired' ? state : null;
}

/** Paid through the PSP, or marked by the driver as paid another way (no PSP order). */
export function paidOtherwise(snapshot: KioskSnapshot): boolean {
  const payment = snapshot.payment;
  return payment === null || payment.method === 'other';
}

/** The data-testid of each screen's root, relied on by the end-to-end tests. */
export function screenTestId(screen: ScreenName): string {
  return `screen-${screen.replace('_', '-')}`;
}

/**
 * The core words failures in English; for the session failures it names, the screen leads
 * with the same fact in the driver's language. Unknown codes show the core's text alone.
 */
export function failureLeadKey(code: string): `session.${SessionProblem}` | null {
  switch (code) {
    case 'session_expired':
      return 'session.expired';
    case 'session_canceled':
      return 'session.canceled';
    case 'session_timed_out':
      return 'session.timed_out';
    default:
      return null;
  }
}

/** The failure codes the core sends that the renderer words itself (in every language). */
const FAILURE_KEYS = {
  session_expired: 'failure.session_expired',
  session_canceled: 'failure.session_canceled',
  session_timed_out: 'failure.session_timed_out',
  session_not_waiting: 'failure.session_not_waiting',
  session_unknown: 'failure.session_unknown',
  order_key_rejected: 'failure.order_key_rejected',
  order_rejected: 'failure.order_rejected',
  payment_failed: 'failure.payment_failed',
  payment_unconfirmed: 'failure.payment_unconfirmed',
  // Relay-made payments (order.failed codes) and refunds (RefundRequestAck).
  payment_rejected: 'failure.payment_rejected',
  payment_expired: 'failure.payment_expired',
  payment_canceled: 'failure.payment_canceled',
  customer_token_expired: 'failure.customer_token_expired',
  checkin_used: 'failure.checkin_used',
  wrong_currency: 'failure.wrong_currency',
  amount_mismatch: 'failure.amount_mismatch',
  refund_refused: 'failure.refund_refused',
} as const satisfies Record<string, MessageKey>;

/** Failures that happen in the passenger's app: with a dynamic QR that app is their banking app. */
const BANKING_APP_KEYS = {
  payment_rejected: 'failure.payment_rejected_bank',
  amount_mismatch: 'failure.amount_mismatch_bank',
} as const satisfies Record<string, MessageKey>;

/**
 * The message for a failure code; `caps` (the cab's capabilities) words the app the passenger
 * used: their banking app where the PSP shows a dynamic QR, the PSP's own app otherwise.
 */
export function failureKey(code: string, caps?: Pick<PspCapabilities, 'dynamicQr'>): MessageKey | null {
  if (caps?.dynamicQr && Object.hasOwn(BANKING_APP_KEYS, code)) return BANKING_APP_KEYS[code as keyof typeof BANKING_APP_KEYS];
  return Object.hasOwn(FAILURE_KEYS, code) ? FAILURE_KEYS[code as keyof typeof FAILURE_KEYS] : null;
}
