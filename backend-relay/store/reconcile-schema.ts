/**
 * Reconciliation with the PSPs: every payment or order whose outcome has not arrived in time is
 * asked about at the PSP (`reconcile/reconciler.ts`), and leases let one relay node of a cluster
 * do fleet-wide jobs (`reconcile/lease.ts`).
 */
export const RECONCILE_MIGRATION = `
  CREATE TABLE reconciliations (
    psp            TEXT NOT NULL,
    -- Hips: the PSP's order id the tablet reported; Vipps, HitPay: payments.reference
    psp_id         TEXT NOT NULL,
    cab_id         TEXT NOT NULL REFERENCES cabs(cab_id) ON DELETE CASCADE,
    ride_id        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    opened_at      TEXT NOT NULL,
    next_check_at  TEXT NOT NULL,
    checks         INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL CHECK (status IN ('open','settled','rejected','abandoned')),
    -- the last check's outcome (pending, paid, failed, authorized, already_settled, unknown, error, …)
    outcome        TEXT,
    settled_by     TEXT CHECK (settled_by IS NULL OR settled_by IN ('webhook','reconciliation')),
    detail         TEXT,
    updated_at     TEXT NOT NULL,
    -- per cab: a tablet's claim never stands in for another cab's (each is checked at the PSP)
    PRIMARY KEY (psp, psp_id, cab_id)
  );
  CREATE INDEX reconciliations_due ON reconciliations(next_check_at) WHERE status = 'open';
  CREATE INDEX reconciliations_by_cab ON reconciliations(cab_id, status);
  CREATE TABLE leases (
    name           TEXT PRIMARY KEY,
    holder         TEXT NOT NULL,
    expires_at_ms  INTEGER NOT NULL
  );
`;
