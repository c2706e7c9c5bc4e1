/** Hips create-order : POST /v2/orders with the session's one-time key. */
import type { Logger } from 'pino';
import { hipsCreateOrderRequest, hipsErrorBody, hipsOrder, type HipsCreateOrderRequest } from '../../../protocol/hips.js';
import { vatIncluded } from '../../../protocol/money.js';
import { classifyResponse } from '../backoff.js';
import type { CreateOrderJob, Failure } from '../model.js';
import type { CreateOrderResult, PspClient } from './psp-client.js';

export const CREATE_ORDER_TIMEOUT_MS = 10_000;

export interface HipsClientOptions {
  pspUrl: string;
  /** Where the PSP posts order events: the relay's order hook. */
  webhookUrl: string;
  timeoutMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

export function buildHipsOrder(job: CreateOrderJob, webhookUrl: string): HipsCreateOrderRequest {
  return hipsCreateOrderRequest.parse({
    order_id: job.merchantOrderId,
    purchase_currency: job.currency,
    cart: {
      items: job.lines.map((line) => ({
        name: line.label,
        quantity: 1,
        unit_price: line.amount,
        vat_amount: vatIncluded(line.amount, line.vatRate),
        vat: line.vatRate,
        type: line.kind === 'fare' ? 'service' : 'fee',
      })),
    },
    fulfill: true,
    qr_session_id: job.sessionId,
    hooks: { webhook_url: webhookUrl },
  });
}

/** Turns a definitive Hips error into something the driver can act on. */
export function hipsFailure(status: number, pspMessage: string | null): Failure {
  const detail = pspMessage ? ` (${pspMessage})` : '';
  switch (status) {
    case 401:
    case 403:
      return {
        code: 'order_key_rejected',
        message: `The payment provider did not accept this passenger's session${detail}. Ask the passenger to scan the QR again.`,
      };
    case 404:
      return {
        code: 'session_unknown',
        message: `The payment provider no longer knows this passenger's session${detail}. Ask the passenger to scan the QR again.`,
      };
    case 409:
      return {
        code: 'session_not_waiting',
        message: `The passenger's session is no longer waiting for an order${detail}. Ask the passenger to scan the QR again.`,
      };
    default:
      return {
        code: 'order_rejected',
        message: `The payment provider refused the order${detail}. Check the fare and extras, then ask the passenger to scan again or take payment another way.`,
      };
  }
}

export function createHipsClient(options: HipsClientOptions): PspClient {
  const doFetch = options.fetch ?? fetch;
  const url = new URL('/v2/orders', options.pspUrl).toString();
  const timeoutMs = options.timeoutMs ?? CREATE_ORDER_TIMEOUT_MS;

  return {
    async createOrder(job: CreateOrderJob, apiKey: string): Promise<CreateOrderResult> {
      const body = buildHipsOrder(job, options.webhookUrl);
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${apiKey}`,
            'idempotency-key': job.idempotencyKey,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (err) {
        const name = (err as Error).name;
        const timedOut = name === 'TimeoutError' || name === 'AbortError';
        return { kind: 'retry', reason: timedOut ? `no answer within ${timeoutMs} ms` : `network: ${(err as Error).message}` };
      }

      const verdict = classifyResponse(response.status);
      if (verdict === 'success') {
        const parsed = hipsOrder.safeParse(safeJson(text));
        if (!parsed.success) {
          // A 2xx we cannot read still means the order exists; the id is only for display.
          options.logger?.warn({ status: response.status, rideId: job.rideId }, 'create-order 2xx with an unexpected body');
          return { kind: 'success', pspOrderId: '' };
        }
        return { kind: 'success', pspOrderId: parsed.data.id };
      }
      const error = hipsErrorBody.safeParse(safeJson(text));
      const pspMessage = error.success ? error.data.error.message : null;
      if (verdict === 'retry') return { kind: 'retry', reason: `HTTP ${response.status}${pspMessage ? `: ${pspMessage}` : ''}` };
      return { kind: 'definitive', status: response.status, failure: hipsFailure(response.status, pspMessage) };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
