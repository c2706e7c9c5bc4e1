/** HitPay wire shapes built from rows: payment requests, payments and refunds. */
import { digitsOf, minorToJsonNumber, minorToMajor } from './amount.js';
import type { PaymentRow, RefundRow, RequestRow } from './store.js';
import { sgtString } from './time.js';

export interface HitpayViewContext {
  publicUrl: string;
}

/** What the phone's camera opens. A real HitPay PayNow QR is an EMVCo string (000201…) that a
 * banking app reads; the sandbox uses its own pay page URL so any phone camera can "pay". */
export function paynowQrData(ctx: HitpayViewContext, id: string): string {
  return `${ctx.publicUrl}/hitpay/paynow/${id}`;
}

export function paymentView(p: PaymentRow) {
  const digits = digitsOf(p.currency);
  return {
    id: p.id,
    quantity: 1,
    status: p.status,
    buyer_name: null,
    buyer_phone: null,
    buyer_email: null,
    currency: p.currency,
    amount: minorToMajor(p.amount_minor, digits),
    refunded_amount: minorToMajor(p.refunded_minor, digits),
    payment_type: p.payment_type,
    fees: minorToMajor(0, digits),
    created_at: sgtString(p.created_ms),
    updated_at: sgtString(p.updated_ms),
  };
}

/**
 * The payment request as `POST` and `GET /v1/payment-requests` answer it. `payments` is included
 * on GET and in JSON webhooks (HitPay's GET shows them), not on create.
 */
export function requestView(ctx: HitpayViewContext, r: RequestRow, payments?: PaymentRow[]) {
  const digits = digitsOf(r.currency);
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    phone: r.phone,
    amount: minorToMajor(r.amount_minor, digits),
    currency: r.currency,
    is_currency_editable: false,
    status: r.status,
    purpose: r.purpose,
    reference_number: r.reference_number,
    payment_methods: JSON.parse(r.payment_methods) as string[],
    url: `${ctx.publicUrl}/hitpay/paynow/${r.id}`,
    redirect_url: r.redirect_url,
    webhook: r.webhook,
    send_sms: r.send_sms === 1,
    send_email: r.send_email === 1,
    sms_status: r.send_sms === 1 ? 'pending' : null,
    email_status: r.send_email === 1 ? 'pending' : null,
    allow_repeated_payments: r.allow_repeated_payments === 1,
    expiry_date: r.expires_at_ms === null ? null : sgtString(r.expires_at_ms),
    address: null,
    line_items: null,
    executor_id: null,
    created_at: sgtString(r.created_ms),
    updated_at: sgtString(r.updated_ms),
    staff_id: null,
    business_location_id: null,
    ...(r.generate_qr === 1
      ? {
          qr_code_data: {
            qr_code: paynowQrData(ctx, r.id),
            qr_code_expiry: r.expires_at_ms === null ? null : sgtString(r.expires_at_ms),
          },
        }
      : {}),
    ...(payments ? { payments: payments.map(paymentView) } : {}),
  };
}

/** `GET /v1/charges/{id}`: the payment, what has been refunded of it, and each refund. */
export function chargeView(p: PaymentRow, refunds: RefundRow[]) {
  const digits = digitsOf(p.currency);
  return {
    ...paymentView(p),
    payment_request_id: p.payment_request_id,
    refunds: refunds.map((r) => ({
      id: r.id,
      amount_refunded: minorToJsonNumber(r.amount_minor, digits),
      currency: r.currency,
      status: 'succeeded',
      created_at: sgtString(r.created_ms),
    })),
  };
}

/** `POST /v1/refund`'s answer: amounts are JSON numbers in major units, as HitPay sends them. */
export function refundView(refund: RefundRow, payment: PaymentRow) {
  const digits = digitsOf(refund.currency);
  return {
    id: refund.id,
    refunded_by: null,
    payment_id: refund.payment_id,
    amount_refunded: minorToJsonNumber(refund.amount_minor, digits),
    total_amount: minorToJsonNumber(payment.amount_minor, digits),
    currency: refund.currency,
    status: 'succeeded',
    payment_method: payment.payment_type,
    provider_fee: null,
    provider_fee_currency: null,
    refunded_at: new Date(refund.created_ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    created_at: sgtString(refund.created_ms),
  };
}
