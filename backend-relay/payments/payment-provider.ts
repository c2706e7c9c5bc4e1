/**
 * The relay-made half of a PSP (Vipps, HitPay, and Hips for refunds): the calls the relay makes
 * to the PSP with the merchant credentials it alone holds. The webhook half stays in
 * `psp/psp-adapter.ts`. The payment service (`payment-service.ts`) owns idempotency, storage and
 * the events; a provider only talks to its PSP and never throws for a PSP answer.
 */
import type { PaymentRequest, PspName, RefundRequest } from '../../protocol/relay-protocol.js';
import type { PaymentUpdate } from '../psp/psp-adapter.js';
import type { CabRecord } from '../store/relay-store.js';

/** One attempt of one ride, as the payment service hands it to the provider. */
export interface PaymentAttempt {
  cab: CabRecord;
  request: PaymentRequest;
  /** `<cabId>-<rideId>-<attempt>` squeezed into the PSP's reference rules (Vipps: [A-Za-z0-9-]{8,50}). */
  reference: string;
  /** Stable per attempt, so a retried call is a replay at the PSP. */
  idempotencyKey: string;
  /** What the PSP must call back (Vipps: registered once; HitPay: per request). */
  webhookUrl: string;
  /** Vipps: the customer token of the check-in, looked up by the service; never sent to a tablet. */
  customerToken?: string;
}

export type PspCallOutcome<T> =
  | { kind: 'ok'; value: T }
  /** Worth the same call again later (network, timeout, 429, 5xx). */
  | { kind: 'retry'; reason: string }
  /** The PSP said no for good; `code` goes to the tablet in the ack, `message` is for the driver. */
  | { kind: 'refused'; code: string; message: string };

export interface CreatedPayment {
  /** The PSP's id for this payment (Vipps `reference`, HitPay payment request `id`). */
  pspReference: string;
  /** When the PSP stops taking this payment (its own expiry): the payment's deadline at the relay. */
  expiresAt?: string;
  /** Dynamic-QR PSPs: what the tablet shows, sent to it as `payment.qr`. */
  qr?: { qrData: string; expiresAt: string; paymentRequestId: string };
}

/** What the PSP says now about one relay-made payment (reconciliation). */
export type PaymentCheck =
  /** Still waiting for the passenger (or the PSP): ask again later. */
  | { kind: 'open' }
  /** The PSP has no payment by that reference. */
  | { kind: 'unknown' }
  /** What its webhook would have said, as the payment service applies it. */
  | { kind: 'update'; update: PaymentUpdate };

/** An order the tablet made at its PSP (Hips), as the PSP reports it to the merchant. */
export interface PspOrderFacts {
  pspOrderId: string;
  /** `<cabId>.<rideId>`, the merchant's order id the tablet sent. */
  merchantOrderId: string;
  state: 'open' | 'paid' | 'failed';
  /** The PSP's own word for it (pending, successful, failed, expired, revoked, …). */
  status: string;
  currency: string;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  reason?: string;
  /** What has been refunded of it so far, when the PSP says. */
  refundedAmount?: number;
}

export interface PaymentProvider {
  psp: PspName;
  /** Creates the payment for one attempt (idempotent by `attempt.idempotencyKey`). */
  createPayment(attempt: PaymentAttempt): Promise<PspCallOutcome<CreatedPayment>>;
  /**
   * PSPs that authorize first (Vipps): captures `amount` (the whole fare and tip, or less after a
   * pre-authorization; the payment service then cancels the rest). Idempotent per reference+amount.
   */
  capturePayment?(pspReference: string, amount: { value: number; currency: string }, cab: CabRecord): Promise<PspCallOutcome<null>>;
  /**
   * PSPs that capture (Vipps): how much of the payment the PSP has captured so far, in minor
   * units: how a capture whose answer never came is resolved before it is sent again.
   */
  capturedSoFar?(pspReference: string, cab: CabRecord): Promise<PspCallOutcome<number>>;
  /** Cancels a still-live payment (an older attempt, an expiry); ok when already final. */
  cancelPayment(pspReference: string, cab: CabRecord): Promise<PspCallOutcome<null>>;
  /**
   * Refunds part or all of a paid payment. `request.pspOrderId` and `currency` come from the
   * relay's own record of the payment. A `retry` outcome may mean the PSP booked it anyway.
   */
  refund(request: RefundRequest, cab: CabRecord): Promise<PspCallOutcome<{ pspRefundId: string }>>;
  /**
   * How much the PSP has refunded of a paid payment so far, in minor units: how the relay learns
   * what became of a refund whose answer never came, before it calls the PSP again.
   */
  refundedSoFar(payment: { pspOrderId: string; currency: string }, cab: CabRecord): Promise<PspCallOutcome<number>>;
  /** Relay-made payments: how the payment stands at the PSP now, read with the merchant's credentials. */
  checkPayment?(pspReference: string, cab: CabRecord): Promise<PspCallOutcome<PaymentCheck>>;
  /** Tablet-made orders (Hips): the order as the PSP holds it; null when the PSP has no such order. */
  lookupOrder?(pspOrderId: string): Promise<PspCallOutcome<PspOrderFacts | null>>;
}
