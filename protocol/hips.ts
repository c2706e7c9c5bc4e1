/**
 * The Hips wire format, shared by the relay (which verifies it) and the sandbox (which emits it).
 * Field names follow the provider (snake_case). docs/contracts.md lists the endpoints.
 */
import { z } from 'zod';
import { currencyCode, minorAmount } from './money.js';

export const HIPS_ISSUER = 'hips.com';

export const qrHookRequestTypes = ['start_qr_session', 'canceled', 'timed_out'] as const;

/** The `data` claim of a QR hook JWT (the body mirrors it; only the verified claim is trusted). */
export const hipsQrHookData = z.object({
  request_type: z.enum(qrHookRequestTypes),
  session_id: z.string().min(1).max(200),
  one_time_order_api_key: z.string().min(1).max(4000).optional(),
  idempotency_key: z.string().min(1).max(200),
  qr_id: z.string().max(200).optional(),
  sales_channel_id: z.string().max(200).optional(),
  qr_code: z.string().min(1).max(200),
  allow_tip: z.boolean().optional(),
  execute_at: z.string().max(100).optional(),
  order_timeout_seconds: z.number().int().positive().max(86_400).optional(),
  payment_timeout_seconds: z.number().int().positive().max(86_400).optional(),
  dynamic: z.unknown().optional(),
});
export type HipsQrHookData = z.infer<typeof hipsQrHookData>;

export const hipsOrderEvents = ['payment.successful', 'payment.failed', 'order.expired'] as const;

export const hipsOrderResource = z.object({
  id: z.string().min(1).max(200),
  type: z.string().max(100).optional(),
  order_id: z.string().min(1).max(200),
  merchant_order_id: z.string().min(1).max(200),
  status: z.string().max(100),
  currency: currencyCode,
  amount: minorAmount,
  tip_amount: minorAmount,
  order_amount: minorAmount,
  order_status: z.string().max(100).optional(),
  reason: z.string().max(500).optional(),
});

/** The `data` claim of an order hook JWT. */
export const hipsOrderHookData = z.object({
  event: z.enum(hipsOrderEvents),
  idempotency_key: z.string().min(1).max(200).optional(),
  resource: hipsOrderResource,
});
export type HipsOrderHookData = z.infer<typeof hipsOrderHookData>;

/** A webhook body as posted: the readable fields plus `jwt`. Only `jwt` is relied on. */
export const hipsWebhookBody = z.looseObject({ jwt: z.string().min(1).max(64_000) });

export const hipsCartItem = z.object({
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(1000),
  unit_price: minorAmount,
  vat_amount: minorAmount,
  vat: z.number().int().min(0).max(100).optional(),
  type: z.enum(['physical', 'digital', 'service', 'fee', 'shipping_fee', 'discount']),
});

export const hipsCreateOrderRequest = z.object({
  order_id: z.string().min(1).max(200),
  purchase_currency: currencyCode,
  cart: z.object({ items: z.array(hipsCartItem).min(1).max(100) }),
  fulfill: z.boolean(),
  qr_session_id: z.string().min(1).max(200).optional(),
  hooks: z.object({ webhook_url: z.url() }),
});
export type HipsCreateOrderRequest = z.infer<typeof hipsCreateOrderRequest>;

export const hipsOrder = z.looseObject({
  id: z.string(),
  order_id: z.string(),
  status: z.string(),
  purchase_currency: currencyCode,
  order_amount: minorAmount,
  qr_session_id: z.string().optional(),
});
export type HipsOrder = z.infer<typeof hipsOrder>;

export const hipsErrorBody = z.object({
  error: z.object({ type: z.string(), message: z.string() }),
});
