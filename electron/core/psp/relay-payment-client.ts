/**
 * The sender for PSPs whose calls the relay makes (capabilities.relayMakesPayment: Vipps,
 * HitPay), and for refunds of any PSP: `payment.request` and `refund.request` over the relay
 * socket, each acked. The ack is mapped to the outbox's result shape: ok → success, a retryable
 * code (or no connection, no ack in time) → retry with the same attempt later, anything else →
 * a definitive failure with the relay's code and message.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { paymentRequest, refundRequest, RETRYABLE_RELAY_ERRORS, SOCKET_EVENTS, type PaymentRequest } from '../../../protocol/relay-protocol.js';
import type { Result } from '../../../protocol/result.js';
import type { PaymentRequestJob, RefundJob } from '../model.js';
import type { CreateOrderResult, DeliveryResult } from './psp-client.js';
import { zodIssuesText } from '../../../protocol/zod-issues.js';

/** The relay socket as this sender needs it (relay-client.ts `request`). */
export interface RelayRequester {
  request(event: string, payload: unknown): Promise<Result<unknown>>;
}

/** What the tablet's own side says when the relay could not answer: worth another try. */
const LOCAL_RETRYABLE = new Set(['offline', 'timeout', 'bad_answer']);

const paymentAckValue = z.object({ pspReference: z.string().max(200), expiresAt: z.iso.datetime({ offset: true }).optional() });

export interface RelayPaymentClient {
  /** Never throws. */
  requestPayment(job: PaymentRequestJob): Promise<CreateOrderResult>;
  /** Never throws. */
  requestRefund(job: RefundJob): Promise<DeliveryResult>;
}

export function paymentRequestFor(job: PaymentRequestJob): PaymentRequest {
  return paymentRequest.parse({
    psp: job.psp,
    ...(job.sessionId ? { sessionId: job.sessionId } : {}),
    rideId: job.rideId,
    attempt: job.attempt,
    orderLines: job.lines,
    orderAmount: job.orderAmount,
    tipAmount: job.tipAmount,
    currency: job.currency,
  });
}

function isRetryable(code: string): boolean {
  return RETRYABLE_RELAY_ERRORS.has(code) || LOCAL_RETRYABLE.has(code);
}

export function createRelayPaymentClient(relay: RelayRequester, logger?: Logger): RelayPaymentClient {
  return {
    async requestPayment(job) {
      let payload: PaymentRequest;
      try {
        payload = paymentRequestFor(job);
      } catch (err) {
        // Our own job is not what the contract allows: sending it again would not help.
        return { kind: 'definitive', status: 0, failure: { code: 'invalid', message: `The payment request could not be built: ${(err as Error).message}` } };
      }
      const answer = await relay.request(SOCKET_EVENTS.paymentRequest, payload);
      if (answer.ok) {
        const value = paymentAckValue.safeParse(answer.value);
        // The relay holds the payment either way; the reference is only for display.
        if (!value.success) logger?.warn({ rideId: job.rideId, attempt: job.attempt }, 'payment.request ack without a pspReference');
        if (!value.success) return { kind: 'success', pspOrderId: '' };
        return { kind: 'success', pspOrderId: value.data.pspReference, ...(value.data.expiresAt ? { expiresAt: value.data.expiresAt } : {}) };
      }
      const { code, message } = answer.error;
      if (isRetryable(code)) return { kind: 'retry', reason: `${code}: ${message}` };
      return { kind: 'definitive', status: 0, failure: { code, message } };
    },

    async requestRefund(job) {
      const { idempotencyKey: _key, ...request } = job;
      const payload = refundRequest.safeParse(request);
      if (!payload.success)
        return {
          kind: 'definitive',
          failure: { code: 'invalid', message: `The refund request could not be built: ${zodIssuesText(payload.error)}` },
        };
      const answer = await relay.request(SOCKET_EVENTS.refundRequest, payload.data);
      if (answer.ok) return { kind: 'success' };
      const { code, message } = answer.error;
      if (isRetryable(code)) return { kind: 'retry', reason: `${code}: ${message}` };
      return { kind: 'definitive', failure: { code, message } };
    },
  };
}
