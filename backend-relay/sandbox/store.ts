/**
 * Typed access to the sandbox tables. Rows keep SQLite's shapes (0/1 booleans, JSON text);
 * the views in views.ts turn them into Hips wire objects.
 */
import type { Db } from './db.js';

export type QrStatus = 'online' | 'offline';
export interface QrRow {
  code_token: string;
  qr_code: string;
  status: QrStatus;
  allow_tip: number;
  qr_start_webhook_url: string | null;
  order_timeout_seconds: number;
  payment_timeout_seconds: number;
  asynchronous: number;
  dynamic: string | null;
  created_at: string;
  updated_at: string;
}

export const sessionStates = ['waiting_for_order', 'awaiting_payment', 'paid', 'failed', 'canceled', 'timed_out', 'down'] as const;
export type SessionState = (typeof sessionStates)[number];
export interface SessionRow {
  id: string;
  code_token: string;
  qr_code: string;
  state: SessionState;
  allow_tip: number;
  one_time_key: string;
  order_timeout_seconds: number;
  payment_timeout_seconds: number;
  order_deadline_ms: number;
  dynamic: string | null;
  down_response_text: string | null;
  created_at: string;
  updated_at: string;
}

export type OrderStatus = 'pending' | 'successful' | 'failed' | 'expired' | 'revoked' | 'partially_refunded' | 'refunded';
export interface OrderRow {
  id: string;
  merchant_order_id: string;
  session_id: string | null;
  currency: string;
  order_amount: number;
  items: string;
  fulfill: number;
  webhook_url: string;
  status: OrderStatus;
  fulfillment_status: 'unfulfilled' | 'fulfilled';
  tip_amount: number;
  amount: number;
  refunded_amount: number;
  reason: string | null;
  payment_deadline_ms: number;
  created_at: string;
  updated_at: string;
  paid_at: string | null;
}

export interface PaymentRow {
  id: string;
  order_id: string;
  status: 'successful' | 'failed';
  currency: string;
  order_amount: number;
  tip_amount: number;
  amount: number;
  reason: string | null;
  created_at: string;
}

export interface RefundRow {
  id: string;
  order_id: string;
  currency: string;
  amount: number;
  created_at: string;
}

export type WebhookStatus = 'pending' | 'held' | 'delivered' | 'failed' | 'down' | 'dropped';
export interface WebhookRow {
  id: string;
  kind: 'qr' | 'order';
  url: string;
  event: string;
  idempotency_key: string;
  data: string;
  status: WebhookStatus;
  attempts: number;
  duplicates: number;
  last_status_code: number | null;
  last_error: string | null;
  session_id: string | null;
  order_id: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number;
  body: string;
  created_at_ms: number;
}

export const nowIso = (): string => new Date().toISOString();

/** Builds `UPDATE table SET a = @a, … WHERE id = @id` for the given columns. */
function updater<T extends object>(db: Db, table: string, key: string) {
  return (id: string, changes: Partial<T>) => {
    const defined = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (defined.length === 0) return;
    const set = defined.map(([column]) => `${column} = @${column}`).join(', ');
    db.prepare(`UPDATE ${table} SET ${set} WHERE ${key} = @__id`).run({ ...Object.fromEntries(defined), __id: id });
  };
}

export class SandboxStore {
  constructor(readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }
  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  insertQr(row: QrRow): void {
    this.db
      .prepare(
        `INSERT INTO qrs VALUES (@code_token, @qr_code, @status, @allow_tip, @qr_start_webhook_url,
         @order_timeout_seconds, @payment_timeout_seconds, @asynchronous, @dynamic, @created_at, @updated_at)`,
      )
      .run(row);
  }
  qrByToken(codeToken: string): QrRow | undefined {
    return this.db.prepare<[string], QrRow>('SELECT * FROM qrs WHERE code_token = ?').get(codeToken);
  }
  qrByCode(qrCode: string): QrRow | undefined {
    return this.db.prepare<[string], QrRow>('SELECT * FROM qrs WHERE qr_code = ?').get(qrCode);
  }
  updateQr(codeToken: string, changes: Partial<QrRow>): void {
    updater<QrRow>(this.db, 'qrs', 'code_token')(codeToken, { ...changes, updated_at: nowIso() });
  }

  insertSession(row: SessionRow): void {
    this.db
      .prepare(
        `INSERT INTO sessions VALUES (@id, @code_token, @qr_code, @state, @allow_tip, @one_time_key,
         @order_timeout_seconds, @payment_timeout_seconds, @order_deadline_ms, @dynamic,
         @down_response_text, @created_at, @updated_at)`,
      )
      .run(row);
  }
  session(id: string): SessionRow | undefined {
    return this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?').get(id);
  }
  sessionByOneTimeKey(key: string): SessionRow | undefined {
    return this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE one_time_key = ?').get(key);
  }
  sessionsInState(state: SessionState): SessionRow[] {
    return this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE state = ?').all(state);
  }
  updateSession(id: string, changes: Partial<SessionRow>): void {
    updater<SessionRow>(this.db, 'sessions', 'id')(id, { ...changes, updated_at: nowIso() });
  }

  insertOrder(row: OrderRow): void {
    this.db
      .prepare(
        `INSERT INTO orders VALUES (@id, @merchant_order_id, @session_id, @currency, @order_amount, @items,
         @fulfill, @webhook_url, @status, @fulfillment_status, @tip_amount, @amount, @refunded_amount,
         @reason, @payment_deadline_ms, @created_at, @updated_at, @paid_at)`,
      )
      .run(row);
  }
  order(id: string): OrderRow | undefined {
    return this.db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE id = ?').get(id);
  }
  orderBySession(sessionId: string): OrderRow | undefined {
    return this.db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE session_id = ?').get(sessionId);
  }
  pendingOrders(): OrderRow[] {
    return this.db.prepare<[], OrderRow>("SELECT * FROM orders WHERE status = 'pending'").all();
  }
  updateOrder(id: string, changes: Partial<OrderRow>): void {
    updater<OrderRow>(this.db, 'orders', 'id')(id, { ...changes, updated_at: nowIso() });
  }

  insertPayment(row: PaymentRow): void {
    this.db
      .prepare(
        `INSERT INTO payments VALUES (@id, @order_id, @status, @currency, @order_amount, @tip_amount,
         @amount, @reason, @created_at)`,
      )
      .run(row);
  }
  insertRefund(row: RefundRow): void {
    this.db.prepare('INSERT INTO refunds VALUES (@id, @order_id, @currency, @amount, @created_at)').run(row);
  }

  insertWebhook(row: WebhookRow): void {
    this.db
      .prepare(
        `INSERT INTO webhooks VALUES (@id, @kind, @url, @event, @idempotency_key, @data, @status, @attempts,
         @duplicates, @last_status_code, @last_error, @session_id, @order_id, @created_at, @updated_at,
         @delivered_at)`,
      )
      .run(row);
  }
  webhook(id: string): WebhookRow | undefined {
    return this.db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?').get(id);
  }
  undeliveredWebhooks(): WebhookRow[] {
    return this.db.prepare<[], WebhookRow>("SELECT * FROM webhooks WHERE status IN ('pending', 'held') ORDER BY id").all();
  }
  updateWebhook(id: string, changes: Partial<WebhookRow>): void {
    updater<WebhookRow>(this.db, 'webhooks', 'id')(id, { ...changes, updated_at: nowIso() });
  }

  idempotent(scope: string, key: string): IdempotencyRow | undefined {
    return this.db.prepare<[string, string], IdempotencyRow>('SELECT * FROM idempotency WHERE scope = ? AND key = ?').get(scope, key);
  }
  saveIdempotent(row: IdempotencyRow): void {
    this.db.prepare(`INSERT OR REPLACE INTO idempotency VALUES (@scope, @key, @request_hash, @status_code, @body, @created_at_ms)`).run(row);
  }
  forgetIdempotentBefore(ms: number): void {
    this.db.prepare('DELETE FROM idempotency WHERE created_at_ms < ?').run(ms);
  }

  ledger() {
    return {
      sessions: this.db.prepare<[], SessionRow>('SELECT * FROM sessions ORDER BY id').all(),
      orders: this.db.prepare<[], OrderRow>('SELECT * FROM orders ORDER BY id').all(),
      payments: this.db.prepare<[], PaymentRow>('SELECT * FROM payments ORDER BY id').all(),
      refunds: this.db.prepare<[], RefundRow>('SELECT * FROM refunds ORDER BY id').all(),
      webhooks: this.db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY id').all(),
    };
  }
}
