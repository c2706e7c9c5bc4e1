/**
 * Relay schema migration 3: digital receipts, one per ride of a cab, found by their token.
 * Applied by the store's numbered migrations (user_version).
 */
export const RECEIPTS_MIGRATION = `
  CREATE TABLE receipts (
    token        TEXT PRIMARY KEY,
    cab_id       TEXT NOT NULL,
    ride_id      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (cab_id, ride_id)
  );
`;

/**
 * Relay schema migration 7: receipts are pruned by when they were first received (the
 * retention, RELAY_RECEIPT_RETENTION_DAYS); the index keeps the hourly prune from scanning them all.
 */
export const RECEIPTS_RETENTION_MIGRATION = `
  CREATE INDEX receipts_received_at ON receipts(received_at);
`;
