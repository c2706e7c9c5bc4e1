/**
 * Request bodies of the HitPay API, form-encoded or JSON, checked with zod and answered the way
 * HitPay (Laravel) answers a bad request: 422 `{message, errors: {field: [..]}}` where `message` is
 * the first error, plus " (and N more errors)" when there are more.
 */
import { z } from 'zod';
import { digitsOf, majorToMinor, withinCreateLimits } from './amount.js';
import { parseExpiresAfter, parseSgt } from './time.js';

export type FieldErrors = Record<string, string[]>;

export class HitpayValidationError extends Error {
  constructor(readonly errors: FieldErrors) {
    super(validationMessage(errors));
  }
  toBody() {
    return { message: this.message, errors: this.errors };
  }
}

function validationMessage(errors: FieldErrors): string {
  const all = Object.values(errors).flat();
  const first = all[0] ?? 'The given data was invalid.';
  const more = all.length - 1;
  return more > 0 ? `${first} (and ${more} more error${more === 1 ? '' : 's'})` : first;
}

/**
 * A form body as HitPay's PHP reads it: `payment_methods[]=a&payment_methods[]=b` (or `[0]`, `[1]`)
 * becomes an array; other repeated keys keep the last value.
 */
export function parseFormBody(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)\[(\d*)\]$/.exec(rawKey);
    if (m) {
      const key = m[1]!;
      const list = Array.isArray(out[key]) ? (out[key] as string[]) : [];
      list.push(value);
      out[key] = list;
    } else {
      out[rawKey] = value;
    }
  }
  return out;
}

/** HitPay's payment method codes the sandbox accepts; only `paynow_online` has a simulated QR. */
export const PAYMENT_METHODS = [
  'paynow_online',
  'card',
  'wechat_pay',
  'alipay',
  'grabpay_direct',
  'grabpay_paylater',
  'shopee_pay',
  'atome',
  'fpx',
  'zip',
  'doku_qris',
  'qrph_netbank',
  'touch_n_go',
  'opn_prompt_pay',
  'gcash_qr',
] as const;
export const QR_METHODS = ['paynow_online'] as const;

/** Currencies the sandbox business may charge in (lowercase, as HitPay echoes them). */
export const CURRENCIES = [
  'sgd',
  'myr',
  'usd',
  'eur',
  'gbp',
  'aud',
  'hkd',
  'php',
  'thb',
  'idr',
  'vnd',
  'inr',
  'jpy',
  'krw',
  'cny',
  'nzd',
  'cad',
  'chf',
  'sek',
  'nok',
  'dkk',
] as const;

const label = (field: string) => field.replace(/_/g, ' ');
const required = (field: string) => `The ${label(field)} field is required.`;

const boolish = (field: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0']), z.literal(1), z.literal(0)], {
      error: `The ${label(field)} field must be true or false.`,
    })
    .transform((v) => v === true || v === 'true' || v === '1' || v === 1);

const text = (field: string, max: number) =>
  z.string({ error: `The ${label(field)} must be a string.` }).max(max, `The ${label(field)} may not be greater than ${max} characters.`);

const httpUrl = (field: string) =>
  z.url({ protocol: /^https?$/, error: `The ${label(field)} format is invalid.` }).max(1028, `The ${label(field)} may not be greater than 1028 characters.`);

const amountInput = z.union([z.string(), z.number()], {
  error: (iss) => (iss.input === undefined || iss.input === '' ? required('amount') : 'The amount must be a number.'),
});

const createSchema = z.object({
  amount: amountInput,
  currency: z
    .string({ error: (iss) => (iss.input === undefined ? required('currency') : 'The currency must be a string.') })
    .min(1, required('currency'))
    .transform((c) => c.toLowerCase())
    .pipe(z.enum(CURRENCIES, { error: 'The selected currency is invalid.' })),
  payment_methods: z
    .array(z.enum(PAYMENT_METHODS, { error: 'The selected payment methods is invalid.' }), {
      error: 'The payment methods must be an array.',
    })
    .min(1, 'The payment methods must have at least 1 items.')
    .optional(),
  generate_qr: boolish('generate_qr').optional(),
  email: z.email({ error: 'The email must be a valid email address.' }).optional(),
  name: text('name', 255).optional(),
  phone: text('phone', 32).optional(),
  purpose: text('purpose', 255).optional(),
  reference_number: text('reference_number', 255).optional(),
  redirect_url: httpUrl('redirect_url').optional(),
  webhook: httpUrl('webhook').optional(),
  allow_repeated_payments: boolish('allow_repeated_payments').optional(),
  send_email: boolish('send_email').optional(),
  send_sms: boolish('send_sms').optional(),
  expiry_date: z.string({ error: 'The expiry date must be a string.' }).optional(),
  expires_after: z.string({ error: 'The expires after must be a string.' }).optional(),
});

export interface CreateRequest {
  amountMinor: number;
  currency: string;
  paymentMethods: string[];
  generateQr: boolean;
  email: string | null;
  name: string | null;
  phone: string | null;
  purpose: string | null;
  referenceNumber: string | null;
  redirectUrl: string | null;
  webhook: string | null;
  allowRepeatedPayments: boolean;
  sendEmail: boolean;
  sendSms: boolean;
  expiresAtMs: number | null;
}

/** Empty form fields mean "not sent", as in Laravel's ConvertEmptyStringsToNull. */
function dropEmpty(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== '' && v !== null));
}

function collect(errors: FieldErrors, issues: z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    const field = String(issue.path[0] ?? 'body');
    (errors[field] ??= []).push(issue.message);
  }
}

function add(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}

/** Throws HitpayValidationError (422) naming every bad field. */
export function parseCreateRequest(body: unknown, nowMs: number): CreateRequest {
  const errors: FieldErrors = {};
  const parsed = createSchema.safeParse(dropEmpty(body));
  if (!parsed.success) collect(errors, parsed.error.issues);
  const input = parsed.success ? parsed.data : null;

  // Amount rules depend on the currency, so they run once both parsed.
  let amountMinor = 0;
  const raw = dropEmpty(body);
  const currency = input?.currency ?? (typeof raw.currency === 'string' ? raw.currency.toLowerCase() : 'sgd');
  const digits = (CURRENCIES as readonly string[]).includes(currency) ? digitsOf(currency) : 2;
  if (!errors.amount && raw.amount !== undefined) {
    const amount = majorToMinor(raw.amount as string | number, digits);
    if (!amount.ok && amount.reason === 'too_many_decimals') {
      add(errors, 'amount', `The amount must have at most ${digits} decimal places for ${currency.toUpperCase()}.`);
    } else if (!amount.ok && amount.reason === 'not_a_number') {
      add(errors, 'amount', 'The amount must be a number.');
    } else if (!amount.ok || !withinCreateLimits(amount.minor, digits)) {
      add(errors, 'amount', 'The amount must be between 0.3 and 999999999.99.');
    } else {
      amountMinor = amount.minor;
    }
  }

  const methods = input?.payment_methods ?? ['paynow_online', 'card'];
  const generateQr = input?.generate_qr ?? false;
  if (input && generateQr && !methods.some((m) => (QR_METHODS as readonly string[]).includes(m))) {
    add(errors, 'payment_methods', 'The payment methods must include paynow_online when generate_qr is true (the only QR method this sandbox simulates).');
  }

  let expiresAtMs: number | null = null;
  if (input?.expiry_date !== undefined) {
    const at = parseSgt(input.expiry_date);
    if (at === null) add(errors, 'expiry_date', 'The expiry date does not match the format Y-m-d H:i:s (Singapore time).');
    else if (at <= nowMs) add(errors, 'expiry_date', 'The expiry date must be a date after now.');
    else expiresAtMs = at;
  }
  if (input?.expires_after !== undefined) {
    const ms = parseExpiresAfter(input.expires_after);
    if (ms === null) add(errors, 'expires_after', 'The expires after format is invalid: send e.g. "5 minutes", "30 mins", "2 hours" or "7 days".');
    else expiresAtMs = Math.min(expiresAtMs ?? Infinity, nowMs + ms);
  }

  if (Object.keys(errors).length > 0 || !input) throw new HitpayValidationError(errors);
  return {
    amountMinor,
    currency: input.currency,
    paymentMethods: [...new Set(methods)],
    generateQr,
    email: input.email ?? null,
    name: input.name ?? null,
    phone: input.phone ?? null,
    purpose: input.purpose ?? null,
    referenceNumber: input.reference_number ?? null,
    redirectUrl: input.redirect_url ?? null,
    webhook: input.webhook ?? null,
    allowRepeatedPayments: input.allow_repeated_payments ?? false,
    sendEmail: input.send_email ?? false,
    sendSms: input.send_sms ?? true,
    expiresAtMs,
  };
}

const refundSchema = z.object({
  amount: amountInput,
  payment_id: z
    .string({ error: (iss) => (iss.input === undefined ? required('payment_id') : 'The payment id must be a string.') })
    .min(1, required('payment_id')),
  webhook: httpUrl('webhook').optional(),
  email: z.email({ error: 'The email must be a valid email address.' }).optional(),
  send_email: boolish('send_email').optional(),
});

/** The shape only; the amount is checked against the payment (currency, refundable rest) later. */
export function parseRefundRequest(body: unknown): { amount: string | number; paymentId: string } {
  const parsed = refundSchema.safeParse(dropEmpty(body));
  if (parsed.success) return { amount: parsed.data.amount, paymentId: parsed.data.payment_id };
  const errors: FieldErrors = {};
  collect(errors, parsed.error.issues);
  throw new HitpayValidationError(errors);
}

export function validationError(field: string, message: string): HitpayValidationError {
  return new HitpayValidationError({ [field]: [message] });
}
