/**
 * Migration 5: Vipps pre-authorization. One reservation per check-in (session): pushed to the
 * passenger at check-in, used for the fare at ride end, then released. The `*_due` statuses are
 * work a restart must finish (payments/preauth-service.ts sweeps them).
 */
export const PREAUTH_MIGRATION = `
  CREATE TABLE reservations (
    reference       TEXT PRIMARY KEY,
    cab_id          TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE,
    session_id      TEXT NOT NULL,
    psp             TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending','created','authorized','rejected','expired','failed','cancel_due','canceled','capture_due','release_due','settled','release_failed')),
    ride_id         TEXT,
    attempt         INTEGER,
    capture_amount  INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (cab_id, session_id)
  );
  CREATE INDEX reservations_due ON reservations(status) WHERE status IN ('pending','cancel_due','capture_due','release_due');
`;
