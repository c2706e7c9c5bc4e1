/**
 * The payment request lifecycle: pending → completed | failed | expired | canceled, and refunds of
 * completed payments. Each change commits with its webhooks in one transaction, then delivery starts.
 * Expiry is applied lazily (on every read or action), so it needs no timers and survives restarts.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { digitsOf, majorToMinor, minorToMajor } from './amount.js';
import type { HitpayDeliverer, HookContext, PaymentEvent } from './webhooks.js';
import { paymentHooks } from './webhooks.js';
import type { HitpayStore, PaymentRow, RefundRow, RequestRow } from './store.js';
import { validationError, type CreateRequest } from './validation.js';

/** An answer other than 2xx, with HitPay's body. */
export class HitpayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message: string; [key: string]: unknown },
  ) {
    super(body.message);
  }
}

export const requestNotFound = (id: string) => new HitpayHttpError(404, { message: `No query results for model [App\\Business\\PaymentRequest] ${id}` });
const paymentNotFound = (id: string) => new HitpayHttpError(404, { message: `No query results for model [App\\Business\\Charge] ${id}` });

export class HitpayFlow {
  constructor(
    private readonly store: HitpayStore,
    private readonly deliverer: HitpayDeliverer,
    private readonly hookContext: () => HookContext,
    private readonly log: Logger,
  ) {}

  create(req: CreateRequest): RequestRow {
    const now = Date.now();
    const row: RequestRow = {
      id: uuidv7(),
      reference_number: req.referenceNumber,
      amount_minor: req.amountMinor,
      currency: req.currency,
      status: 'pending',
      payment_methods: JSON.stringify(req.paymentMethods),
      generate_qr: req.generateQr ? 1 : 0,
      name: req.name,
      email: req.email,
      phone: req.phone,
      purpose: req.purpose,
      redirect_url: req.redirectUrl,
      webhook: req.webhook,
      send_sms: req.sendSms ? 1 : 0,
      send_email: req.sendEmail ? 1 : 0,
      allow_repeated_payments: req.allowRepeatedPayments ? 1 : 0,
      expires_at_ms: req.expiresAtMs,
      created_ms: now,
      updated_ms: now,
    };
    this.store.insertRequest(row);
    this.log.info({ paymentRequestId: row.id, amount: row.amount_minor, currency: row.currency }, 'hitpay payment request created');
    return row;
  }

  /** Marks every overdue pending request `expired`. */
  expireOverdue(): void {
    const overdue = this.store.overdueRequests(Date.now());
    if (overdue.length === 0) return;
    this.store.transaction(() => {
      for (const r of overdue) this.store.updateRequest(r.id, { status: 'expired' });
    });
    for (const r of overdue) this.log.info({ paymentRequestId: r.id }, 'hitpay payment request expired');
  }

  /** The request with its payments, expiry applied; 404 when unknown. */
  get(id: string): { request: RequestRow; payments: PaymentRow[] } {
    this.expireOverdue();
    const request = this.store.request(id);
    if (!request) throw requestNotFound(id);
    return { request, payments: this.store.paymentsOf(id) };
  }

  /** The payer approves in their banking app: a payment for the full amount, request `completed`. */
  pay(id: string): { request: RequestRow; payment: PaymentRow } {
    return this.settle(id, 'payment_request.completed');
  }

  /** The payer declines (or the bank refuses): a failed payment, request `failed`. */
  fail(id: string): { request: RequestRow; payment: PaymentRow } {
    return this.settle(id, 'payment_request.failed');
  }

  private settle(id: string, event: PaymentEvent): { request: RequestRow; payment: PaymentRow } {
    this.expireOverdue();
    const ctx = this.hookContext();
    const result = this.store.transaction(() => {
      const request = this.store.request(id);
      if (!request) throw requestNotFound(id);
      if (request.status !== 'pending') {
        throw new HitpayHttpError(409, {
          message: `The payment request is ${request.status}; only a pending request can be paid or declined.`,
          status: request.status,
        });
      }
      const now = Date.now();
      const completed = event === 'payment_request.completed';
      const payment: PaymentRow = {
        id: uuidv7(),
        payment_request_id: id,
        status: completed ? 'succeeded' : 'failed',
        amount_minor: request.amount_minor,
        refunded_minor: 0,
        currency: request.currency,
        payment_type: 'paynow_online',
        created_ms: now,
        updated_ms: now,
      };
      this.store.insertPayment(payment);
      this.store.updateRequest(id, { status: completed ? 'completed' : 'failed' });
      const updated = this.store.request(id)!;
      const hooks = paymentHooks(ctx, updated, payment, this.store.paymentsOf(id), event);
      for (const hook of hooks) this.store.insertWebhook(hook);
      return { request: updated, payment, hookIds: hooks.map((h) => h.id) };
    });
    this.log.info({ paymentRequestId: id, paymentId: result.payment.id, event }, 'hitpay payment settled');
    this.deliverer.deliver(result.hookIds);
    return { request: result.request, payment: result.payment };
  }

  /**
   * `DELETE /v1/payment-requests/{id}`: a pending request becomes `canceled`. Already canceled,
   * expired or failed: nothing to do, same answer. Completed: refused ("We don't allow to delete
   * the completed payment request").
   */
  cancel(id: string): void {
    this.expireOverdue();
    this.store.transaction(() => {
      const request = this.store.request(id);
      if (!request) throw requestNotFound(id);
      if (request.status === 'completed') {
        throw new HitpayHttpError(400, { message: 'The completed payment request cannot be deleted. Refund its payment instead.' });
      }
      if (request.status === 'pending') this.store.updateRequest(id, { status: 'canceled' });
    });
  }

  /** `POST /v1/refund`: partial refunds add up to at most the amount paid. */
  refund(paymentId: string, amount: string | number): { refund: RefundRow; payment: PaymentRow } {
    return this.store.transaction(() => {
      const payment = this.store.payment(paymentId);
      if (!payment) throw paymentNotFound(paymentId);
      if (payment.status === 'failed') {
        throw validationError('payment_id', 'The payment cannot be refunded: it failed, so nothing was charged.');
      }
      const digits = digitsOf(payment.currency);
      const parsed = majorToMinor(amount, digits);
      if (!parsed.ok) {
        throw validationError(
          'amount',
          parsed.reason === 'too_many_decimals'
            ? `The amount must have at most ${digits} decimal places for ${payment.currency.toUpperCase()}.`
            : 'The amount must be a number.',
        );
      }
      const refundable = payment.amount_minor - payment.refunded_minor;
      if (parsed.minor <= 0) throw validationError('amount', `The amount must be at least ${minorToMajor(1, digits)}.`);
      if (parsed.minor > refundable) {
        throw validationError(
          'amount',
          `The amount may not be greater than the refundable amount ${minorToMajor(refundable, digits)} ` +
            `(paid ${minorToMajor(payment.amount_minor, digits)}, refunded ${minorToMajor(payment.refunded_minor, digits)}).`,
        );
      }
      const refund: RefundRow = {
        id: uuidv7(),
        payment_id: paymentId,
        amount_minor: parsed.minor,
        currency: payment.currency,
        created_ms: Date.now(),
      };
      this.store.insertRefund(refund);
      const refunded = payment.refunded_minor + parsed.minor;
      this.store.updatePayment(paymentId, {
        refunded_minor: refunded,
        status: refunded === payment.amount_minor ? 'refunded' : 'partially_refunded',
      });
      return { refund, payment: this.store.payment(paymentId)! };
    });
  }
}
