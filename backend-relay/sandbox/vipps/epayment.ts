/**
 * The ePayment API's payments: create (for a checked-in customer token, PUSH_MESSAGE), the
 * payer's approve / reject, expiry, and capture / cancel / refund. Every change commits together
 * with its event and the `epayments.payment.<name>.v1` deliveries it causes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DeadlineTimers } from '../deadline-timers.js';
import { requestHash } from '../idempotency.js';
import type { VippsDeliverer } from './delivery.js';
import { invalidRequest, parseOrProblem, VippsProblem } from './problem.js';
import type { VippsSettings } from './settings.js';
import { nowIso, type EventName, type PaymentRow, type VippsStore } from './store.js';

export const currency = z.enum(['NOK', 'DKK', 'EUR'], { error: 'one of NOK, DKK, EUR' });
const minor = z.number({ error: 'an integer in minor units (øre, cent)' }).int('an integer in minor units, no decimals');
export const amountSchema = z.object({ currency, value: minor.min(1, 'at least 1').max(100_000_000, 'at most 100000000') });

const orderLine = z
  .object({
    name: z.string().min(1).max(2048),
    id: z.string().min(1).max(255),
    totalAmount: minor.min(0),
    totalAmountExcludingTax: minor.min(0),
    totalTaxAmount: minor.min(0),
    // The API takes either: taxRate in basis points (2500 = 25%), or the deprecated whole-percent taxPercentage.
    taxPercentage: z.number().int().min(0).max(100).optional(),
    taxRate: z.number().int().min(0).max(10_000).optional(),
  })
  .refine((l) => l.taxRate !== undefined || l.taxPercentage !== undefined, {
    message: 'set taxRate (basis points, 2500 = 25%) or taxPercentage',
    path: ['taxRate'],
  });

export const createPaymentRequest = z.object({
  amount: amountSchema,
  paymentMethod: z.object({ type: z.literal('WALLET', 'the sandbox supports WALLET payments only') }),
  customer: z.object(
    { customerToken: z.string().min(1, 'the customerToken from a user.checked-in.v1 event').max(500) },
    { error: 'an object with the customerToken from a user.checked-in.v1 event' },
  ),
  customerInteraction: z.literal('CUSTOMER_PRESENT', 'CUSTOMER_PRESENT (the passenger is in the cab)'),
  reference: z.string().regex(/^[a-zA-Z0-9-]{8,50}$/, '8 to 50 characters of letters, digits and "-"'),
  userFlow: z.literal('PUSH_MESSAGE', 'PUSH_MESSAGE (the payment is pushed to the checked-in app)'),
  paymentDescription: z.string().min(3, 'at least 3 characters').max(100, 'at most 100 characters').optional(),
  receipt: z
    .object({
      orderLines: z.array(orderLine).min(1, 'at least one order line'),
      bottomLine: z.object({
        currency,
        tipAmount: minor.min(0).nullable().optional(),
        posId: z.string().max(255).nullable().optional(),
        receiptNumber: z.string().max(255).nullable().optional(),
      }),
    })
    .optional(),
});
export type CreatePaymentRequest = z.infer<typeof createPaymentRequest>;

export const modificationRequest = z.object({ modificationAmount: amountSchema });
export const cancelRequest = z.object({ cancelTransactionOnly: z.boolean().optional() }).nullable().optional();

export interface Answer {
  statusCode: number;
  body: unknown;
}

const amountOf = (currency: string, value: number) => ({ currency, value });

export function paymentView(p: PaymentRow) {
  return {
    aggregate: {
      authorizedAmount: amountOf(p.currency, p.authorized),
      cancelledAmount: amountOf(p.currency, p.cancelled),
      capturedAmount: amountOf(p.currency, p.captured),
      refundedAmount: amountOf(p.currency, p.refunded),
    },
    amount: amountOf(p.currency, p.amount),
    state: p.state,
    paymentMethod: { type: 'WALLET' },
    profile: {},
    pspReference: p.psp_reference,
    reference: p.reference,
  };
}

export function modificationView(p: PaymentRow) {
  const { aggregate, amount, state, pspReference, reference } = paymentView(p);
  return { amount, state, aggregate, pspReference, reference };
}

const webhookEventName = (name: EventName) => `epayments.payment.${name.toLowerCase()}.v1`;

export const EPAYMENT_EVENTS = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED', 'CAPTURED', 'CANCELLED', 'REFUNDED'].map((n) =>
  webhookEventName(n as EventName),
);

export interface EPaymentDeps {
  store: VippsStore;
  deliverer: VippsDeliverer;
  timers: DeadlineTimers;
  settings: () => VippsSettings;
  publicUrl: () => string;
}

const notFound = (reference: string) =>
  new VippsProblem(404, 'Payment not found', `No payment with reference "${reference}" for this merchant serial number.`, [
    { name: 'reference', reason: 'unknown' },
  ]);

export class EPaymentFlow {
  constructor(private readonly deps: EPaymentDeps) {}

  /** Re-arms every unexpired CREATED payment's expiry (after a restart). */
  rearm(): void {
    for (const p of this.deps.store.paymentsIn('CREATED')) this.armExpiry(p);
  }

  get(msn: string, reference: string): PaymentRow {
    this.expireIfDue(msn, reference);
    const p = this.deps.store.payment(msn, reference);
    if (!p) throw notFound(reference);
    return p;
  }

  events(msn: string, reference: string) {
    const p = this.get(msn, reference);
    return this.deps.store.events(p.msn, p.reference).map((e) => ({
      reference: e.reference,
      pspReference: e.psp_reference,
      name: e.name,
      amount: amountOf(e.currency, e.value),
      timestamp: e.timestamp,
      idempotencyKey: e.idempotency_key,
      success: e.success === 1,
    }));
  }

  create(msn: string, idempotencyKey: string, rawBody: unknown): Answer {
    const body = parseOrProblem(createPaymentRequest, rawBody, 'create-payment request');
    if (body.amount.currency === 'NOK' && body.amount.value < 100) {
      throw invalidRequest('Amount too small', 'The amount is too small: the minimum for NOK is 100 øre.', [
        { name: 'amount.value', reason: 'at least 100 for NOK' },
      ]);
    }
    if (body.receipt && body.receipt.bottomLine.currency !== body.amount.currency) {
      throw invalidRequest('Validation error', 'receipt.bottomLine.currency must equal amount.currency.', [
        { name: 'receipt.bottomLine.currency', reason: `must be ${body.amount.currency}` },
      ]);
    }
    return this.commit(() =>
      this.idempotent(`vipps:${msn}:create`, idempotencyKey, rawBody, () => {
        const { store, settings } = this.deps;
        const checkIn = store.checkIn(body.customer.customerToken);
        if (!checkIn || checkIn.msn !== msn || checkIn.expires_at_ms <= Date.now()) {
          throw invalidRequest(
            'Invalid CustomerToken',
            'The parameter CustomerToken is invalid: it must come from a user.checked-in.v1 event for this merchant serial number, ' +
              'used within its lifetime. Ask the passenger to scan the QR code again.',
            [{ name: 'ErrorCode', reason: '4050' }],
          );
        }
        if (store.payment(msn, body.reference)) {
          throw new VippsProblem(
            409,
            'Reference already used',
            `A payment with reference "${body.reference}" already exists; use a new reference for a new payment.`,
            [{ name: 'reference', reason: 'already used' }],
          );
        }
        const now = nowIso();
        const row: PaymentRow = {
          msn,
          reference: body.reference,
          psp_reference: randomUUID(),
          state: 'CREATED',
          currency: body.amount.currency,
          amount: body.amount.value,
          authorized: 0,
          captured: 0,
          cancelled: 0,
          refunded: 0,
          customer_token: body.customer.customerToken,
          payment_description: body.paymentDescription ?? null,
          receipt: body.receipt ? JSON.stringify(body.receipt) : null,
          idempotency_key: idempotencyKey,
          expires_at_ms: Date.now() + settings().paymentExpirySeconds * 1000,
          created_at: now,
          updated_at: now,
        };
        store.insertPayment(row);
        this.event(row, 'CREATED', row.amount, idempotencyKey);
        this.armExpiry(row);
        return { statusCode: 201, body: { reference: row.reference, redirectUrl: `${this.deps.publicUrl()}/vipps/app` } };
      }),
    );
  }

  /** The payer's answer in the app (or the test approve endpoint). */
  decide(reference: string, outcome: 'approve' | 'reject', msn?: string): PaymentRow {
    const p = this.byReference(reference, msn);
    this.expireIfDue(p.msn, p.reference);
    return this.commit(() => {
      const current = this.deps.store.payment(p.msn, p.reference)!;
      if (current.state !== 'CREATED') {
        throw invalidRequest('Payment not pending', `The payment is ${current.state}; only a CREATED payment can be approved or rejected.`, [
          { name: 'state', reason: current.state },
        ]);
      }
      if (outcome === 'approve') {
        this.deps.store.updatePayment(p.msn, p.reference, { state: 'AUTHORIZED', authorized: current.amount });
        this.event(current, 'AUTHORIZED', current.amount, current.idempotency_key);
      } else {
        this.deps.store.updatePayment(p.msn, p.reference, { state: 'ABORTED' });
        this.event(current, 'ABORTED', current.amount, current.idempotency_key);
      }
      this.deps.timers.cancel(timerKey(current));
      return this.deps.store.payment(p.msn, p.reference)!;
    });
  }

  capture(msn: string, reference: string, idempotencyKey: string, rawBody: unknown): Answer {
    const body = parseOrProblem(modificationRequest, rawBody, 'capture request');
    this.expireIfDue(msn, reference);
    return this.commit(() =>
      this.idempotent(`vipps:${msn}:capture:${reference}`, idempotencyKey, rawBody, () => {
        const p = this.deps.store.payment(msn, reference);
        if (!p) throw notFound(reference);
        this.sameCurrency(p, body.modificationAmount.currency);
        if (p.state !== 'AUTHORIZED') {
          throw invalidRequest(
            p.state === 'CREATED' ? 'Cannot capture before reservation' : 'Cannot capture a cancelled payment',
            p.state === 'CREATED'
              ? 'The amount you tried to capture is not reserved. The user must accept the payment before capture can be done.'
              : `The payment is ${p.state}; nothing can be captured.`,
          );
        }
        const left = p.authorized - p.captured - p.cancelled;
        if (body.modificationAmount.value > left) {
          throw invalidRequest('Capture amount too high', `The total capture amount exceeds the reserved amount: ${left} ${p.currency} is left to capture.`, [
            { name: 'modificationAmount.value', reason: `at most ${left}` },
          ]);
        }
        this.deps.store.updatePayment(msn, reference, { captured: p.captured + body.modificationAmount.value });
        this.event(p, 'CAPTURED', body.modificationAmount.value, idempotencyKey);
        return { statusCode: 200, body: modificationView(this.deps.store.payment(msn, reference)!) };
      }),
    );
  }

  cancel(msn: string, reference: string, idempotencyKey: string, rawBody: unknown): Answer {
    const body = parseOrProblem(cancelRequest, rawBody, 'cancel request');
    this.expireIfDue(msn, reference);
    return this.commit(() =>
      this.idempotent(`vipps:${msn}:cancel:${reference}`, idempotencyKey, rawBody ?? null, () => {
        const { store, timers } = this.deps;
        const p = store.payment(msn, reference);
        if (!p) throw notFound(reference);
        if (p.state === 'CREATED') {
          if (body?.cancelTransactionOnly) {
            throw invalidRequest('Cannot cancel pending', 'Cannot cancel a pending payment with cancelTransactionOnly: true.');
          }
          store.updatePayment(msn, reference, { state: 'TERMINATED' });
          this.event(p, 'TERMINATED', p.amount, idempotencyKey);
          timers.cancel(timerKey(p));
        } else if (p.state === 'AUTHORIZED') {
          const left = p.authorized - p.captured - p.cancelled;
          if (left === 0 && p.captured === p.authorized) {
            throw invalidRequest('Cannot cancel a captured payment', 'Cannot cancel a payment that has been captured in full; refund it instead.');
          }
          if (left > 0) {
            store.updatePayment(msn, reference, { cancelled: p.cancelled + left });
            this.event(p, 'CANCELLED', left, idempotencyKey);
          }
        } else if (p.state !== 'TERMINATED') {
          throw invalidRequest('Cannot cancel a non-reserved payment', `The payment is ${p.state}; there is nothing to cancel.`);
        }
        return { statusCode: 200, body: modificationView(store.payment(msn, reference)!) };
      }),
    );
  }

  refund(msn: string, reference: string, idempotencyKey: string, rawBody: unknown): Answer {
    const body = parseOrProblem(modificationRequest, rawBody, 'refund request');
    return this.commit(() =>
      this.idempotent(`vipps:${msn}:refund:${reference}`, idempotencyKey, rawBody, () => {
        const p = this.deps.store.payment(msn, reference);
        if (!p) throw notFound(reference);
        this.sameCurrency(p, body.modificationAmount.currency);
        if (p.state !== 'AUTHORIZED' || p.captured === 0) {
          throw invalidRequest('Attempted refund before capture', `Cannot refund a payment that has no captured amount (state ${p.state}).`);
        }
        const left = p.captured - p.refunded;
        if (body.modificationAmount.value > left) {
          throw invalidRequest('Refund amount too high', `The refund exceeds the captured amount not yet refunded: at most ${left} ${p.currency}.`, [
            { name: 'modificationAmount.value', reason: `at most ${left}` },
          ]);
        }
        this.deps.store.updatePayment(msn, reference, { refunded: p.refunded + body.modificationAmount.value });
        this.event(p, 'REFUNDED', body.modificationAmount.value, idempotencyKey);
        return { statusCode: 200, body: modificationView(this.deps.store.payment(msn, reference)!) };
      }),
    );
  }

  /** CREATED payments of a check-in token that the app can still approve. */
  pushes(customerToken: string) {
    return this.deps.store.paymentsByToken(customerToken).map((p) => {
      this.expireIfDue(p.msn, p.reference);
      return this.deps.store.payment(p.msn, p.reference)!;
    });
  }

  byReference(reference: string, msn?: string): PaymentRow {
    const rows = this.deps.store.db
      .prepare<[string], PaymentRow>('SELECT * FROM vipps_payments WHERE reference = ? ORDER BY created_at')
      .all(reference)
      .filter((p) => msn === undefined || p.msn === msn);
    if (rows.length === 0) throw notFound(reference);
    return rows[0]!;
  }

  private sameCurrency(p: PaymentRow, currency: string): void {
    if (currency !== p.currency) {
      throw invalidRequest('Validation error', `The payment is in ${p.currency}; modificationAmount.currency must be ${p.currency}.`, [
        { name: 'modificationAmount.currency', reason: `must be ${p.currency}` },
      ]);
    }
  }

  private armExpiry(p: PaymentRow): void {
    this.deps.timers.schedule(timerKey(p), p.expires_at_ms, () => {
      try {
        this.expireIfDue(p.msn, p.reference);
      } catch {
        // the flow re-checks on every read; a failure here only delays the EXPIRED event
      }
    });
  }

  /** A CREATED payment past its deadline becomes EXPIRED (with its event) before anything reads it. */
  private expireIfDue(msn: string, reference: string): void {
    this.commit(() => {
      const p = this.deps.store.payment(msn, reference);
      if (!p || p.state !== 'CREATED') return;
      if (Date.now() < p.expires_at_ms) return this.armExpiry(p); // timers count from the loop's cached clock, so they can fire early (order-flow.ts re-arms too)
      this.deps.store.updatePayment(msn, reference, { state: 'EXPIRED' });
      this.event(p, 'EXPIRED', p.amount, p.idempotency_key);
    });
  }

  private pendingIds: string[] | null = null;

  /** Runs `change` in one transaction; deliveries it enqueued start only after the commit. */
  private commit<T>(change: () => T): T {
    if (this.pendingIds) return change(); // nested: the outer commit delivers
    this.pendingIds = [];
    try {
      const result = this.deps.store.transaction(change);
      this.deps.deliverer.deliver(this.pendingIds);
      return result;
    } finally {
      this.pendingIds = null;
    }
  }

  private event(p: PaymentRow, name: EventName, value: number, idempotencyKey: string | null): void {
    const timestamp = nowIso();
    const pspReference = String(1_000_000_000 + (randomBytes(4).readUInt32BE() % 9_000_000_000));
    this.deps.store.insertEvent({
      msn: p.msn,
      reference: p.reference,
      psp_reference: pspReference,
      name,
      currency: p.currency,
      value,
      timestamp,
      idempotency_key: idempotencyKey,
      success: 1,
    });
    const body = {
      msn: p.msn,
      reference: p.reference,
      pspReference,
      name,
      amount: amountOf(p.currency, value),
      timestamp,
      idempotencyKey,
      success: true,
    };
    this.pendingIds!.push(...this.deps.deliverer.enqueue(p.msn, webhookEventName(name), p.reference, body));
  }

  /** Same key + same body: the stored answer again; same key + another body: 409. */
  private idempotent(scope: string, key: string, request: unknown, act: () => Answer): Answer {
    const hash = requestHash(request);
    const earlier = this.deps.store.idempotent(scope, key);
    if (earlier) {
      if (earlier.request_hash !== hash) {
        throw new VippsProblem(
          409,
          'Idempotency error',
          `Idempotency-Key ${key} already exists with a different request. Resend the original request, or use a new key for a new request.`,
          [{ name: 'ErrorCode', reason: '4020' }],
        );
      }
      return { statusCode: earlier.status_code, body: JSON.parse(earlier.body) as unknown };
    }
    const answer = act();
    this.deps.store.saveIdempotent(scope, key, hash, answer.statusCode, answer.body);
    return answer;
  }
}

const timerKey = (p: { msn: string; reference: string }) => `vipps-expiry:${p.msn}:${p.reference}`;

/** Used by check-ins: a commit helper for flows outside a payment. */
export function commitWithDeliveries<T>(store: VippsStore, deliverer: VippsDeliverer, change: (emit: (ids: string[]) => void) => T): T {
  const ids: string[] = [];
  const result = store.transaction(() => change((more) => ids.push(...more)));
  deliverer.deliver(ids);
  return result;
}
