/**
 * The calls the relay makes to HitPay: a payment request with a PayNow QR per attempt, its
 * cancellation, and refunds. Form-encoded, `X-BUSINESS-API-KEY`; amounts in major units as
 * decimal strings. HitPay has no Idempotency-Key, so a retried attempt first looks for a live
 * request with the same reference_number (see `createPayment`).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseMajorString, toMajorString } from '../../protocol/decimal-amount.js';
import { paymentUpdateFromRequest } from '../psp/hitpay-hook.js';
import type { CabRecord } from '../store/relay-store.js';
import type { CreatedPayment, PaymentAttempt, PaymentCheck, PaymentProvider, PspCallOutcome } from './payment-provider.js';

export interface HitpayProviderOptions {
  baseUrl: string;
  apiKey: string;
  /** How long the QR is payable; sent as `expires_after` in whole minutes (rounded up). */
  qrTtlSeconds: number;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Per call; a slower answer is a `retry`. */
  timeoutMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const LIVE = 'pending';
/** Final states in which a DELETE has nothing left to do. */
const ENDED = new Set(['expired', 'canceled', 'cancelled', 'failed', 'inactive']);

const qrCodeData = z.looseObject({ qr_code: z.string().min(1).max(4000) });
const paymentRequestObject = z.looseObject({
  id: z.string().min(1).max(200),
  status: z.string().optional(),
  amount: z.union([z.string(), z.number()]).optional(),
  currency: z.string().optional(),
  reference_number: z.string().nullish(),
  qr_code_data: qrCodeData.nullish(),
});
type PaymentRequestObject = z.infer<typeof paymentRequestObject>;
/** GET /v1/payment-requests answers a bare array or a paginated `{data: [...]}`. */
const paymentRequestList = z.union([z.array(z.unknown()), z.looseObject({ data: z.array(z.unknown()) }).transform((p) => p.data)]);
const refundObject = z.looseObject({ id: z.string().min(1).max(200) });
/** `GET /v1/charges/{payment_id}`: `refunded_amount` in major units, text or number. */
const chargeObject = z.looseObject({ id: z.string().min(1).max(200), refunded_amount: z.union([z.string(), z.number()]) });

type HttpAnswer = { kind: 'answer'; status: number; body: unknown } | { kind: 'unreachable'; reason: string };

export function createHitpayProvider(options: HitpayProviderOptions): PaymentProvider {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, form?: URLSearchParams): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      'X-BUSINESS-API-KEY': options.apiKey,
      'X-Requested-With': 'XMLHttpRequest',
      Accept: 'application/json',
    };
    if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    try {
      const res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: form?.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON (a proxy's error page): the text is kept for the message.
      }
      options.logger?.debug({ psp: 'hitpay', method, path: path.split('?')[0], status: res.status }, 'HitPay answered');
      return { kind: 'answer', status: res.status, body };
    } catch (err) {
      const name = (err as Error).name;
      const reason =
        name === 'TimeoutError' || name === 'AbortError'
          ? `HitPay did not answer ${method} ${path.split('?')[0]} within ${timeoutMs} ms`
          : `cannot reach HitPay at ${base}: ${(err as Error).message}`;
      options.logger?.warn({ psp: 'hitpay', method, path: path.split('?')[0], reason }, 'HitPay call failed');
      return { kind: 'unreachable', reason };
    }
  }

  /** A live request this attempt already created (a retry after a lost answer), if HitPay lists one. */
  async function findLive(reference: string): Promise<PspCallOutcome<PaymentRequestObject[]>> {
    const answer = await call('GET', `/v1/payment-requests?${new URLSearchParams({ search: reference, per_page: '100' })}`);
    if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
    if (answer.status === 401 || answer.status === 403 || answer.status === 429 || answer.status >= 500) {
      return failure(answer, 'psp_refused', 'look up payment requests');
    }
    // No usable list (an account or sandbox without it): nothing to find, the row in the payments table stays the guard.
    if (answer.status < 200 || answer.status > 299) return { kind: 'ok', value: [] };
    const list = paymentRequestList.safeParse(answer.body);
    if (!list.success) return { kind: 'ok', value: [] };
    const live = list.data.flatMap((item) => {
      const parsed = paymentRequestObject.safeParse(item);
      return parsed.success && parsed.data.reference_number === reference && parsed.data.status === LIVE ? [parsed.data] : [];
    });
    return { kind: 'ok', value: live };
  }

  return {
    psp: 'hitpay',

    async createPayment(attempt: PaymentAttempt): Promise<PspCallOutcome<CreatedPayment>> {
      const { request, reference } = attempt;
      const amount = toMajorString(request.orderAmount + request.tipAmount, request.currency);

      const earlier = await findLive(reference);
      if (earlier.kind !== 'ok') return earlier;
      for (const found of earlier.value) {
        if (found.qr_code_data && sameAmount(found, amount, request.currency)) {
          options.logger?.info({ psp: 'hitpay', reference, paymentRequestId: found.id }, 'reusing the live HitPay payment request of this attempt');
          return { kind: 'ok', value: created(found.id, found.qr_code_data.qr_code) };
        }
        // Live but unusable (no QR in the listing, other amount): end it so that only one is payable.
        const canceled = await cancelPayment(found.id);
        if (canceled.kind !== 'ok') return canceled;
      }

      const minutes = Math.max(1, Math.ceil(options.qrTtlSeconds / 60));
      const form = new URLSearchParams();
      form.set('amount', amount);
      form.set('currency', request.currency);
      form.append('payment_methods[]', 'paynow_online');
      form.set('generate_qr', 'true');
      form.set('reference_number', reference);
      form.set('webhook', attempt.webhookUrl);
      form.set('purpose', `Taxi ${attempt.cab.plate}`.slice(0, 255));
      // `expiry_date` (SGT wall time) applies to repeated payments only; `expires_after` to this one.
      form.set('expires_after', `${minutes} mins`);
      form.set('allow_repeated_payments', 'false');

      const answer = await call('POST', '/v1/payment-requests', form);
      if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
      if (answer.status < 200 || answer.status > 299) return failure(answer, 'psp_refused', 'create the payment request');
      const parsed = paymentRequestObject.safeParse(answer.body);
      if (!parsed.success) {
        return { kind: 'retry', reason: `HitPay answered ${answer.status} without a payment request id; the attempt is tried again` };
      }
      if (!parsed.data.qr_code_data) {
        await cancelPayment(parsed.data.id);
        return {
          kind: 'refused',
          code: 'psp_refused',
          message: 'HitPay created the payment request without a PayNow QR (qr_code_data): enable PayNow (paynow_online) on the HitPay account',
        };
      }
      return { kind: 'ok', value: created(parsed.data.id, parsed.data.qr_code_data.qr_code) };
    },

    cancelPayment: (pspReference: string, _cab: CabRecord) => cancelPayment(pspReference),

    async checkPayment(pspReference: string, _cab: CabRecord): Promise<PspCallOutcome<PaymentCheck>> {
      const answer = await call('GET', `/v1/payment-requests/${encodeURIComponent(pspReference)}`);
      if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
      if (answer.status === 404) return { kind: 'ok', value: { kind: 'unknown' } };
      if (answer.status < 200 || answer.status > 299) return failure(answer, 'psp_refused', 'read the payment request');
      const read = paymentUpdateFromRequest(answer.body);
      if (!read.ok) return { kind: 'retry', reason: read.message };
      return { kind: 'ok', value: read.update ? { kind: 'update', update: read.update } : { kind: 'open' } };
    },

    async refundedSoFar(payment, _cab): Promise<PspCallOutcome<number>> {
      // The charge (payment) with what has been refunded of it.
      const answer = await call('GET', `/v1/charges/${encodeURIComponent(payment.pspOrderId)}`);
      if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
      if (answer.status === 404) {
        return { kind: 'refused', code: 'not_found', message: `HitPay has no payment ${payment.pspOrderId}` };
      }
      if (answer.status < 200 || answer.status > 299) return failure(answer, 'psp_refused', `read payment ${payment.pspOrderId}`);
      const charge = chargeObject.safeParse(answer.body);
      if (!charge.success) return { kind: 'retry', reason: `HitPay answered payment ${payment.pspOrderId} without its refunded_amount` };
      const refunded = parseMajorString(String(charge.data.refunded_amount), payment.currency);
      if (!refunded.ok) return { kind: 'retry', reason: `HitPay's refunded_amount of payment ${payment.pspOrderId}: ${refunded.error.message}` };
      return { kind: 'ok', value: refunded.value };
    },

    async refund(request, _cab): Promise<PspCallOutcome<{ pspRefundId: string }>> {
      const form = new URLSearchParams();
      form.set('amount', toMajorString(request.amount, request.currency));
      form.set('payment_id', request.pspOrderId);
      const answer = await call('POST', '/v1/refund', form);
      if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
      if (answer.status < 200 || answer.status > 299) return failure(answer, 'refund_refused', `refund payment ${request.pspOrderId}`);
      const parsed = refundObject.safeParse(answer.body);
      if (!parsed.success) return { kind: 'retry', reason: `HitPay answered ${answer.status} to the refund without a refund id` };
      return { kind: 'ok', value: { pspRefundId: parsed.data.id } };
    },
  };

  async function cancelPayment(pspReference: string): Promise<PspCallOutcome<null>> {
    const path = `/v1/payment-requests/${encodeURIComponent(pspReference)}`;
    const answer = await call('DELETE', path);
    if (answer.kind === 'unreachable') return { kind: 'retry', reason: answer.reason };
    if ((answer.status >= 200 && answer.status <= 299) || answer.status === 404) return { kind: 'ok', value: null };
    if (answer.status === 401 || answer.status === 403 || answer.status === 429 || answer.status >= 500) {
      return failure(answer, 'psp_refused', 'cancel the payment request');
    }
    // HitPay will not delete a completed request: ask what state it is in.
    const state = await call('GET', path);
    if (state.kind === 'unreachable') return { kind: 'retry', reason: state.reason };
    if (state.status === 404) return { kind: 'ok', value: null };
    const status = paymentRequestObject.safeParse(state.body);
    if (status.success && status.data.status === 'completed') {
      return { kind: 'refused', code: 'already_paid', message: `HitPay payment request ${pspReference} is already paid; refund it instead` };
    }
    if (status.success && status.data.status && ENDED.has(status.data.status)) return { kind: 'ok', value: null };
    return failure(answer, 'psp_refused', 'cancel the payment request');
  }

  function created(id: string, qrData: string): CreatedPayment {
    const expiresAt = new Date(now().getTime() + options.qrTtlSeconds * 1000).toISOString();
    return { pspReference: id, expiresAt, qr: { qrData, expiresAt, paymentRequestId: id } };
  }
}

function sameAmount(found: PaymentRequestObject, amount: string, currency: string): boolean {
  const text = typeof found.amount === 'number' ? String(found.amount) : found.amount;
  // HitPay may echo "12.3" for "12.30"; compare the numbers as decimal text, padded.
  return normalise(text) === normalise(amount) && (found.currency ?? currency).toUpperCase() === currency.toUpperCase();
}

function normalise(text: string | undefined): string {
  if (!text) return '';
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.replace(/0+$/, '')}`;
}

/**
 * A non-2xx answer as an outcome: 429 and 5xx are worth the same call later; a refused key names
 * HITPAY_API_KEY; anything else is final with HitPay's first validation message.
 */
function failure(
  answer: Extract<HttpAnswer, { kind: 'answer' }>,
  code: string,
  what: string,
): { kind: 'retry'; reason: string } | { kind: 'refused'; code: string; message: string } {
  const message = firstMessage(answer.body);
  if (answer.status === 429 || answer.status >= 500) {
    return { kind: 'retry', reason: `HitPay answered ${answer.status} to ${what}${message ? `: ${message}` : ''}` };
  }
  if (answer.status === 401 || answer.status === 403) {
    return {
      kind: 'refused',
      code: 'psp_refused',
      message: `HitPay refused the API key (${answer.status}) to ${what}: check HITPAY_API_KEY`,
    };
  }
  return { kind: 'refused', code, message: message ?? `HitPay answered ${answer.status} to ${what}` };
}

/** Laravel-style `{message, errors: {field: [text]}}`: the first field's first text, else `message`. */
function firstMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 300) || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const { errors, message } = body as { errors?: unknown; message?: unknown };
  if (errors && typeof errors === 'object') {
    for (const list of Object.values(errors)) {
      const first = Array.isArray(list) ? list[0] : list;
      if (typeof first === 'string' && first) return first.slice(0, 300);
    }
  }
  return typeof message === 'string' && message ? message.slice(0, 300) : undefined;
}
