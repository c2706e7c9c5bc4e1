/**
 * The kiosk database schema, as a numbered list. Migration i (0-based) brings the database from
 * `user_version` i to i + 1. Append only: never edit a migration that has shipped.
 */
const PAYMENT_DEADLINE_MIGRATION = `
  ALTER TABLE rides ADD COLUMN payment_expires_at TEXT;
`;

export const MIGRATIONS: readonly string[] = [
  // 1: rides, sessions, outbox, applied events, settings, payments
  `
  CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    psp TEXT NOT NULL,
    qr_code TEXT NOT NULL,
    allow_tip INTEGER NOT NULL,
    one_time_order_api_key TEXT,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ready','in_use','canceled','timed_out','expired')),
    ride_id TEXT
  );
  CREATE TABLE rides (
    ride_id TEXT PRIMARY KEY,
    merchant_order_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('on_ride','ended','awaiting_payment','paid','failed','canceled')),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    currency TEXT NOT NULL,
    lines_json TEXT NOT NULL,
    order_status TEXT NOT NULL CHECK (order_status IN ('none','queued','created')),
    attempt INTEGER NOT NULL DEFAULT 0,
    session_id TEXT REFERENCES sessions(session_id),
    psp_order_id TEXT,
    failure_code TEXT,
    failure_message TEXT
  );
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ride_id TEXT NOT NULL REFERENCES rides(ride_id),
    kind TEXT NOT NULL,
    job_json TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    tries INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL
  );
  CREATE TABLE applied_events (
    event_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    applied_at TEXT NOT NULL
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE payments (
    ride_id TEXT PRIMARY KEY REFERENCES rides(ride_id),
    method TEXT NOT NULL CHECK (method IN ('psp','other')),
    psp_order_id TEXT,
    order_amount INTEGER NOT NULL,
    tip_amount INTEGER NOT NULL,
    total_amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    paid_at TEXT NOT NULL
  );
  `,
  // 2: refunds on payments, and indexes for the lookups the core does on every event
  `
  ALTER TABLE payments ADD COLUMN refunded_amount INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX rides_by_state ON rides(state);
  CREATE INDEX sessions_by_ride ON sessions(ride_id);
  `,
  // 3: digital receipts, written with the paid state and published to the relay when online
  `
  CREATE TABLE receipts (
    ride_id TEXT PRIMARY KEY REFERENCES rides(ride_id),
    token TEXT NOT NULL UNIQUE,
    payload_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- null until the relay acked this version of the payload
    published_at TEXT,
    -- set when the relay refused it for good (logged; not retried)
    refused_reason TEXT
  );
  CREATE INDEX receipts_unpublished ON receipts(created_at) WHERE published_at IS NULL AND refused_reason IS NULL;
  `,
  // 4: the tip picked on the tablet, the relay's dynamic QR, and refunds asked for by the driver
  `
  ALTER TABLE rides ADD COLUMN tip_amount INTEGER CHECK (tip_amount IS NULL OR tip_amount >= 0);
  ALTER TABLE rides ADD COLUMN payment_qr_json TEXT;
  CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY,
    ride_id TEXT NOT NULL REFERENCES rides(ride_id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','refunded','failed')),
    failure_code TEXT,
    failure_message TEXT,
    settled_at TEXT
  );
  CREATE INDEX refunds_by_ride ON refunds(ride_id, requested_at);
  CREATE INDEX payments_by_paid_at ON payments(paid_at);
  `,
  // 5: why the tablet refused a relay event (null: applied or stale), so a resend gets the same answer
  `
  ALTER TABLE applied_events ADD COLUMN rejection TEXT;
  `,
  // 6: orders this tablet made at its PSP (Hips), reported to the relay so that it can ask the
  // PSP how each ended if every webhook of it is lost
  `
  CREATE TABLE order_reports (
    psp_order_id TEXT PRIMARY KEY,
    ride_id TEXT NOT NULL REFERENCES rides(ride_id),
    attempt INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    -- null until the relay acked it
    reported_at TEXT,
    -- set when the relay refused it for good (logged; not retried)
    refused_reason TEXT
  );
  CREATE INDEX order_reports_unsent ON order_reports(created_at) WHERE reported_at IS NULL AND refused_reason IS NULL;
  `,
  // 7: rides the driver left unfinished for the next fare, and what happened to them since
  // (attention.ts); rides already waiting for their payment off screen are carried over
  `
  CREATE TABLE parked_rides (
    ride_id TEXT PRIMARY KEY REFERENCES rides(ride_id),
    parked_at TEXT NOT NULL,
    -- paid or failed after the driver moved on, and when
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('paid','failed')),
    outcome_at TEXT,
    -- the driver took it off the list
    seen_at TEXT
  );
  CREATE INDEX parked_rides_unseen ON parked_rides(parked_at) WHERE seen_at IS NULL;
  INSERT INTO parked_rides (ride_id, parked_at)
    SELECT ride_id, COALESCE(ended_at, started_at) FROM rides
    WHERE state = 'awaiting_payment' AND ride_id IS NOT (SELECT value FROM settings WHERE key = 'screenRideId');
  `,
  // 8: the deadline of a relay-made payment attempt (the relay's ack), so a restart still times it out
  PAYMENT_DEADLINE_MIGRATION,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
