/**
 * Relay ↔ tablet protocol (DESIGN.md §4.4), Socket.IO namespace `/cab`.
 * Defined once here and imported by the relay and the kiosk core.
 */
import { z } from 'zod';
import { currencyCode, minorAmount } from './money.js';
import type { Result } from './result.js';

export const CAB_NAMESPACE = '/cab';
export const ACK_TIMEOUT_MS = 10_000;

export const pspName = z.enum(['hips', 'vipps', 'hitpay']);
export type PspName = z.infer<typeof pspName>;

export const cabId = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,40}$/, 'letters, digits and dashes, at most 40 (it is part of the order id)');

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
export const orderFailed = z.object({
  merchantOrderId: z.string().min(1).max(200),
  pspOrderId: z.string().max(200),
  reason: z.string().min(1).max(500),
});
export const orderRefunded = z.object({
  merchantOrderId: z.string().min(1).max(200),
  amount: minorAmount,
  currency: currencyCode,
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

// ---- tablet → server messages (each acked with Result) -----------------------------------

export const rideStateName = z.enum([
  'idle',
  'on_ride',
  'ended',
  'awaiting_payment',
  'paid',
  'failed',
  'canceled',
]);
export type RideStateName = z.infer<typeof rideStateName>;

export const tabletStatus = z.object({
  appVersion: z.string().min(1).max(50),
  rideState: rideStateName,
  outboxDepth: z.number().int().nonnegative(),
});
export type TabletStatus = z.infer<typeof tabletStatus>;

export const orderLine = z.object({
  id: z.string().min(1).max(100),
  kind: z.enum(['fare', 'toll', 'airport_fee', 'luggage', 'booking_fee', 'other']),
  label: z.string().min(1).max(100),
  amount: minorAmount,
  /** VAT rate in whole percent; the amount includes it. */
  vatRate: z.number().int().min(0).max(100),
});
export type OrderLine = z.infer<typeof orderLine>;

export const paymentRequest = z.object({
  psp: pspName,
  sessionId: z.string().min(1).max(200).optional(),
  rideId: z.string().min(1).max(100),
  orderLines: z.array(orderLine).min(1).max(50),
  orderAmount: minorAmount,
  tipAmount: minorAmount,
  currency: currencyCode,
});
export const refundRequest = z.object({
  rideId: z.string().min(1).max(100),
  amount: minorAmount.positive(),
  reason: z.string().min(1).max(500),
});

/** Socket.IO event names in the /cab namespace. */
export const SOCKET_EVENTS = {
  relayEvent: 'relay:event',
  tabletStatus: 'tablet:status',
  paymentRequest: 'payment.request',
  receiptPublish: 'receipt.publish',
  refundRequest: 'refund.request',
} as const;
