/**
 * The sandbox's SQLite file: WAL, synchronous=FULL, numbered migrations under user_version.
 * Every state change and the webhook it causes are written in one transaction (an outbox),
 * so a crash never leaves a paid order without its pending `payment.successful` hook.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

const migrations: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

   CREATE TABLE qrs (
     code_token TEXT PRIMARY KEY,
     qr_code TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL,
     allow_tip INTEGER NOT NULL,
     qr_start_webhook_url TEXT,
     order_timeout_seconds INTEGER NOT NULL,
     payment_timeout_seconds INTEGER NOT NULL,
     asynchronous INTEGER NOT NULL,
     dynamic TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );

   CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     code_token TEXT NOT NULL REFERENCES qrs(code_token),
     qr_code TEXT NOT NULL,
     state TEXT NOT NULL,
     allow_tip INTEGER NOT NULL,
     one_time_key TEXT NOT NULL UNIQUE,
     order_timeout_seconds INTEGER NOT NULL,
     payment_timeout_seconds INTEGER NOT NULL,
     order_deadline_ms INTEGER NOT NULL,
     dynamic TEXT,
     down_response_text TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );

   CREATE TABLE orders (
     id TEXT PRIMARY KEY,
     merchant_order_id TEXT NOT NULL,
     session_id TEXT REFERENCES sessions(id),
     currency TEXT NOT NULL,
     order_amount INTEGER NOT NULL,
     items TEXT NOT NULL,
     fulfill INTEGER NOT NULL,
     webhook_url TEXT NOT NULL,
     status TEXT NOT NULL,
     fulfillment_status TEXT NOT NULL,
     tip_amount INTEGER NOT NULL DEFAULT 0,
     amount INTEGER NOT NULL DEFAULT 0,
     refunded_amount INTEGER NOT NULL DEFAULT 0,
     reason TEXT,
     payment_deadline_ms INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     paid_at TEXT
   );
   CREATE UNIQUE INDEX orders_one_per_session ON orders(session_id);

   CREATE TABLE payments (
     id TEXT PRIMARY KEY,
     order_id TEXT NOT NULL REFERENCES orders(id),
     status TEXT NOT NULL,
     currency TEXT NOT NULL,
     order_amount INTEGER NOT NULL,
     tip_amount INTEGER NOT NULL,
     amount INTEGER NOT NULL,
     reason TEXT,
     created_at TEXT NOT NULL
   );

   CREATE TABLE refunds (
     id TEXT PRIMARY KEY,
     order_id TEXT NOT NULL REFERENCES orders(id),
     currency TEXT NOT NULL,
     amount INTEGER NOT NULL,
     created_at TEXT NOT NULL
   );

   CREATE TABLE idempotency (
     scope TEXT NOT NULL,
     key TEXT NOT NULL,
     request_hash TEXT NOT NULL,
     status_code INTEGER NOT NULL,
     body TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     PRIMARY KEY (scope, key)
   );

   CREATE TABLE webhooks (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     url TEXT NOT NULL,
     event TEXT NOT NULL,
     idempotency_key TEXT NOT NULL,
     data TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     duplicates INTEGER NOT NULL DEFAULT 0,
     last_status_code INTEGER,
     last_error TEXT,
     session_id TEXT,
     order_id TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     delivered_at TEXT
   );`,
];

export function openSandboxDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    db.close();
    throw new Error(
      `The sandbox database is at schema version ${current}, newer than this sandbox (${migrations.length}). ` +
        'Use a newer sandbox or point SANDBOX_DB at another file.',
    );
  }
  db.transaction(() => {
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
}
