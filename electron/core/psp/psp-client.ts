/** The one interface the kiosk core uses to talk to a payment provider. One adapter per PSP. */
import type { CreateOrderJob, Failure } from '../model.js';

export type CreateOrderResult =
  | { kind: 'success'; pspOrderId: string; /** Relay-made payments: the attempt's deadline (the ack's expiresAt). */ expiresAt?: string }
  /** Worth another try later with the same Idempotency-Key (network, timeout, 429, 5xx). */
  | { kind: 'retry'; reason: string }
  /** The PSP said no for good; `failure` is written for the driver. */
  | { kind: 'definitive'; failure: Failure; status: number };

export interface PspClient {
  /** `apiKey` is the session's one-time order key. Never throws. */
  createOrder(job: CreateOrderJob, apiKey: string): Promise<CreateOrderResult>;
}

/**
 * Any outbox answer: a create-order, a payment.request or a refund.request ack. Success of a
 * refund carries no order id.
 */
export type DeliveryResult =
  { kind: 'success'; pspOrderId?: string; expiresAt?: string } | { kind: 'retry'; reason: string } | { kind: 'definitive'; failure: Failure; status?: number };
