/** The kiosk's stored records, as the store reads and writes them. */
import type { PspName, OrderLine, RefundRequest, RideStateName } from '../../protocol/relay-protocol.js';
import type { SessionView } from '../../protocol/kiosk-api.js';

export type OrderStatus = 'none' | 'queued' | 'created';
export type Failure = { code: string; message: string };

export interface Ride {
  rideId: string;
  merchantOrderId: string;
  state: Exclude<RideStateName, 'idle'>;
  startedAt: string;
  endedAt: string | null;
  currency: string;
  lines: OrderLine[];
  order: OrderStatus;
  /** Create-order attempts so far; attempt n > 1 uses the Idempotency-Key `<rideId>.<n>`. */
  attempt: number;
  /** The session the current attempt's order is (or will be) created in. */
  sessionId: string | null;
  pspOrderId: string | null;
  failure: Failure | null;
  /** The tip picked on the tablet (PSPs with tipOnTablet); null until picked, or when tipped in the app. */
  tipAmount: number | null;
  /** The dynamic QR of the current attempt (PSPs with dynamicQr), once the relay sent it. */
  paymentQr: PaymentQr | null;
  /**
   * Relay-made payments: the current attempt's deadline, from the relay's ack. Past it nobody can
   * pay the attempt, so the ride times out and the driver may retry, cancel or take payment
   * another way. Null until acked (and for the tablet's own orders).
   */
  paymentExpiresAt?: string | null;
}

export interface PaymentQr {
  qrData: string;
  amount: number;
  currency: string;
  expiresAt: string;
  /** The payment.request attempt it belongs to, when the relay said. */
  attempt: number | null;
  paymentRequestId: string | null;
}

export type SessionState = SessionView['state'];

export interface Session {
  sessionId: string;
  psp: PspName;
  qrCode: string;
  allowTip: boolean;
  oneTimeOrderApiKey: string | null;
  startedAt: string;
  expiresAt: string;
  state: SessionState;
  /** The ride whose order uses this session, once bound. */
  rideId: string | null;
}

/** What the outbox must send: PSP-neutral, turned into the wire format by the PSP adapter. */
export interface CreateOrderJob {
  rideId: string;
  merchantOrderId: string;
  currency: string;
  lines: OrderLine[];
  sessionId: string;
  idempotencyKey: string;
}

/** `payment.request` to the relay, for PSPs whose calls the relay makes (relayMakesPayment). */
export interface PaymentRequestJob {
  rideId: string;
  merchantOrderId: string;
  psp: PspName;
  /** The passenger's session (Vipps check-in); null for PSPs that need none (HitPay). */
  sessionId: string | null;
  attempt: number;
  currency: string;
  lines: OrderLine[];
  orderAmount: number;
  tipAmount: number;
  /** `<rideId>` or `<rideId>.<attempt>`, as for create-order: the outbox's unique key. */
  idempotencyKey: string;
}

/** `refund.request` to the relay; idempotent per refundId. */
export type RefundJob = RefundRequest & { idempotencyKey: string };

/** What the outbox sends, by kind. */
export type OutboxJob =
  { kind: 'create_order'; job: CreateOrderJob } | { kind: 'payment_request'; job: PaymentRequestJob } | { kind: 'refund'; job: RefundJob };
export type OutboxKind = OutboxJob['kind'];
/** The jobs that pay for a ride (one attempt at a time); refunds are separate. */
export type PaymentJob = Extract<OutboxJob, { kind: 'create_order' | 'payment_request' }>;

export type OutboxEntry = OutboxJob & {
  id: number;
  rideId: string;
  tries: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
};

export type RefundState = 'queued' | 'refunded' | 'failed';

export interface RefundRecord {
  refundId: string;
  rideId: string;
  amount: number;
  currency: string;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  state: RefundState;
  failure: Failure | null;
  settledAt: string | null;
}

export function refundIdempotencyKey(refundId: string): string {
  return `refund.${refundId}`;
}

export interface PaymentRecord {
  rideId: string;
  /** 'psp' when confirmed by the PSP, 'other' when the driver took payment another way. */
  method: 'psp' | 'other';
  pspOrderId: string | null;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  currency: string;
  paidAt: string;
}

export function orderAmountOf(lines: OrderLine[]): number {
  return lines.reduce((sum, line) => sum + line.amount, 0);
}

export function idempotencyKeyFor(rideId: string, attempt: number): string {
  return attempt <= 1 ? rideId : `${rideId}.${attempt}`;
}
