/**
 * Builds webhook rows for the outbox. Each is written in the same transaction as the state
 * change that causes it, and its data is checked against the shared protocol schema first,
 * so the sandbox can never emit what the relay's verifier would reject.
 */
import { v7 as uuidv7 } from 'uuid';
import { hipsOrderHookData, hipsQrHookData, type HipsOrderHookData, type HipsQrHookData } from '../../protocol/hips.js';
import type { SandboxConfig } from './sandbox-config.js';
import { nowIso, type OrderRow, type SessionRow, type WebhookRow } from './store.js';

type QrRequestType = HipsQrHookData['request_type'];
type OrderEvent = HipsOrderHookData['event'];

export function qrHook(config: SandboxConfig, url: string, session: SessionRow, type: QrRequestType): WebhookRow {
  const data = hipsQrHookData.parse({
    request_type: type,
    session_id: session.id,
    ...(type === 'start_qr_session' ? { one_time_order_api_key: session.one_time_key } : {}),
    idempotency_key: uuidv7(),
    qr_id: session.code_token,
    sales_channel_id: config.salesChannelId,
    qr_code: session.qr_code,
    allow_tip: session.allow_tip === 1,
    execute_at: nowIso(),
    order_timeout_seconds: session.order_timeout_seconds,
    payment_timeout_seconds: session.payment_timeout_seconds,
    ...(session.dynamic === null ? {} : { dynamic: JSON.parse(session.dynamic) as unknown }),
  });
  return row('qr', url, type, data, session.id, null);
}

/** `order` must already hold its new state (status, tip, amount, reason). */
export function orderHook(order: OrderRow, event: OrderEvent): WebhookRow {
  const paymentStatus = event === 'payment.successful' ? 'successful' : event === 'payment.failed' ? 'failed' : 'expired';
  const data = hipsOrderHookData.parse({
    event,
    idempotency_key: uuidv7(),
    resource: {
      id: order.id,
      type: 'order',
      order_id: order.id,
      merchant_order_id: order.merchant_order_id,
      status: paymentStatus,
      currency: order.currency,
      amount: order.amount,
      tip_amount: order.tip_amount,
      order_amount: order.order_amount,
      order_status: event === 'payment.successful' ? order.fulfillment_status : order.status,
      ...(order.reason === null ? {} : { reason: order.reason }),
    },
  });
  return row('order', order.webhook_url, event, data, order.session_id, order.id);
}

function row(
  kind: WebhookRow['kind'],
  url: string,
  event: string,
  data: { idempotency_key?: string },
  sessionId: string | null,
  orderId: string | null,
): WebhookRow {
  const now = nowIso();
  return {
    id: uuidv7(),
    kind,
    url,
    event,
    idempotency_key: data.idempotency_key ?? uuidv7(),
    data: JSON.stringify(data),
    status: 'pending',
    attempts: 0,
    duplicates: 0,
    last_status_code: null,
    last_error: null,
    session_id: sessionId,
    order_id: orderId,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}
