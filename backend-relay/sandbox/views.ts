/** Turns stored rows into the JSON objects the sandbox answers with (Hips field names). */
import QRCode from 'qrcode';
import { maxTip } from '../../protocol/money.js';
import type { SandboxConfig } from './sandbox-config.js';
import type { OrderRow, QrRow, SessionRow } from './store.js';

export function qrData(config: SandboxConfig, qr: Pick<QrRow, 'qr_code' | 'dynamic'>): string {
  const base = `${config.publicUrl}/qr/${encodeURIComponent(config.merchantId)}/${encodeURIComponent(qr.qr_code)}`;
  return qr.dynamic === null ? base : `${base}?dynamic=${encodeURIComponent(qr.dynamic)}`;
}

export async function qrView(config: SandboxConfig, qr: QrRow) {
  const data = qrData(config, qr);
  const png = await QRCode.toBuffer(data, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 500 });
  return {
    code_token: qr.code_token,
    qr_id: qr.code_token,
    qr_code: qr.qr_code,
    qr_data: data,
    qr_code_b64_png: png.toString('base64'),
    status: qr.status,
    allow_tip: qr.allow_tip === 1,
    qr_start_webhook_url: qr.qr_start_webhook_url,
    order_timeout_seconds: qr.order_timeout_seconds,
    payment_timeout_seconds: qr.payment_timeout_seconds,
    asynchronous: qr.asynchronous === 1,
    mapped_to_sales_channel_id: config.salesChannelId,
    customer_text_preset_type: 'general',
    ...(qr.dynamic === null ? {} : { dynamic: JSON.parse(qr.dynamic) as unknown }),
    created_at: qr.created_at,
    updated_at: qr.updated_at,
  };
}

export function orderView(order: OrderRow) {
  return {
    id: order.id,
    order_id: order.merchant_order_id,
    merchant_order_id: order.merchant_order_id,
    status: order.status,
    fulfillment_status: order.fulfillment_status,
    purchase_currency: order.currency,
    order_amount: order.order_amount,
    tip_amount: order.tip_amount,
    amount: order.amount,
    refunded_amount: order.refunded_amount,
    cart: { items: JSON.parse(order.items) as unknown[] },
    fulfill: order.fulfill === 1,
    ...(order.session_id === null ? {} : { qr_session_id: order.session_id }),
    hooks: { webhook_url: order.webhook_url },
    ...(order.reason === null ? {} : { reason: order.reason }),
    expires_at: new Date(order.payment_deadline_ms).toISOString(),
    created_at: order.created_at,
    paid_at: order.paid_at,
  };
}

export function sessionView(config: SandboxConfig, session: SessionRow, order: OrderRow | undefined) {
  return {
    session_id: session.id,
    state: session.state,
    allow_tip: session.allow_tip === 1,
    qr_code: session.qr_code,
    merchant: { id: config.merchantId, name: config.merchantName },
    // The fleet may put the cab's plate in the QR's dynamic data, so the payer can check the car.
    cab: { plate: plateFrom(session.dynamic) },
    order_timeout_at: new Date(session.order_deadline_ms).toISOString(),
    ...(session.down_response_text === null ? {} : { down_response_text: session.down_response_text }),
    ...(order
      ? {
          order: {
            id: order.id,
            order_id: order.merchant_order_id,
            status: order.status,
            currency: order.currency,
            order_amount: order.order_amount,
            items: JSON.parse(order.items) as unknown[],
            max_tip: session.allow_tip === 1 ? maxTip(order.order_amount) : 0,
            tip_amount: order.tip_amount,
            amount: order.amount,
            expires_at: new Date(order.payment_deadline_ms).toISOString(),
            ...(order.reason === null ? {} : { reason: order.reason }),
          },
        }
      : {}),
  };
}

/** `{"plate": "ABC 123"}` in a QR's dynamic data; anything else is no plate. */
function plateFrom(dynamic: string | null): string | null {
  if (dynamic === null) return null;
  try {
    const value = (JSON.parse(dynamic) as { plate?: unknown }).plate;
    return typeof value === 'string' && value.length > 0 && value.length <= 20 ? value : null;
  } catch {
    return null;
  }
}
