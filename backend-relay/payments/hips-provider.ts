/**
 * Hips as a PaymentProvider: refunds only (`PATCH /v2/orders/{id}/revoke {amount}` with the
 * merchant key). Hips orders are made by the tablet with the one-time key, so the relay never
 * creates or cancels one.
 */
import type { Logger } from 'pino';
import type { HipsMerchantConfig } from '../config.js';
import type { PaymentProvider, PspCallOutcome } from './payment-provider.js';

/** A revoke that takes longer is abandoned and reported as retryable (same Idempotency-Key). */
const HIPS_TIMEOUT_MS = 10_000;

export function createHipsProvider(config: HipsMerchantConfig, deps: { fetch?: typeof fetch; logger?: Logger } = {}): PaymentProvider {
  const doFetch = deps.fetch ?? fetch;
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
          signal: AbortSignal.timeout(HIPS_TIMEOUT_MS),
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
