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
