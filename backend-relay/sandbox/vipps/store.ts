/**
 * The Vipps tables (prefix `vipps_`) in the sandbox's SQLite file. Versioned by their own meta
 * key so they migrate independently of the Hips schema. Rows keep SQLite's shapes.
 */
import type { Db } from '../db.js';

const SCHEMA_KEY = 'vipps_schema_version';

const migrations: string[] = [
  `CREATE TABLE vipps_access_tokens (
     token TEXT PRIMARY KEY,
     msn TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );

   CREATE TABLE vipps_qrs (
     msn TEXT NOT NULL,
     merchant_qr_id TEXT NOT NULL,
     location_description TEXT NOT NULL,
     category TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (msn, merchant_qr_id)
   );

   CREATE TABLE vipps_webhooks (
     id TEXT PRIMARY KEY,
     msn TEXT NOT NULL,
     url TEXT NOT NULL,
     events TEXT NOT NULL,
     secret TEXT NOT NULL,
     created_at TEXT NOT NULL
   );

   CREATE TABLE vipps_checkins (
     customer_token TEXT PRIMARY KEY,
     msn TEXT NOT NULL,
     merchant_qr_id TEXT NOT NULL,
     initiated_at TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL
   );

   CREATE TABLE vipps_payments (
     msn TEXT NOT NULL,
     reference TEXT NOT NULL,
     psp_reference TEXT NOT NULL UNIQUE,
     state TEXT NOT NULL,
     currency TEXT NOT NULL,
     amount INTEGER NOT NULL,
     authorized INTEGER NOT NULL DEFAULT 0,
     captured INTEGER NOT NULL DEFAULT 0,
     cancelled INTEGER NOT NULL DEFAULT 0,
     refunded INTEGER NOT NULL DEFAULT 0,
     customer_token TEXT NOT NULL,
     payment_description TEXT,
     receipt TEXT,
     idempotency_key TEXT NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (msn, reference)
   );
   CREATE INDEX vipps_payments_by_token ON vipps_payments(customer_token);

   CREATE TABLE vipps_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     msn TEXT NOT NULL,
     reference TEXT NOT NULL,
     psp_reference TEXT NOT NULL,
     name TEXT NOT NULL,
     currency TEXT NOT NULL,
     value INTEGER NOT NULL,
     timestamp TEXT NOT NULL,
     idempotency_key TEXT,
     success INTEGER NOT NULL
   );
   CREATE INDEX vipps_events_by_payment ON vipps_events(msn, reference);

   CREATE TABLE vipps_deliveries (
     id TEXT PRIMARY KEY,
     webhook_id TEXT NOT NULL,
     url TEXT NOT NULL,
     event TEXT NOT NULL,
     msn TEXT NOT NULL,
     reference TEXT,
     body TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     duplicates INTEGER NOT NULL DEFAULT 0,
     last_status_code INTEGER,
     last_error TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     delivered_at TEXT
   );`,
];

export function migrateVipps(db: Db): void {
  const read = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const current = Number(read.get(SCHEMA_KEY)?.value ?? '0');
  if (current > migrations.length) {
    throw new Error(
      `The sandbox database's Vipps tables are at version ${current}, newer than this sandbox (${migrations.length}). ` +
        'Use a newer sandbox or point SANDBOX_DB at another file.',
    );
  }
  db.transaction(() => {
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!);
    db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(SCHEMA_KEY, String(migrations.length));
  })();
}

export const paymentStates = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'] as const;
export type PaymentState = (typeof paymentStates)[number];
export type EventName = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED' | 'CAPTURED' | 'CANCELLED' | 'REFUNDED';

export interface QrRow {
  msn: string;
  merchant_qr_id: string;
  location_description: string;
  category: string | null;
  created_at: string;
  updated_at: string;
}
export interface WebhookRow {
  id: string;
  msn: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
}
export interface CheckInRow {
  customer_token: string;
  msn: string;
  merchant_qr_id: string;
  initiated_at: string;
  expires_at_ms: number;
}
export interface PaymentRow {
  msn: string;
  reference: string;
  psp_reference: string;
  state: PaymentState;
  currency: string;
  amount: number;
  authorized: number;
  captured: number;
  cancelled: number;
  refunded: number;
  customer_token: string;
  payment_description: string | null;
  receipt: string | null;
  idempotency_key: string;
  expires_at_ms: number;
  created_at: string;
  updated_at: string;
}
export interface EventRow {
  seq: number;
  msn: string;
  reference: string;
  psp_reference: string;
  name: EventName;
  currency: string;
  value: number;
  timestamp: string;
  idempotency_key: string | null;
  success: number;
}
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dropped';
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  url: string;
  event: string;
  msn: string;
  reference: string | null;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  duplicates: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export const nowIso = (): string => new Date().toISOString();

export class VippsStore {
  constructor(readonly db: Db) {
    migrateVipps(db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insertToken(token: string, msn: string, expiresAtMs: number): void {
    this.db.prepare('INSERT INTO vipps_access_tokens VALUES (?, ?, ?, ?)').run(token, msn, expiresAtMs, nowIso());
    this.db.prepare('DELETE FROM vipps_access_tokens WHERE expires_at_ms < ?').run(Date.now() - 86_400_000);
  }
  token(token: string): { msn: string; expires_at_ms: number } | undefined {
    return this.db.prepare<[string], { msn: string; expires_at_ms: number }>('SELECT msn, expires_at_ms FROM vipps_access_tokens WHERE token = ?').get(token);
  }

  upsertQr(row: QrRow): void {
    this.db
      .prepare(
        `INSERT INTO vipps_qrs VALUES (@msn, @merchant_qr_id, @location_description, @category, @created_at, @updated_at)
         ON CONFLICT (msn, merchant_qr_id) DO UPDATE SET location_description = excluded.location_description,
         category = excluded.category, updated_at = excluded.updated_at`,
      )
      .run(row);
  }
  qr(msn: string, id: string): QrRow | undefined {
    return this.db.prepare<[string, string], QrRow>('SELECT * FROM vipps_qrs WHERE msn = ? AND merchant_qr_id = ?').get(msn, id);
  }
  qrs(msn: string): QrRow[] {
    return this.db.prepare<[string], QrRow>('SELECT * FROM vipps_qrs WHERE msn = ? ORDER BY created_at, merchant_qr_id').all(msn);
  }
  deleteQr(msn: string, id: string): boolean {
    return this.db.prepare('DELETE FROM vipps_qrs WHERE msn = ? AND merchant_qr_id = ?').run(msn, id).changes > 0;
  }

  insertWebhook(row: WebhookRow): void {
    this.db.prepare('INSERT INTO vipps_webhooks VALUES (@id, @msn, @url, @events, @secret, @created_at)').run(row);
  }
  webhooks(msn: string): WebhookRow[] {
    return this.db.prepare<[string], WebhookRow>('SELECT * FROM vipps_webhooks WHERE msn = ? ORDER BY created_at, id').all(msn);
  }
  webhook(id: string): WebhookRow | undefined {
    return this.db.prepare<[string], WebhookRow>('SELECT * FROM vipps_webhooks WHERE id = ?').get(id);
  }
  deleteWebhook(msn: string, id: string): boolean {
    return this.db.prepare('DELETE FROM vipps_webhooks WHERE msn = ? AND id = ?').run(msn, id).changes > 0;
  }

  insertCheckIn(row: CheckInRow): void {
    this.db.prepare('INSERT INTO vipps_checkins VALUES (@customer_token, @msn, @merchant_qr_id, @initiated_at, @expires_at_ms)').run(row);
  }
  checkIn(token: string): CheckInRow | undefined {
    return this.db.prepare<[string], CheckInRow>('SELECT * FROM vipps_checkins WHERE customer_token = ?').get(token);
  }
  expireCheckIn(token: string): boolean {
    return this.db.prepare('UPDATE vipps_checkins SET expires_at_ms = ? WHERE customer_token = ?').run(Date.now() - 1, token).changes > 0;
  }

  insertPayment(row: PaymentRow): void {
    this.db
      .prepare(
        `INSERT INTO vipps_payments VALUES (@msn, @reference, @psp_reference, @state, @currency, @amount, @authorized,
         @captured, @cancelled, @refunded, @customer_token, @payment_description, @receipt, @idempotency_key,
         @expires_at_ms, @created_at, @updated_at)`,
      )
      .run(row);
  }
  payment(msn: string, reference: string): PaymentRow | undefined {
    return this.db.prepare<[string, string], PaymentRow>('SELECT * FROM vipps_payments WHERE msn = ? AND reference = ?').get(msn, reference);
  }
  paymentsByToken(token: string): PaymentRow[] {
    return this.db.prepare<[string], PaymentRow>('SELECT * FROM vipps_payments WHERE customer_token = ? ORDER BY created_at').all(token);
  }
  paymentsIn(state: PaymentState): PaymentRow[] {
    return this.db.prepare<[string], PaymentRow>('SELECT * FROM vipps_payments WHERE state = ?').all(state);
  }
  allPayments(): PaymentRow[] {
    return this.db.prepare<[], PaymentRow>('SELECT * FROM vipps_payments ORDER BY created_at, reference').all();
  }
  updatePayment(msn: string, reference: string, changes: Partial<Pick<PaymentRow, 'state' | 'authorized' | 'captured' | 'cancelled' | 'refunded'>>): void {
    const defined = Object.entries(changes).filter(([, v]) => v !== undefined);
    const set = [...defined.map(([c]) => `${c} = @${c}`), 'updated_at = @updated_at'].join(', ');
    this.db
      .prepare(`UPDATE vipps_payments SET ${set} WHERE msn = @__msn AND reference = @__ref`)
      .run({ ...Object.fromEntries(defined), updated_at: nowIso(), __msn: msn, __ref: reference });
  }

  insertEvent(row: Omit<EventRow, 'seq'>): void {
    this.db
      .prepare(
        `INSERT INTO vipps_events (msn, reference, psp_reference, name, currency, value, timestamp, idempotency_key, success)
         VALUES (@msn, @reference, @psp_reference, @name, @currency, @value, @timestamp, @idempotency_key, @success)`,
      )
      .run(row);
  }
  events(msn: string, reference: string): EventRow[] {
    return this.db.prepare<[string, string], EventRow>('SELECT * FROM vipps_events WHERE msn = ? AND reference = ? ORDER BY seq').all(msn, reference);
  }
  allEvents(): EventRow[] {
    return this.db.prepare<[], EventRow>('SELECT * FROM vipps_events ORDER BY seq').all();
  }

  insertDelivery(row: DeliveryRow): void {
    this.db
      .prepare(
        `INSERT INTO vipps_deliveries VALUES (@id, @webhook_id, @url, @event, @msn, @reference, @body, @status, @attempts,
         @duplicates, @last_status_code, @last_error, @created_at, @updated_at, @delivered_at)`,
      )
      .run(row);
  }
  delivery(id: string): DeliveryRow | undefined {
    return this.db.prepare<[string], DeliveryRow>('SELECT * FROM vipps_deliveries WHERE id = ?').get(id);
  }
  pendingDeliveries(): DeliveryRow[] {
    return this.db.prepare<[], DeliveryRow>("SELECT * FROM vipps_deliveries WHERE status = 'pending' ORDER BY id").all();
  }
  allDeliveries(): DeliveryRow[] {
    return this.db.prepare<[], DeliveryRow>('SELECT * FROM vipps_deliveries ORDER BY id').all();
  }
  updateDelivery(
    id: string,
    changes: Partial<Pick<DeliveryRow, 'status' | 'attempts' | 'duplicates' | 'last_status_code' | 'last_error' | 'delivered_at'>>,
  ): void {
    const defined = Object.entries(changes).filter(([, v]) => v !== undefined);
    const set = [...defined.map(([c]) => `${c} = @${c}`), 'updated_at = @updated_at'].join(', ');
    this.db.prepare(`UPDATE vipps_deliveries SET ${set} WHERE id = @__id`).run({ ...Object.fromEntries(defined), updated_at: nowIso(), __id: id });
  }

  /** Idempotent answers live in the shared `idempotency` table under a `vipps:` scope. */
  idempotent(scope: string, key: string): { request_hash: string; status_code: number; body: string } | undefined {
    return this.db
      .prepare<[string, string], { request_hash: string; status_code: number; body: string }>(
        'SELECT request_hash, status_code, body FROM idempotency WHERE scope = ? AND key = ?',
      )
      .get(scope, key);
  }
  saveIdempotent(scope: string, key: string, requestHash: string, statusCode: number, body: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)').run(scope, key, requestHash, statusCode, JSON.stringify(body), Date.now());
  }
}
