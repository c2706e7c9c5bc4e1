/**
 * Relay ↔ tablet protocol, Socket.IO namespace `/cab` (docs/relay.md, Delivery to tablets).
 * Defined once here and imported by the relay and the kiosk core.
 */
import { z } from 'zod';
import { currencyCode, maxTip, minorAmount } from './money.js';
import type { Result } from './result.js';

export const CAB_NAMESPACE = '/cab';
export const ACK_TIMEOUT_MS = 10_000;

export const pspName = z.enum(['hips', 'vipps', 'hitpay']);
export type PspName = z.infer<typeof pspName>;

export const cabId = z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'letters, digits and dashes, at most 40 (it is part of the order id)');

const isoTime = z.iso.datetime({ offset: true });

export const handshakeAuth = z.object({
  cabId,
  token: z.string().min(16).max(200),
  lastSeq: z.number().int().nonnegative(),
});
export type HandshakeAuth = z.infer<typeof handshakeAuth>;

// ---- server → tablet events -------------------------------------------------------------

export const qrSessionStarted = z.object({
  psp: pspName,
  sessionId: z.string().min(1).max(200),
  qrCode: z.string().min(1).max(200),
  allowTip: z.boolean(),
  /** Hips only: the Bearer key for create-order, valid for this session. */
  oneTimeOrderApiKey: z.string().min(1).max(4000).optional(),
  orderTimeoutSeconds: z.number().int().positive().optional(),
  paymentTimeoutSeconds: z.number().int().positive().optional(),
  expiresAt: isoTime,
  dynamic: z.unknown().optional(),
});
export const paymentQr = z.object({
  rideId: z.string().min(1).max(100),
  /** The payment.request attempt this QR belongs to; a QR of an older attempt is ignored. */
  attempt: z.number().int().positive().optional(),
  /** The PSP's id for the payment request (HitPay `id`). */
  paymentRequestId: z.string().min(1).max(200).optional(),
  qrData: z.string().min(1).max(4000),
  amount: minorAmount,
  currency: currencyCode,
  expiresAt: isoTime,
});
export const qrSessionEnded = z.object({ sessionId: z.string().min(1).max(200) });
export const orderPaid = z.object({
  merchantOrderId: z.string().min(1).max(200),
  pspOrderId: z.string().min(1).max(200),
  currency: currencyCode,
  orderAmount: minorAmount,
  tipAmount: minorAmount,
  totalAmount: minorAmount,
});
/** Stable failure codes the relay sends with `order.failed` for relay-made payments. */
export const paymentFailureCode = z.enum([
  /** The passenger said no in the app (Vipps ABORTED, HitPay failed). */
  'payment_rejected',
  /** Nobody paid before the request's expiry (Vipps EXPIRED, HitPay expiry). */
  'payment_expired',
  /** The PSP or the merchant ended the payment (Vipps TERMINATED, a canceled request). */
  'payment_canceled',
  /** The Vipps customer token (check-in) is no longer valid: the passenger must scan again. */
  'customer_token_expired',
  /** The PSP reported an amount or currency other than the one requested. */
  'amount_mismatch',
]);
export type PaymentFailureCode = z.infer<typeof paymentFailureCode>;

export const orderFailed = z.object({
  merchantOrderId: z.string().min(1).max(200),
  pspOrderId: z.string().max(200),
  reason: z.string().min(1).max(500),
  /** Set by relay-made payments (Vipps, HitPay); Hips failures carry only `reason`. */
  code: paymentFailureCode.optional(),
  /** The payment.request attempt that failed; a failure of an older attempt is ignored. */
  attempt: z.number().int().positive().optional(),
});
export const orderRefunded = z.object({
  merchantOrderId: z.string().min(1).max(200),
  amount: minorAmount,
  currency: currencyCode,
  /** The tablet's refund id when the tablet asked for it (refund.request). */
  refundId: z.string().min(1).max(100).optional(),
});

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    seq: z.number().int().positive(),
    id: z.string().min(1).max(100),
    type: z.literal(type),
    occurredAt: isoTime,
    data,
  });

export const relayEvent = z.discriminatedUnion('type', [
  envelope('qr.session.started', qrSessionStarted),
  envelope('payment.qr', paymentQr),
  envelope('qr.session.canceled', qrSessionEnded),
  envelope('qr.session.timed_out', qrSessionEnded),
  envelope('order.paid', orderPaid),
  envelope('order.failed', orderFailed),
  envelope('order.refunded', orderRefunded),
]);
export type RelayEvent = z.infer<typeof relayEvent>;
export type RelayEventType = RelayEvent['type'];
export type RelayEventData<T extends RelayEventType> = Extract<RelayEvent, { type: T }>['data'];

/** What the tablet answers to each `relay:event`. */
export type RelayEventAck = Result<{ applied: boolean }>;

/**
 * `log.start`: where the cab's log continues for this tablet. The relay sends it just before an
 * event whose seq is above the tablet's lastSeq + 1 because the events in between are gone:
 * acked by an earlier install of the cab and pruned after the retention (a reinstalled tablet
 * comes back with lastSeq 0). Without it the tablet would wait for seqs that never come.
 * The tablet raises its lastSeq to `firstSeq - 1` (never lowers it) before that event arrives
 * (Socket.IO keeps the order), and acks with the lastSeq it now holds. Sent again with each
 * resend of that event. A kiosk that does not know `log.start` ignores it and stays at the gap.
 */
export const logStart = z.object({
  /** The lowest seq the relay still holds after the tablet's lastSeq. */
  firstSeq: z.number().int().positive(),
});
export type LogStart = z.infer<typeof logStart>;
/** What the tablet answers to `log.start`. */
export type LogStartAck = Result<{ lastSeq: number }>;

// ---- tablet → server messages (each acked with Result) -----------------------------------

export const rideStateName = z.enum(['idle', 'on_ride', 'ended', 'awaiting_payment', 'paid', 'failed', 'canceled']);
export type RideStateName = z.infer<typeof rideStateName>;

export const tabletStatus = z.object({
  /** Printed by the fleet CLI: no control or format characters (escapes, bidi overrides). */
  appVersion: z
    .string()
    .min(1)
    .max(50)
    .regex(/^[^\p{Cc}\p{Cf}\u2028\u2029]+$/u, 'must be printable text (no control or format characters)'),
  rideState: rideStateName,
  outboxDepth: z.number().int().nonnegative(),
});
export type TabletStatus = z.infer<typeof tabletStatus>;

/** POST /updates/:cabId/refusals: a downloaded release the tablet would not install. */
export const updateRefusalReport = z.object({
  version: z.string().min(1).max(50),
  code: z.enum(['unsigned', 'bad_signature', 'bad_rotation', 'wrong_version', 'altered', 'unverifiable']),
  message: z.string().min(1).max(1000),
});
export type UpdateRefusalReport = z.infer<typeof updateRefusalReport>;

export const orderLine = z.object({
  id: z.string().min(1).max(100),
  kind: z.enum(['fare', 'toll', 'airport_fee', 'luggage', 'booking_fee', 'other']),
  label: z.string().min(1).max(100),
  amount: minorAmount,
  /** VAT rate in whole percent; the amount includes it. */
  vatRate: z.number().int().min(0).max(100),
});
export type OrderLine = z.infer<typeof orderLine>;

/**
 * For PSPs whose calls the relay makes (Vipps, HitPay). Idempotent per (cab, rideId, attempt):
 * a repeat gets the first answer. A higher attempt for the same ride (a regenerated QR, a retry
 * after a failure) first cancels every older attempt that is still live at the PSP, so a ride
 * never has two payable requests.
 */
export const paymentRequest = z
  .object({
    psp: pspName,
    /** Vipps: the relay-side session of the passenger's check-in (qr.session.started). */
    sessionId: z.string().min(1).max(200).optional(),
    rideId: z.string().min(1).max(100),
    attempt: z.number().int().positive().max(1000).default(1),
    orderLines: z.array(orderLine).min(1).max(50),
    orderAmount: minorAmount.positive(),
    tipAmount: minorAmount,
    currency: currencyCode,
  })
  .refine((r) => r.orderLines.reduce((sum, l) => sum + l.amount, 0) === r.orderAmount, {
    message: 'orderAmount must equal the sum of orderLines',
    path: ['orderAmount'],
  })
  .refine((r) => r.tipAmount <= maxTip(r.orderAmount), {
    message: 'tipAmount is over 20% of orderAmount',
    path: ['tipAmount'],
  });
export type PaymentRequest = z.infer<typeof paymentRequest>;

/**
 * The ack of payment.request. `ok` means the PSP holds the payment request; the outcome
 * follows as events (payment.qr, order.paid, order.failed). Error codes:
 * - `unavailable`: the PSP or the relay could not be reached; send the same attempt again later;
 * - `rate_limited`: the cab sent more than its quota; nothing was done, send it again later;
 * - any other code (`invalid`, `session_unknown`, `customer_token_expired`, `psp_refused`,
 *   `unsupported`, `wrong_psp`, `wrong_currency` (the cab charges in another currency),
 *   `checkin_used` (the Vipps check-in already paid another ride)): final for this attempt; the
 *   message is for the driver.
 */
export type PaymentRequestAck = Result<{
  pspReference: string;
  /**
   * The payment's deadline: past it nobody can pay it any more (the relay cancels it at the PSP
   * and reports payment_expired), so the tablet ends the wait there. Absent for a reserved fare
   * that is being captured.
   */
  expiresAt?: string;
}>;
export const RETRYABLE_RELAY_ERRORS: ReadonlySet<string> = new Set(['unavailable', 'rate_limited']);

/**
 * A refund of a paid ride, asked for by the driver (PIN menu), for any PSP. Idempotent per
 * refundId. The relay calls the PSP (Hips revoke, Vipps refund, HitPay refund), records who asked
 * and when, and also appends `order.refunded {refundId}` to the cab's event log.
 */
export const refundRequest = z.object({
  refundId: z.string().min(1).max(100),
  rideId: z.string().min(1).max(100),
  merchantOrderId: z.string().min(1).max(200),
  psp: pspName,
  /**
   * The PSP's id of the paid order or payment, as order.paid carried it. The relay refunds the
   * payment it recorded as paid for this cab's ride, with that record's id and currency: these
   * two are accepted for older tablets and not trusted.
   */
  pspOrderId: z.string().min(1).max(200),
  amount: minorAmount.positive(),
  currency: currencyCode,
  reason: z.string().min(1).max(500),
  /** The driver id from the driver settings, or "driver" when the fleet uses none. */
  requestedBy: z.string().min(1).max(60),
  requestedAt: isoTime,
});
export type RefundRequest = z.infer<typeof refundRequest>;
/**
 * `ok`: the PSP refunded it. `unavailable` is retryable (the same refundId again); final:
 * `refund_refused` (the PSP said no), `not_paid`, `wrong_psp`, `exceeds_refundable`,
 * `refund_unresolved`, `forbidden`, `invalid`, `unsupported` (docs/relay.md, Refunds).
 */
export type RefundRequestAck = Result<{ refundedAmount: number }>;

/**
 * For PSPs whose orders the tablet creates itself (Hips): the tablet tells the relay the order
 * it made, right after the PSP accepted it, so that the relay can ask the PSP how it ended if
 * every webhook of it is lost. Idempotent per pspOrderId. The relay takes it only as a pointer:
 * whether the order exists, is this cab's and was paid, it reads from the PSP itself.
 */
export const orderCreated = z.object({
  psp: pspName,
  rideId: z.string().min(1).max(100),
  /** The create-order attempt of the ride (1, 2, … after a new scan). */
  attempt: z.number().int().positive().max(1000),
  /** `<cabId>.<rideId>`, the merchant's order id at the PSP. */
  merchantOrderId: z.string().min(1).max(200),
  /** The PSP's id of the order, as its create-order answer gave it. */
  pspOrderId: z.string().min(1).max(200),
  /** When the PSP accepted the order, by the tablet's clock (only a hint for when to ask). */
  createdAt: isoTime,
});
export type OrderCreated = z.infer<typeof orderCreated>;
/**
 * The ack of order.created: `ok` once the relay has stored it. Errors: `unavailable` (send it
 * again later); `unsupported` (the relay cannot ask this PSP: its merchant credentials are not
 * set), `invalid`, `wrong_psp`, `forbidden` (not this cab's order) and `limit_reached` are final.
 */
export type OrderCreatedAck = Result<{ tracked: true }>;

/** Socket.IO event names in the /cab namespace. */
export const SOCKET_EVENTS = {
  relayEvent: 'relay:event',
  logStart: 'log.start',
  tabletStatus: 'tablet:status',
  paymentRequest: 'payment.request',
  receiptPublish: 'receipt.publish',
  refundRequest: 'refund.request',
  orderCreated: 'order.created',
} as const;
