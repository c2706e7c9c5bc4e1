/**
 * Migration 4: relay-made payments (Vipps, HitPay), Vipps check-ins, refunds of any PSP, a small
 * durable key/value table for adapters (Vipps keeps its webhook secret there), and the QR
 * content a PSP gave a cab when it was provisioned.
 */
export const PAYMENTS_MIGRATION = `
  CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
  );
  ALTER TABLE cabs ADD COLUMN qr_content TEXT;
  CREATE TABLE payments (
    cab_id         TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE,
    ride_id        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    psp            TEXT NOT NULL,
    reference      TEXT NOT NULL UNIQUE,
    psp_reference  TEXT,
    session_id     TEXT,
    order_amount   INTEGER NOT NULL,
    tip_amount     INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    lines_json     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending','created','authorized','captured','paid','failed','canceled','expired','refunded')),
    ack_json       TEXT,
    qr_json        TEXT,
    expires_at     TEXT,
    capture_due    INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (cab_id, ride_id, attempt)
  );
  CREATE INDEX payments_by_psp_reference ON payments(psp, psp_reference);
  CREATE INDEX payments_live ON payments(expires_at) WHERE status = 'created';
  CREATE INDEX payments_capture_due ON payments(capture_due) WHERE capture_due = 1;
  CREATE TABLE checkins (
    session_id      TEXT PRIMARY KEY,
    cab_id          TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE,
    merchant_qr_id  TEXT NOT NULL,
    customer_token  TEXT NOT NULL,
    expires_at      TEXT NOT NULL
  );
  CREATE TABLE refunds (
    refund_id          TEXT PRIMARY KEY,
    cab_id             TEXT NOT NULL,
    ride_id            TEXT NOT NULL,
    merchant_order_id  TEXT NOT NULL,
    psp                TEXT NOT NULL,
    psp_order_id       TEXT NOT NULL,
    amount             INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    reason             TEXT NOT NULL,
    requested_by       TEXT NOT NULL,
    requested_at       TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending','refunded','refused')),
    psp_refund_id      TEXT,
    ack_json           TEXT,
    updated_at         TEXT NOT NULL
  );
  CREATE INDEX refunds_by_order ON refunds(merchant_order_id);
`;
