/**
 * Vipps MobilePay ePayment calls for relay-made payments: a push payment to the passenger who
 * checked in at the cab's QR (their customer token), then capture, cancel and refund. Every
 * answer becomes a PspCallOutcome: 2xx ok; network, timeout, 429 and 5xx retry; any other 4xx
 * is refused with words the driver can act on.
 */
import { createHash } from 'node:crypto';
import { vatIncluded } from '../../protocol/money.js';
import type { RefundRequest } from '../../protocol/relay-protocol.js';
import { paymentUpdateFromState, vippsPaymentState } from '../psp/vipps-events.js';
import type { CabRecord } from '../store/relay-store.js';
import { describeProblem, type VippsAnswer, type VippsClient } from './vipps-client.js';
import type { CreatedPayment, PaymentAttempt, PaymentCheck, PaymentProvider, PspCallOutcome } from './payment-provider.js';

/** The currencies the ePayment API takes. */
export const VIPPS_CURRENCIES: ReadonlySet<string> = new Set(['NOK', 'DKK', 'EUR']);
/** Vipps shows `paymentDescription` in the app; longer ones are refused. */
const DESCRIPTION_MAX = 100;

export interface VippsPaymentProvider extends PaymentProvider {
  psp: 'vipps';
  checkPayment(pspReference: string, cab: CabRecord): Promise<PspCallOutcome<PaymentCheck>>;
  /** The fleet reserves first and captures the fare later (VIPPS_PREAUTHORIZE). */
  preauthorize: boolean;
  capturePayment(pspReference: string, amount: { value: number; currency: string }, cab: CabRecord): Promise<PspCallOutcome<null>>;
  capturedSoFar(pspReference: string, cab: CabRecord): Promise<PspCallOutcome<number>>;
  /**
   * Pre-authorization settlement: captures `amount` (at most what was authorized) and releases
   * the rest of the reservation. Captured but not released is still `ok`-worthy for the fare,
   * so a failed release is reported as `retry` for the release alone (call it again: the capture
   * is idempotent per amount, so it is not taken twice).
   */
  captureAndRelease(pspReference: string, amount: { value: number; currency: string }, cab: CabRecord): Promise<PspCallOutcome<null>>;
  /** Pre-authorization: pushes a reservation of `amount` (no receipt: the fare is not known yet). Idempotent by `reference`. */
  reserve(input: VippsReservation, cab: CabRecord): Promise<PspCallOutcome<null>>;
}

export interface VippsReservation {
  reference: string;
  amount: { value: number; currency: string };
  customerToken: string;
  description: string;
}

/** How long Vipps lets a pushed payment wait for the passenger before it expires it. */
export const VIPPS_PAYMENT_TTL_S = 300;

export function createVippsProvider(
  client: VippsClient,
  options: { preauthorize?: boolean; paymentTtlSeconds?: number; now?: () => Date } = {},
): VippsPaymentProvider {
  const ttlMs = (options.paymentTtlSeconds ?? VIPPS_PAYMENT_TTL_S) * 1000;
  const now = options.now ?? (() => new Date());
  const provider: VippsPaymentProvider = {
    psp: 'vipps',
    preauthorize: options.preauthorize ?? false,

    async createPayment(attempt: PaymentAttempt): Promise<PspCallOutcome<CreatedPayment>> {
      const { request, cab, reference } = attempt;
      if (!attempt.customerToken) {
        return refused('session_unknown', 'No Vipps check-in is known for this ride: ask the passenger to scan the QR code again.');
      }
      if (!VIPPS_CURRENCIES.has(request.currency)) {
        return refused('invalid', `Vipps MobilePay takes NOK, DKK or EUR, not ${request.currency}: check the cab's fare currency.`);
      }
      const answer = await client.call('POST', '/epayment/v1/payments', {
        idempotencyKey: vippsIdempotencyKey(attempt.idempotencyKey),
        body: createPaymentBody(attempt),
      });
      if (answer.kind === 'answered' && isSuccess(answer.status)) {
        return { kind: 'ok', value: { pspReference: reference, expiresAt: new Date(now().getTime() + ttlMs).toISOString() } };
      }
      if (answer.kind === 'answered' && isClientError(answer.status) && mentionsCustomerToken(answer.body)) {
        return refused('customer_token_expired', "The passenger's Vipps check-in has expired: ask them to scan the QR code again.");
      }
      return outcome(answer, 'create the payment', cab);
    },

    async capturePayment(pspReference, amount, cab) {
      const answer = await client.call('POST', `/epayment/v1/payments/${encodeURIComponent(pspReference)}/capture`, {
        idempotencyKey: vippsIdempotencyKey(`capture:${pspReference}:${amount.value}:${amount.currency}`),
        body: { modificationAmount: { value: amount.value, currency: amount.currency } },
      });
      if (answer.kind === 'answered' && isSuccess(answer.status)) return { kind: 'ok', value: null };
      return outcome(answer, 'capture the payment', cab);
    },

    async cancelPayment(pspReference, cab) {
      const path = `/epayment/v1/payments/${encodeURIComponent(pspReference)}`;
      const answer = await client.call('POST', `${path}/cancel`, { idempotencyKey: vippsIdempotencyKey(`cancel:${pspReference}`), body: {} });
      if (answer.kind === 'answered' && isSuccess(answer.status)) return { kind: 'ok', value: null };
      if (answer.kind === 'answered' && isClientError(answer.status)) {
        // Vipps refuses to cancel a payment that already ended; that is what we wanted.
        const state = await client.call('GET', path);
        if (state.kind === 'answered' && isSuccess(state.status) && isFinal(state.body)) return { kind: 'ok', value: null };
        if (state.kind === 'answered' && state.status === 404) return { kind: 'ok', value: null };
      }
      return outcome(answer, 'cancel the payment', cab);
    },

    async refund(request: RefundRequest, cab) {
      // order.paid's pspOrderId for Vipps is the payment's reference, which the refund path takes.
      const answer = await client.call('POST', `/epayment/v1/payments/${encodeURIComponent(request.pspOrderId)}/refund`, {
        idempotencyKey: vippsIdempotencyKey(request.refundId),
        body: { modificationAmount: { value: request.amount, currency: request.currency } },
      });
      if (answer.kind === 'answered' && isSuccess(answer.status)) {
        const pspRefundId = pspReferenceOf(answer.body) ?? request.refundId;
        return { kind: 'ok', value: { pspRefundId } };
      }
      if (answer.kind === 'answered' && isClientError(answer.status) && answer.status !== 429) {
        return refused('refund_refused', `Vipps refused the refund: ${describeProblem(answer.body)}`);
      }
      return outcome(answer, 'refund the payment', cab);
    },

    refundedSoFar: (payment, cab) => aggregateAmount(client, payment.pspOrderId, 'refundedAmount', cab),
    capturedSoFar: (pspReference, cab) => aggregateAmount(client, pspReference, 'capturedAmount', cab),

    async checkPayment(pspReference, cab): Promise<PspCallOutcome<PaymentCheck>> {
      const answer = await client.call('GET', `/epayment/v1/payments/${encodeURIComponent(pspReference)}`);
      if (answer.kind === 'answered' && answer.status === 404) return { kind: 'ok', value: { kind: 'unknown' } };
      if (answer.kind === 'answered' && isSuccess(answer.status)) {
        const parsed = vippsPaymentState.safeParse(answer.body);
        if (!parsed.success) return { kind: 'retry', reason: `Vipps answered the payment ${pspReference} in a shape the relay cannot read` };
        const update = paymentUpdateFromState(parsed.data);
        return { kind: 'ok', value: update ? { kind: 'update', update } : { kind: 'open' } };
      }
      return outcome(answer, 'read the payment', cab);
    },

    async reserve(input, cab) {
      const answer = await client.call('POST', '/epayment/v1/payments', {
        idempotencyKey: vippsIdempotencyKey(input.reference),
        body: {
          amount: input.amount,
          paymentMethod: { type: 'WALLET' },
          customer: { customerToken: input.customerToken },
          customerInteraction: 'CUSTOMER_PRESENT',
          reference: input.reference,
          userFlow: 'PUSH_MESSAGE',
          paymentDescription: input.description.slice(0, DESCRIPTION_MAX),
        },
      });
      if (answer.kind === 'answered' && isSuccess(answer.status)) return { kind: 'ok', value: null };
      if (answer.kind === 'answered' && isClientError(answer.status) && mentionsCustomerToken(answer.body)) {
        return refused('customer_token_expired', "The passenger's Vipps check-in has expired, so nothing could be reserved.");
      }
      return outcome(answer, 'reserve the fare', cab);
    },

    async captureAndRelease(pspReference, amount, cab) {
      const captured = await provider.capturePayment(pspReference, amount, cab);
      if (captured.kind !== 'ok') return captured;
      const released = await provider.cancelPayment(pspReference, cab);
      if (released.kind === 'refused') {
        return { kind: 'retry', reason: `captured ${amount.value} ${amount.currency}, but the rest of the reservation was not released: ${released.message}` };
      }
      return released;
    },
  };
  return provider;
}

/** The ePayment create body, exported for tests. Amounts in minor units; taxRate in basis points. */
export function createPaymentBody(attempt: PaymentAttempt): Record<string, unknown> {
  const { request, cab, reference } = attempt;
  const total = request.orderAmount + request.tipAmount;
  return {
    amount: { value: total, currency: request.currency },
    paymentMethod: { type: 'WALLET' },
    customer: { customerToken: attempt.customerToken },
    customerInteraction: 'CUSTOMER_PRESENT',
    reference,
    userFlow: 'PUSH_MESSAGE',
    paymentDescription: `Taxi ${cab.plate}`.slice(0, DESCRIPTION_MAX),
    receipt: vippsReceipt(attempt),
  };
}

export function vippsReceipt(attempt: PaymentAttempt): { orderLines: Record<string, unknown>[]; bottomLine: Record<string, unknown> } {
  const { request, cab, reference } = attempt;
  const orderLines: Record<string, unknown>[] = request.orderLines.map((line) => {
    const tax = vatIncluded(line.amount, line.vatRate);
    return {
      name: line.label,
      id: line.id,
      totalAmount: line.amount,
      totalAmountExcludingTax: line.amount - tax,
      totalTaxAmount: tax,
      taxRate: line.vatRate * 100,
    };
  });
  return {
    orderLines,
    // The tip has its own bottom-line field; a tip order line as well would count it twice.
    bottomLine: { currency: request.currency, tipAmount: request.tipAmount, posId: cab.cabId, receiptNumber: reference },
  };
}

/**
 * Vipps takes idempotency keys of at most 50 characters of [A-Za-z0-9-]; anything else is
 * hashed into one, the same input always giving the same key.
 */
export function vippsIdempotencyKey(raw: string): string {
  if (/^[A-Za-z0-9-]{1,50}$/.test(raw)) return raw;
  return `h-${createHash('sha256').update(raw).digest('hex').slice(0, 48)}`;
}

function outcome<T>(answer: VippsAnswer, what: string, cab: CabRecord): PspCallOutcome<T> {
  switch (answer.kind) {
    case 'unreachable':
      return { kind: 'retry', reason: `could not ${what} for cab ${cab.cabId}: ${answer.reason}` };
    case 'credentials':
      return refused('psp_refused', `Vipps refused the relay's credentials, so no payment can be made: tell the fleet office (${answer.reason}).`);
    case 'answered':
      if (answer.status === 429 || answer.status >= 500 || answer.status === 408) {
        return { kind: 'retry', reason: `Vipps answered ${answer.status} when asked to ${what}` };
      }
      return refused('psp_refused', `Vipps would not ${what} (${answer.status}): ${describeProblem(answer.body)}`);
  }
}

/** One amount of the payment's aggregate (`GET /epayment/v1/payments/{reference}`), in minor units. */
async function aggregateAmount(
  client: VippsClient,
  reference: string,
  field: 'refundedAmount' | 'capturedAmount',
  cab: CabRecord,
): Promise<PspCallOutcome<number>> {
  const answer = await client.call('GET', `/epayment/v1/payments/${encodeURIComponent(reference)}`);
  if (answer.kind === 'answered' && isSuccess(answer.status)) {
    const value = (answer.body as { aggregate?: Record<string, { value?: unknown } | undefined> } | null)?.aggregate?.[field]?.value;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return { kind: 'retry', reason: `Vipps answered the payment ${reference} without aggregate.${field}` };
    }
    return { kind: 'ok', value };
  }
  if (answer.kind === 'answered' && answer.status === 404) return refused('not_found', `Vipps has no payment ${reference}`);
  return outcome(answer, 'read the payment', cab);
}

function refused(code: string, message: string): { kind: 'refused'; code: string; message: string } {
  return { kind: 'refused', code, message };
}

const isSuccess = (status: number) => status >= 200 && status < 300;
const isClientError = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** A 4xx about the customer token: the check-in expired or was used up. */
function mentionsCustomerToken(body: unknown): boolean {
  return /customer\s*token|customerToken/i.test(JSON.stringify(body ?? ''));
}

function isFinal(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const p = body as {
    state?: unknown;
    aggregate?: { authorizedAmount?: { value?: unknown }; capturedAmount?: { value?: unknown }; cancelledAmount?: { value?: unknown } };
  };
  if (p.state === 'ABORTED' || p.state === 'EXPIRED' || p.state === 'TERMINATED') return true;
  const a = p.aggregate;
  const n = (x: unknown) => (typeof x === 'number' ? x : 0);
  // Authorized and nothing left to release: everything was captured or cancelled already.
  return p.state === 'AUTHORIZED' && a !== undefined && n(a.authorizedAmount?.value) <= n(a.capturedAmount?.value) + n(a.cancelledAmount?.value);
}

function pspReferenceOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const r = (body as { pspReference?: unknown }).pspReference;
  return typeof r === 'string' && r.length > 0 && r.length <= 200 ? r : undefined;
}
