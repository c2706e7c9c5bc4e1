/**
 * Every payment the relay learns is paid (written with the order.paid event that tells the cab),
 * the audit of every refund.request, and which refunds and captures have been sent to the PSP
 * (an unknown outcome is looked up there, never sent blindly again). Existing paid payments are
 * taken from the stored order.paid events and the relay-made payments table.
 */
export const REFUND_LEDGER_MIGRATION = `
  CREATE TABLE paid_payments (
    psp                TEXT NOT NULL,
    psp_order_id       TEXT NOT NULL,
    cab_id             TEXT NOT NULL,
    ride_id            TEXT NOT NULL,
    merchant_order_id  TEXT NOT NULL,
    order_amount       INTEGER NOT NULL,
    tip_amount         INTEGER NOT NULL,
    total_amount       INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    paid_at            TEXT NOT NULL,
    PRIMARY KEY (psp, psp_order_id)
  );
  CREATE INDEX paid_payments_by_ride ON paid_payments(cab_id, ride_id);
  INSERT OR IGNORE INTO paid_payments (psp, psp_order_id, cab_id, ride_id, merchant_order_id, order_amount, tip_amount, total_amount, currency, paid_at)
    SELECT e.psp, json_extract(e.data, '$.pspOrderId'), e.cab_id,
           substr(json_extract(e.data, '$.merchantOrderId'), length(e.cab_id) + 2),
           json_extract(e.data, '$.merchantOrderId'), json_extract(e.data, '$.orderAmount'),
           json_extract(e.data, '$.tipAmount'), json_extract(e.data, '$.totalAmount'),
           json_extract(e.data, '$.currency'), e.occurred_at
    FROM events e
    WHERE e.type = 'order.paid' AND json_extract(e.data, '$.merchantOrderId') LIKE e.cab_id || '.%'
    ORDER BY e.cab_id, e.seq;
  INSERT OR IGNORE INTO paid_payments (psp, psp_order_id, cab_id, ride_id, merchant_order_id, order_amount, tip_amount, total_amount, currency, paid_at)
    SELECT p.psp, COALESCE(p.psp_reference, p.reference), p.cab_id, p.ride_id, p.cab_id || '.' || p.ride_id,
           p.order_amount, p.tip_amount, p.order_amount + p.tip_amount, p.currency, p.updated_at
    FROM payments p WHERE p.status IN ('paid', 'refunded') AND p.psp = 'vipps';
  ALTER TABLE refunds ADD COLUMN psp_called_at TEXT;
  CREATE INDEX refunds_by_payment ON refunds(psp, psp_order_id, status);
  CREATE TABLE refund_audit (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    refund_id          TEXT NOT NULL,
    cab_id             TEXT NOT NULL,
    ride_id            TEXT NOT NULL,
    psp                TEXT NOT NULL,
    psp_order_id       TEXT,
    amount             INTEGER NOT NULL,
    currency           TEXT,
    requested_by       TEXT NOT NULL,
    requested_at       TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    outcome            TEXT NOT NULL CHECK (outcome IN ('refunded','refused','rejected','unavailable')),
    code               TEXT,
    message            TEXT
  );
  CREATE INDEX refund_audit_by_cab ON refund_audit(cab_id, received_at);
  CREATE INDEX refund_audit_by_time ON refund_audit(received_at);
  ALTER TABLE payments ADD COLUMN capture_sent_at TEXT;
`;
