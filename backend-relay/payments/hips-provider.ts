/**
 * Hips as a PaymentProvider, with the merchant key: refunds (`PATCH /v2/orders/{id}/revoke
 * {amount}`) and reading an order (`GET /v2/orders/{id}`, reconciliation). Hips orders are made
 * by the tablet with the one-time key, so the relay never creates or cancels one.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { HipsMerchantConfig } from '../config.js';
import { HIPS_ORDER_STATES } from '../psp/hips.js';
import type { PaymentProvider, PspCallOutcome, PspOrderFacts } from './payment-provider.js';

/** `GET /v2/orders/{id}`: `id` is Hips' id, `order_id` echoes the merchant's. */
const hipsOrderAnswer = z.looseObject({
  id: z.string().min(1).max(200),
  order_id: z.string().min(1).max(200),
  merchant_order_id: z.string().min(1).max(200).optional(),
  status: z.string().min(1).max(100),
  purchase_currency: z.string().regex(/^[A-Z]{3}$/),
  order_amount: z.number().int().nonnegative(),
  tip_amount: z.number().int().nonnegative().default(0),
  amount: z.number().int().nonnegative().optional(),
  reason: z.string().max(500).nullish(),
  refunded_amount: z.number().int().nonnegative().optional(),
});

/** A revoke that takes longer is abandoned and reported as retryable (same Idempotency-Key). */
const HIPS_TIMEOUT_MS = 10_000;

export function createHipsProvider(config: HipsMerchantConfig, deps: { fetch?: typeof fetch; logger?: Logger; timeoutMs?: number } = {}): PaymentProvider {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? HIPS_TIMEOUT_MS;
  const base = config.apiUrl.replace(/\/+$/, '');
  const notHere = async (): Promise<PspCallOutcome<never>> => ({
    kind: 'refused',
    code: 'unsupported',
    message: 'Hips orders are created by the tablet with the session key; the relay makes no Hips payments',
  });

  return {
    psp: 'hips',
    createPayment: notHere,
    cancelPayment: notHere,
    async lookupOrder(pspOrderId): Promise<PspCallOutcome<PspOrderFacts | null>> {
      let res: Response;
      try {
        res = await doFetch(`${base}/v2/orders/${encodeURIComponent(pspOrderId)}`, {
          headers: { authorization: config.merchantKey, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return { kind: 'retry', reason: `Hips could not be reached (${(err as Error).message})` };
      }
      const text = await res.text().catch(() => '');
      if (res.status === 404) return { kind: 'ok', value: null };
      if (!res.ok) {
        const message = hipsErrorMessage(text) ?? `Hips answered ${res.status}`;
        if (res.status === 401 || res.status === 403) {
          deps.logger?.error({ status: res.status }, 'Hips refused the merchant key: check HIPS_MERCHANT_KEY');
          return { kind: 'refused', code: 'psp_refused', message: `Hips refused the merchant key (${message}): check HIPS_MERCHANT_KEY` };
        }
        if (res.status === 429 || res.status >= 500 || res.status === 408) return { kind: 'retry', reason: message };
        return { kind: 'refused', code: 'psp_refused', message };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { kind: 'retry', reason: `Hips answered the order ${pspOrderId} with something other than JSON` };
      }
      const parsed = hipsOrderAnswer.safeParse(body);
      if (!parsed.success) return { kind: 'retry', reason: `Hips answered the order ${pspOrderId} in a shape the relay cannot read` };
      const o = parsed.data;
      const state = HIPS_ORDER_STATES[o.status];
      if (!state) {
        deps.logger?.warn({ pspOrderId, status: o.status }, 'Hips reported an order status the relay does not know; asking again later');
        return { kind: 'ok', value: { ...facts(o), state: 'open' } };
      }
      return { kind: 'ok', value: { ...facts(o), state } };
    },
    async refundedSoFar(payment) {
      const order = await this.lookupOrder!(payment.pspOrderId);
      if (order.kind !== 'ok') return order;
      if (!order.value) return { kind: 'refused', code: 'not_found', message: `Hips has no order ${payment.pspOrderId}` };
      if (order.value.refundedAmount === undefined) {
        return { kind: 'retry', reason: `Hips answered the order ${payment.pspOrderId} without refunded_amount` };
      }
      return { kind: 'ok', value: order.value.refundedAmount };
    },
    async refund(request) {
      let res: Response;
      try {
        res = await doFetch(`${base}/v2/orders/${encodeURIComponent(request.pspOrderId)}/revoke`, {
          method: 'PATCH',
          headers: {
            authorization: config.merchantKey,
            'idempotency-key': request.refundId,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({ amount: request.amount }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return { kind: 'retry', reason: `Hips could not be reached (${(err as Error).message})` };
      }
      const text = await res.text().catch(() => '');
      if (res.ok) {
        const refundId = readRefundId(text);
        return { kind: 'ok', value: { pspRefundId: refundId ?? `${request.pspOrderId}:${request.refundId}` } };
      }
      const message = hipsErrorMessage(text) ?? `Hips answered ${res.status}`;
      if (res.status === 429 || res.status >= 500 || res.status === 408) return { kind: 'retry', reason: message };
      if (res.status === 401 || res.status === 403) {
        deps.logger?.error({ status: res.status }, 'Hips refused the merchant key: check HIPS_MERCHANT_KEY');
      }
      return { kind: 'refused', code: 'refund_refused', message };
    },
  };
}

function facts(o: z.infer<typeof hipsOrderAnswer>): Omit<PspOrderFacts, 'state'> {
  return {
    pspOrderId: o.id,
    merchantOrderId: o.merchant_order_id ?? o.order_id,
    status: o.status,
    currency: o.purchase_currency,
    orderAmount: o.order_amount,
    tipAmount: o.tip_amount,
    totalAmount: o.amount ?? o.order_amount + o.tip_amount,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.refunded_amount !== undefined ? { refundedAmount: o.refunded_amount } : {}),
  };
}

/** Hips errors are `{"error": {"type", "message"}}`. */
function hipsErrorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? body.error.message : null;
  } catch {
    return null;
  }
}

/** The order answer after a revoke; Hips has no separate refund id there, so the order id stands in. */
function readRefundId(text: string): string | null {
  try {
    const body = JSON.parse(text) as { refund_id?: unknown; id?: unknown };
    if (typeof body.refund_id === 'string') return body.refund_id;
    return null;
  } catch {
    return null;
  }
}
