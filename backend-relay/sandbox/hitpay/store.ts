/**
 * HitPay's tables in the sandbox's SQLite file (all prefixed `hitpay_`). They live next to the
 * Hips tables but are created here, idempotently, so the two PSPs never share a migration list.
 * A state change and the webhooks it causes are written in one transaction (an outbox).
 */
import type { Db } from '../db.js';

const SCHEMA_VERSION = '1';

const schema = `
  CREATE TABLE IF NOT EXISTS hitpay_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE IF NOT EXISTS hitpay_payment_requests (
    id TEXT PRIMARY KEY,
    reference_number TEXT,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_methods TEXT NOT NULL,
    generate_qr INTEGER NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    purpose TEXT,
    redirect_url TEXT,
    webhook TEXT,
    send_sms INTEGER NOT NULL,
    send_email INTEGER NOT NULL,
    allow_repeated_payments INTEGER NOT NULL,
    expires_at_ms INTEGER,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS hitpay_payments (
    id TEXT PRIMARY KEY,
    payment_request_id TEXT NOT NULL REFERENCES hitpay_payment_requests(id),
    status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    payment_type TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS hitpay_payments_by_request ON hitpay_payments(payment_request_id);

  CREATE TABLE IF NOT EXISTS hitpay_refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES hitpay_payments(id),
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS hitpay_webhooks (
    id TEXT PRIMARY KEY,
    payment_request_id TEXT NOT NULL,
    payment_id TEXT,
    style TEXT NOT NULL,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    delivered_ms INTEGER
  );
`;

export type RequestStatus = 'pending' | 'completed' | 'failed' | 'expired' | 'canceled';
export interface RequestRow {
  id: string;
  reference_number: string | null;
  amount_minor: number;
  /** Lowercase, as HitPay echoes it ("sgd"). */
  currency: string;
  status: RequestStatus;
  /** JSON array of method names. */
  payment_methods: string;
  generate_qr: number;
  name: string | null;
  email: string | null;
  phone: string | null;
  purpose: string | null;
  redirect_url: string | null;
  webhook: string | null;
  send_sms: number;
  send_email: number;
  allow_repeated_payments: number;
  expires_at_ms: number | null;
  created_ms: number;
  updated_ms: number;
}

export type PaymentStatus = 'succeeded' | 'failed' | 'partially_refunded' | 'refunded';
export interface PaymentRow {
  id: string;
  payment_request_id: string;
  status: PaymentStatus;
  amount_minor: number;
  refunded_minor: number;
  currency: string;
  payment_type: string;
  created_ms: number;
  updated_ms: number;
}

export interface RefundRow {
  id: string;
  payment_id: string;
  amount_minor: number;
  currency: string;
  created_ms: number;
}

export type WebhookStyle = 'legacy' | 'json';
export type WebhookStatus = 'pending' | 'delivered' | 'failed' | 'dropped';
export interface WebhookRow {
  id: string;
  payment_request_id: string;
  payment_id: string | null;
  style: WebhookStyle;
  /** `payment_request.completed` or `payment_request.failed`. */
  event: string;
  url: string;
  /** JSON object of the request headers, signature included. */
  headers: string;
  /** Exactly the bytes sent, on every attempt and duplicate. */
  body: string;
  status: WebhookStatus;
  attempts: number;
  duplicates: number;
  last_status_code: number | null;
  last_error: string | null;
  created_ms: number;
  updated_ms: number;
  delivered_ms: number | null;
}

function insert(db: Db, table: string, row: object): void {
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run(row);
}

function update(db: Db, table: string, id: string, changes: object): void {
  const cols = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (cols.length === 0) return;
  db.prepare(`UPDATE ${table} SET ${cols.map(([c]) => `${c} = @${c}`).join(', ')} WHERE id = @__id`).run({
    ...Object.fromEntries(cols),
    __id: id,
  });
}

export class HitpayStore {
  constructor(readonly db: Db) {
    db.exec(schema);
    db.prepare('INSERT OR IGNORE INTO hitpay_meta (key, value) VALUES (?, ?)').run('schema_version', SCHEMA_VERSION);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  meta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM hitpay_meta WHERE key = ?').get(key)?.value;
  }
  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO hitpay_meta (key, value) VALUES (?, ?)').run(key, value);
  }

  insertRequest(row: RequestRow): void {
    insert(this.db, 'hitpay_payment_requests', row);
  }
  request(id: string): RequestRow | undefined {
    return this.db.prepare<[string], RequestRow>('SELECT * FROM hitpay_payment_requests WHERE id = ?').get(id);
  }
  updateRequest(id: string, changes: Partial<RequestRow>): void {
    update(this.db, 'hitpay_payment_requests', id, { ...changes, updated_ms: Date.now() });
  }
  /** Pending requests whose expiry has passed. */
  overdueRequests(nowMs: number): RequestRow[] {
    return this.db
      .prepare<[number], RequestRow>("SELECT * FROM hitpay_payment_requests WHERE status = 'pending' AND expires_at_ms IS NOT NULL AND expires_at_ms <= ?")
      .all(nowMs);
  }

  insertPayment(row: PaymentRow): void {
    insert(this.db, 'hitpay_payments', row);
  }
  payment(id: string): PaymentRow | undefined {
    return this.db.prepare<[string], PaymentRow>('SELECT * FROM hitpay_payments WHERE id = ?').get(id);
  }
  paymentsOf(requestId: string): PaymentRow[] {
    return this.db.prepare<[string], PaymentRow>('SELECT * FROM hitpay_payments WHERE payment_request_id = ? ORDER BY created_ms, id').all(requestId);
  }
  updatePayment(id: string, changes: Partial<PaymentRow>): void {
    update(this.db, 'hitpay_payments', id, { ...changes, updated_ms: Date.now() });
  }

  insertRefund(row: RefundRow): void {
    insert(this.db, 'hitpay_refunds', row);
  }
  refundsOf(paymentId: string): RefundRow[] {
    return this.db.prepare<[string], RefundRow>('SELECT * FROM hitpay_refunds WHERE payment_id = ? ORDER BY created_ms, id').all(paymentId);
  }

  insertWebhook(row: WebhookRow): void {
    insert(this.db, 'hitpay_webhooks', row);
  }
  webhook(id: string): WebhookRow | undefined {
    return this.db.prepare<[string], WebhookRow>('SELECT * FROM hitpay_webhooks WHERE id = ?').get(id);
  }
  undeliveredWebhooks(): WebhookRow[] {
    return this.db.prepare<[], WebhookRow>("SELECT * FROM hitpay_webhooks WHERE status = 'pending' ORDER BY created_ms, id").all();
  }
  updateWebhook(id: string, changes: Partial<WebhookRow>): void {
    update(this.db, 'hitpay_webhooks', id, { ...changes, updated_ms: Date.now() });
  }

  all() {
    return {
      requests: this.db.prepare<[], RequestRow>('SELECT * FROM hitpay_payment_requests ORDER BY created_ms, id').all(),
      payments: this.db.prepare<[], PaymentRow>('SELECT * FROM hitpay_payments ORDER BY created_ms, id').all(),
      refunds: this.db.prepare<[], RefundRow>('SELECT * FROM hitpay_refunds ORDER BY created_ms, id').all(),
      webhooks: this.db.prepare<[], WebhookRow>('SELECT * FROM hitpay_webhooks ORDER BY created_ms, id').all(),
    };
  }
}
