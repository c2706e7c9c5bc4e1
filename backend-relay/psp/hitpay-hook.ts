/**
 * HitPay webhooks → a verdict. The content type decides the style: form-encoded legacy hooks
 * (the payment request's `webhook`) carry an `hmac` field; JSON event hooks carry the
 * `Hitpay-Signature` header over the raw bytes. Only verified content is read, and the payment
 * service decides the tablet's events from the normalised `paymentUpdate`.
 */
import { z } from 'zod';
import { parseMajorString } from '../../protocol/decimal-amount.js';
import { parseBoundedJson } from '../bounded-json.js';
import type { PaymentFailureCode } from '../../protocol/relay-protocol.js';
import { verifyBodySignature, verifyLegacySignature } from './hitpay-hmac.js';
import type { HookVerdict, PaymentUpdate, WebhookRequest } from './psp-adapter.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as SGD')
  .transform((c) => c.toUpperCase());
const id = z.string().min(1).max(200);
/** JSON hooks send amounts as numbers (1.11) or strings ("10.00"); both become decimal text. */
const amountText = z.union([z.string(), z.number()]).transform((a) => (typeof a === 'number' ? numberText(a) : a));

/** Every field HitPay's Webhook v1 sends (its documentation's list); no other is accepted. */
const LEGACY_FIELDS: ReadonlySet<string> = new Set(['payment_id', 'payment_request_id', 'phone', 'amount', 'currency', 'status', 'reference_number', 'hmac']);

/** Webhook v1 (form): payment_id, payment_request_id, phone, amount, currency, status, reference_number, hmac. */
export const hitpayLegacyHook = z.looseObject({
  payment_request_id: id,
  payment_id: z.string().max(200).default(''),
  status: z.string().min(1).max(40),
  amount: z.string().max(40).default(''),
  currency,
  reference_number: z.string().max(255).optional(),
});

/** Event webhook (JSON), `Hitpay-Event-Object: payment_request`: the payment request object. */
export const hitpayPaymentRequestObject = z.looseObject({
  id,
  status: z.string().min(1).max(40),
  amount: amountText,
  currency,
  reference_number: z.string().max(255).nullish(),
  payments: z.array(z.looseObject({ id, status: z.string().max(40).optional() })).nullish(),
});

/** Event webhook (JSON), `Hitpay-Event-Object: charge`: one payment; routable only with its request id. */
export const hitpayChargeObject = z.looseObject({
  id,
  status: z.string().min(1).max(40),
  amount: amountText,
  currency,
  payment_request_id: id,
  reference_number: z.string().max(255).nullish(),
});

/** What every style says, once verified. */
interface HookFacts {
  paymentRequestId: string;
  paymentId: string;
  status: string;
  amount: string;
  currency: string;
  reference?: string;
}

export function verifyHitpayHook(request: WebhookRequest, salt: string): HookVerdict {
  const type = headerValue(request.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return verifyLegacy(request, salt);
  if (type === 'application/json') return verifyJson(request, salt);
  return {
    verdict: 'malformed',
    message: `a HitPay hook is form-encoded (Webhook v1) or JSON (event webhook), not ${type ?? 'without a content type'}`,
  };
}

function verifyLegacy(request: WebhookRequest, salt: string): HookVerdict {
  // The raw bytes, not the framework's parse, so that what is verified is exactly what was sent.
  const params = new URLSearchParams(request.rawBody.toString('utf8'));
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of params) {
    if (key in fields) return { verdict: 'unauthenticated', message: `the field "${key}" appears twice; the hmac cannot cover it` };
    fields[key] = value;
  }
  if (!fields.hmac) return { verdict: 'unauthenticated', message: 'the form-encoded HitPay hook carries no hmac field' };
  // The signed string has no separators, so text can move across a field boundary with the same
  // hmac (`amount=10.00` → `amount1=0.00`, or a value swallowing the fields after it). With
  // exactly HitPay's documented fields, in their fixed sorted order, nothing can move.
  const unknown = Object.keys(fields).filter((key) => !LEGACY_FIELDS.has(key));
  if (unknown.length > 0) {
    return {
      verdict: 'unauthenticated',
      message: `the form carries ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}, not a HitPay Webhook v1 field (${[...LEGACY_FIELDS].join(', ')})`,
    };
  }
  const missing = [...LEGACY_FIELDS].filter((key) => !(key in fields));
  if (missing.length > 0) {
    return {
      verdict: 'unauthenticated',
      message: `the form lacks ${missing.join(', ')}: HitPay sends every Webhook v1 field, so its hmac cannot be trusted without them`,
    };
  }
  if (!verifyLegacySignature(fields, salt)) {
    return { verdict: 'unauthenticated', message: 'the hmac does not match the fields signed with HITPAY_SALT' };
  }
  const parsed = hitpayLegacyHook.safeParse(fields);
  if (!parsed.success) return malformed('the verified form is not a HitPay payment hook', parsed.error);
  const d = parsed.data;
  const { hmac: _signature, ...audit } = fields;
  return mapFacts(
    {
      paymentRequestId: d.payment_request_id,
      paymentId: d.payment_id,
      status: d.status,
      amount: d.amount,
      currency: d.currency,
      reference: d.reference_number,
    },
    audit,
  );
}

function verifyJson(request: WebhookRequest, salt: string): HookVerdict {
  const header = request.headers['hitpay-signature'];
  if (header === undefined) return { verdict: 'unauthenticated', message: 'the JSON HitPay hook carries no Hitpay-Signature header' };
  if (typeof header !== 'string' || !verifyBodySignature(request.rawBody, header, salt)) {
    return { verdict: 'unauthenticated', message: 'Hitpay-Signature does not match the body signed with HITPAY_SALT' };
  }
  const parsedBody = parseBoundedJson(request.rawBody.toString('utf8'));
  if (!parsedBody.ok) return { verdict: 'malformed', message: `the signed body is refused: ${parsedBody.error.message}` };
  const body = parsedBody.value;
  const object = headerValue(request.headers['hitpay-event-object'])?.toLowerCase();
  const isCharge = object === 'charge' || (object === undefined && isRecord(body) && 'payment_request_id' in body);
  if (isCharge) {
    const parsed = hitpayChargeObject.safeParse(body);
    if (!parsed.success) return malformed('the verified charge cannot be routed to a payment request', parsed.error);
    const c = parsed.data;
    return mapFacts(
      {
        paymentRequestId: c.payment_request_id,
        paymentId: c.id,
        status: c.status,
        amount: c.amount,
        currency: c.currency,
        reference: c.reference_number ?? undefined,
      },
      body,
    );
  }
  if (object !== undefined && object !== 'payment_request') {
    return {
      verdict: 'malformed',
      message: `HitPay event object "${object}" is not handled here; subscribe this endpoint to payment_request (or charge) events only`,
    };
  }
  const parsed = hitpayPaymentRequestObject.safeParse(body);
  if (!parsed.success) return malformed('the verified body is not a HitPay payment request', parsed.error);
  return mapFacts(requestFacts(parsed.data), body);
}

/** A payment request object (a JSON hook's body, or `GET /v1/payment-requests/{id}`) as facts. */
function requestFacts(r: z.infer<typeof hitpayPaymentRequestObject>): HookFacts {
  const paid = r.payments?.find((p) => p.status === 'succeeded' || p.status === 'completed');
  const latest = r.payments?.at(-1);
  // A failed PayNow attempt may leave the request payable (`pending`); its payment says failed.
  const failedAttempt = r.status === 'pending' && latest?.status === 'failed';
  return {
    paymentRequestId: r.id,
    paymentId: (r.status === 'completed' ? (paid ?? latest) : latest)?.id ?? '',
    status: failedAttempt ? 'failed' : r.status,
    amount: r.amount,
    currency: r.currency,
    reference: r.reference_number ?? undefined,
  };
}

/**
 * A payment request as `GET /v1/payment-requests/{id}` answers it, turned into what its JSON
 * webhook would have said (reconciliation). `update` is absent while it is still payable.
 */
export function paymentUpdateFromRequest(body: unknown): { ok: true; update?: PaymentUpdate } | { ok: false; message: string } {
  const parsed = hitpayPaymentRequestObject.safeParse(body);
  if (!parsed.success) return { ok: false, message: `HitPay answered a payment request the relay cannot read (${zodIssuesText(parsed.error, { limit: 1 })})` };
  const verdict = mapFacts(requestFacts(parsed.data), null);
  if (verdict.verdict !== 'verified') return { ok: false, message: verdict.message };
  return verdict.paymentUpdate ? { ok: true, update: verdict.paymentUpdate } : { ok: true };
}

const STATUS: Record<string, { status: PaymentUpdate['status']; failureCode?: PaymentFailureCode } | null> = {
  completed: { status: 'completed' },
  succeeded: { status: 'completed' },
  failed: { status: 'failed', failureCode: 'payment_rejected' },
  expired: { status: 'expired', failureCode: 'payment_expired' },
  canceled: { status: 'canceled', failureCode: 'payment_canceled' },
  cancelled: { status: 'canceled', failureCode: 'payment_canceled' },
  inactive: { status: 'canceled', failureCode: 'payment_canceled' },
  // Still payable: nothing for the service to do.
  pending: null,
};

function mapFacts(f: HookFacts, auditData: unknown): HookVerdict {
  const raw = f.status.toLowerCase();
  if (!(raw in STATUS)) {
    return { verdict: 'malformed', message: `unknown HitPay status "${f.status}" (expected completed, failed, expired, canceled or pending)` };
  }
  const mapped = STATUS[raw];
  let amount: PaymentUpdate['amount'];
  if (f.amount !== '' || mapped?.status === 'completed') {
    const minor = parseMajorString(f.amount, f.currency);
    if (!minor.ok) return { verdict: 'malformed', message: `the hook's amount: ${minor.error.message}` };
    amount = { value: minor.value, currency: f.currency };
  }
  const normalised = mapped?.status ?? raw;
  const paymentUpdate: PaymentUpdate | undefined = mapped
    ? {
        pspReference: f.paymentRequestId,
        status: mapped.status,
        ...(amount && { amount }),
        ...(mapped.failureCode && { failureCode: mapped.failureCode, reason: `HitPay: ${raw}` }),
        ...(f.paymentId && { pspPaymentId: f.paymentId }),
        ...(f.reference && { reference: f.reference }),
      }
    : undefined;
  return {
    verdict: 'verified',
    // The same payment seen through both hook styles shares a key, so it is applied once.
    dedupeKey: `hitpay:${f.paymentRequestId}:${f.paymentId}:${normalised}`,
    route: { by: 'payment', pspReference: f.paymentRequestId },
    event: null,
    ...(paymentUpdate && { paymentUpdate }),
    needsLiveCab: false,
    auditData,
  };
}

/** A JSON number as the shortest decimal text JS gives it (1.11 → "1.11"); exponents are refused later. */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'NaN';
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(what: string, error: z.ZodError): HookVerdict {
  const detail = zodIssuesText(error, { limit: 5 });
  return { verdict: 'malformed', message: `${what}: ${detail}` };
}
