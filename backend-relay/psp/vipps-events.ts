/**
 * What a verified Vipps MobilePay webhook means for the relay (pure): the QR check-in
 * (`user.checked-in.v1`) starts a session on the cab that owns the merchant QR; the ePayment
 * events update a relay-made payment, which the payment service turns into tablet events.
 * The customer token of a check-in is a bearer secret for charging the passenger: it goes into
 * `checkIn` only, never into the event, the dedupe key, the audit data or a log line.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HookVerdict, PaymentUpdate } from './psp-adapter.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** A check-in's customer token lasts about 15 minutes (QR API docs). */
export const VIPPS_CHECKIN_TTL_MS = 15 * 60 * 1000;

export const VIPPS_EPAYMENT_EVENTS = [
  'epayments.payment.created.v1',
  'epayments.payment.aborted.v1',
  'epayments.payment.expired.v1',
  'epayments.payment.cancelled.v1',
  'epayments.payment.captured.v1',
  'epayments.payment.refunded.v1',
  'epayments.payment.authorized.v1',
  'epayments.payment.terminated.v1',
] as const;
export const VIPPS_CHECKIN_EVENT = 'user.checked-in.v1';
/** Everything the relay's one webhook registration subscribes to. */
export const VIPPS_WEBHOOK_EVENTS: readonly string[] = [VIPPS_CHECKIN_EVENT, ...VIPPS_EPAYMENT_EVENTS];

const isoTime = z.iso.datetime({ offset: true });
const msn = z.string().min(1).max(50);

export const vippsCheckInBody = z.object({
  customerToken: z.string().min(1).max(4000),
  merchantQrId: z.string().min(1).max(200),
  msn,
  initiatedAt: isoTime,
});
export type VippsCheckInBody = z.infer<typeof vippsCheckInBody>;

export const vippsPaymentEventName = z.enum(['CREATED', 'ABORTED', 'EXPIRED', 'CANCELLED', 'CAPTURED', 'REFUNDED', 'AUTHORIZED', 'TERMINATED']);

export const vippsPaymentEventBody = z.object({
  msn,
  reference: z.string().min(1).max(100),
  pspReference: z.string().min(1).max(200),
  name: vippsPaymentEventName,
  amount: z.object({ currency: z.string().regex(/^[A-Z]{3}$/), value: z.number().int().nonnegative() }),
  timestamp: isoTime,
  idempotencyKey: z.string().min(1).max(200).nullish(),
  success: z.boolean(),
});
export type VippsPaymentEventBody = z.infer<typeof vippsPaymentEventBody>;

/** Which of the two shapes a body claims to be, judged by its fields (Vipps sends no event name header we rely on). */
export function mapVippsHook(body: unknown, ourMsn: string | undefined): HookVerdict {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { verdict: 'malformed', message: 'the Vipps webhook body must be a JSON object' };
  }
  if ('customerToken' in body || 'merchantQrId' in body) {
    const parsed = vippsCheckInBody.safeParse(body);
    // zod's messages name fields and types, never values, so the token stays out of the answer.
    if (!parsed.success) return malformed(`the body is not a Vipps ${VIPPS_CHECKIN_EVENT} event`, parsed.error);
    return mapCheckIn(parsed.data, ourMsn);
  }
  const parsed = vippsPaymentEventBody.safeParse(body);
  if (!parsed.success) return malformed('the body is neither a Vipps check-in nor an ePayment event', parsed.error);
  return mapPaymentEvent(parsed.data, ourMsn);
}

export function mapCheckIn(d: VippsCheckInBody, ourMsn: string | undefined): HookVerdict {
  if (ourMsn !== undefined && d.msn !== ourMsn) return wrongMsn(d.msn, ourMsn);
  // Both derive from the token and the scan time: a retried hook gets the same session, a new
  // scan by the same passenger (whose token may be the same) a new one, and neither reveals the token.
  const scan = createHash('sha256').update(`${d.msn}\n${d.customerToken}\n${d.initiatedAt}`).digest('base64url');
  const sessionId = `vco_${scan.slice(0, 32)}`;
  const expiresAt = new Date(Date.parse(d.initiatedAt) + VIPPS_CHECKIN_TTL_MS).toISOString();
  return {
    verdict: 'verified',
    dedupeKey: `checkin:${d.msn}:${scan.slice(32)}`,
    route: { by: 'qrCode', qrCode: d.merchantQrId },
    event: {
      type: 'qr.session.started',
      data: { psp: 'vipps', sessionId, qrCode: d.merchantQrId, allowTip: true, expiresAt },
    },
    checkIn: { sessionId, customerToken: d.customerToken, merchantQrId: d.merchantQrId, expiresAt },
    // Vipps has no answer like Hips' 412: a check-in for a cab that is down simply waits in its log.
    needsLiveCab: false,
    auditData: { event: VIPPS_CHECKIN_EVENT, merchantQrId: d.merchantQrId, msn: d.msn, initiatedAt: d.initiatedAt, sessionId },
  };
}

export function mapPaymentEvent(d: VippsPaymentEventBody, ourMsn: string | undefined): HookVerdict {
  if (ourMsn !== undefined && d.msn !== ourMsn) return wrongMsn(d.msn, ourMsn);
  const update = paymentUpdateFor(d);
  return {
    verdict: 'verified',
    // The idempotency key is the merchant's request (create, capture, refund); the name tells
    // the events of one request apart. Without one, Vipps' pspReference is unique per operation.
    dedupeKey: `epayment:${d.reference}:${d.name}:${d.idempotencyKey ?? d.pspReference}`,
    route: { by: 'payment', pspReference: d.reference },
    event: null,
    ...(update ? { paymentUpdate: update } : {}),
    needsLiveCab: false,
    auditData: d,
  };
}

/** null: nothing for the payment service to do (CREATED, or an operation that did not succeed). */
export function paymentUpdateFor(d: VippsPaymentEventBody): PaymentUpdate | undefined {
  // No pspPaymentId: Vipps' pspReference names one operation (a capture, a refund), while the
  // payment (for order.paid's pspOrderId and later refunds) is known by its reference.
  const base = { pspReference: d.reference, reference: d.reference, amount: { value: d.amount.value, currency: d.amount.currency } };
  // `success: false` reports an operation that did not happen (e.g. a failed capture): the
  // payment is still where it was, and the relay's own call already got the answer.
  if (!d.success) return undefined;
  switch (d.name) {
    case 'CREATED':
      return undefined;
    case 'AUTHORIZED':
      return { ...base, status: 'authorized' };
    case 'CAPTURED':
      return { ...base, status: 'captured' };
    case 'ABORTED':
      return { ...base, status: 'failed', failureCode: 'payment_rejected', reason: 'the passenger declined the payment in the app' };
    case 'EXPIRED':
      return { ...base, status: 'expired', failureCode: 'payment_expired', reason: 'the passenger did not approve the payment in time' };
    case 'TERMINATED':
      return { ...base, status: 'canceled', failureCode: 'payment_canceled', reason: 'the payment was terminated' };
    case 'CANCELLED':
      return { ...base, status: 'canceled', reason: 'the reserved amount was released' };
    case 'REFUNDED':
      return { ...base, status: 'refunded' };
  }
}

/** `GET /epayment/v1/payments/{reference}`: the parts reconciliation reads. */
export const vippsPaymentState = z.looseObject({
  reference: z.string().min(1).max(100),
  state: z.enum(['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED']),
  amount: z.object({ currency: z.string().regex(/^[A-Z]{3}$/), value: z.number().int().nonnegative() }),
  aggregate: z
    .looseObject({
      capturedAmount: z.looseObject({ value: z.number().int().nonnegative() }).optional(),
      cancelledAmount: z.looseObject({ value: z.number().int().nonnegative() }).optional(),
      authorizedAmount: z.looseObject({ value: z.number().int().nonnegative() }).optional(),
    })
    .optional(),
});
export type VippsPaymentState = z.infer<typeof vippsPaymentState>;

/**
 * What a payment's state says, as the event its webhook would have carried: reconciliation
 * applies exactly what the hook would have. Undefined while the passenger has not answered.
 */
export function paymentUpdateFromState(p: VippsPaymentState): PaymentUpdate | undefined {
  const a = p.aggregate;
  const captured = a?.capturedAmount?.value ?? 0;
  const cancelled = a?.cancelledAmount?.value ?? 0;
  const as = (name: VippsPaymentEventBody['name'], value = p.amount.value) =>
    paymentUpdateFor({
      msn: '',
      reference: p.reference,
      pspReference: p.reference,
      name,
      amount: { currency: p.amount.currency, value },
      timestamp: new Date(0).toISOString(),
      success: true,
    });
  switch (p.state) {
    case 'CREATED':
      return undefined;
    case 'AUTHORIZED':
      if (captured > 0 && captured >= p.amount.value) return as('CAPTURED', captured);
      // Released without a capture: the authorization is gone, nothing was paid.
      if (captured === 0 && cancelled > 0 && cancelled >= (a?.authorizedAmount?.value ?? p.amount.value)) return as('CANCELLED', cancelled);
      return as('AUTHORIZED');
    default:
      return as(p.state);
  }
}

function wrongMsn(got: string, ours: string): HookVerdict {
  return {
    verdict: 'malformed',
    message: `the event is for merchant serial number ${got}, but this relay is configured for ${ours} (VIPPS_MSN): check the webhook registration`,
  };
}

function malformed(what: string, error: z.ZodError): HookVerdict {
  const detail = zodIssuesText(error, { limit: 5 });
  return { verdict: 'malformed', message: `${what}: ${detail}` };
}
