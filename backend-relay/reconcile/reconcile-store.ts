/**
 * The reconciliation table (migration `RECONCILE_MIGRATION`): which payments and orders the
 * relay asks their PSP about, when next, and how the last answer went. Plain transactions on the
 * relay's main connection, like the payments table.
 */
import type Database from 'better-sqlite3';
import type { PspName } from '../../protocol/relay-protocol.js';

/** Payments the relay expired this recently are still asked about once. */
const EXPIRED_LOOKBACK_MS = 24 * 3600_000;

export type ReconcileStatus = 'open' | 'settled' | 'rejected' | 'abandoned';
export type SettledBy = 'webhook' | 'reconciliation';

export interface ReconcileRecord {
  psp: PspName;
  /** Hips: the PSP's order id (as a cab reported it); Vipps, HitPay: the payment's reference in the payments table. */
  pspId: string;
  cabId: string;
  rideId: string;
  attempt: number;
  openedAt: string;
  nextCheckAt: string;
  checks: number;
  status: ReconcileStatus;
  outcome: string | null;
  settledBy: SettledBy | null;
  detail: string | null;
  updatedAt: string;
}

interface Row {
  psp: string;
  psp_id: string;
  cab_id: string;
  ride_id: string;
  attempt: number;
  opened_at: string;
  next_check_at: string;
  checks: number;
  status: string;
  outcome: string | null;
  settled_by: string | null;
  detail: string | null;
  updated_at: string;
}

function toRecord(r: Row): ReconcileRecord {
  return {
    psp: r.psp as PspName,
    pspId: r.psp_id,
    cabId: r.cab_id,
    rideId: r.ride_id,
    attempt: r.attempt,
    openedAt: r.opened_at,
    nextCheckAt: r.next_check_at,
    checks: r.checks,
    status: r.status as ReconcileStatus,
    outcome: r.outcome,
    settledBy: r.settled_by as SettledBy | null,
    detail: r.detail,
    updatedAt: r.updated_at,
  };
}

export type NewReconciliation = Pick<ReconcileRecord, 'psp' | 'pspId' | 'cabId' | 'rideId' | 'attempt' | 'openedAt' | 'nextCheckAt'>;

export class ReconcileStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      get: db.prepare<[string, string, string], Row>(`SELECT * FROM reconciliations WHERE psp = ? AND psp_id = ? AND cab_id = ?`),
      insert: db.prepare(
        `INSERT INTO reconciliations (psp, psp_id, cab_id, ride_id, attempt, opened_at, next_check_at, status, updated_at)
         VALUES (@psp, @pspId, @cabId, @rideId, @attempt, @openedAt, @nextCheckAt, 'open', @now)
         ON CONFLICT DO NOTHING`,
      ),
      // Relay-made payments still waiting for their PSP's word once they are old enough, and those
      // the relay expired at their deadline (recently): the PSP may have taken the money meanwhile.
      enrollPayments: db.prepare<[{ cutoff: string; now: string; later: string; expiredSince: string; limit: number }]>(
        `INSERT INTO reconciliations (psp, psp_id, cab_id, ride_id, attempt, opened_at, next_check_at, status, updated_at)
         SELECT p.psp, p.reference, p.cab_id, p.ride_id, p.attempt, p.created_at, CASE p.status WHEN 'expired' THEN @later ELSE @now END, 'open', @now FROM payments p
         WHERE ((p.status = 'created' AND p.created_at <= @cutoff) OR (p.status = 'expired' AND p.expires_at >= @expiredSince))
           AND NOT EXISTS (SELECT 1 FROM reconciliations r WHERE r.psp = p.psp AND r.psp_id = p.reference AND r.cab_id = p.cab_id)
         LIMIT @limit`,
      ),
      due: db.prepare<[string, number], Row>(`SELECT * FROM reconciliations WHERE status = 'open' AND next_check_at <= ? ORDER BY next_check_at LIMIT ?`),
      openOfCab: db.prepare<[string, string], { n: number }>(`SELECT COUNT(*) AS n FROM reconciliations WHERE cab_id = ? AND psp = ? AND status = 'open'`),
      openByPsp: db.prepare<[], { psp: string; n: number }>(`SELECT psp, COUNT(*) AS n FROM reconciliations WHERE status = 'open' GROUP BY psp`),
      reschedule: db.prepare(
        `UPDATE reconciliations SET next_check_at = @nextCheckAt, checks = checks + 1, outcome = @outcome, detail = @detail, updated_at = @now
         WHERE psp = @psp AND psp_id = @pspId AND cab_id = @cabId AND status = 'open'`,
      ),
      close: db.prepare(
        `UPDATE reconciliations SET status = @status, checks = checks + @counted, outcome = @outcome, settled_by = @settledBy, detail = @detail, updated_at = @now
         WHERE psp = @psp AND psp_id = @pspId AND cab_id = @cabId AND status = 'open'`,
      ),
    };
  }

  async get(psp: PspName, pspId: string, cabId: string): Promise<ReconcileRecord | null> {
    const row = this.s.get.get(psp, pspId, cabId);
    return row ? toRecord(row) : null;
  }

  /** Adds an open row unless one exists; returns the row as stored. */
  async open(r: NewReconciliation, nowIso: string): Promise<ReconcileRecord> {
    this.s.insert.run({ ...r, now: nowIso });
    return toRecord(this.s.get.get(r.psp, r.pspId, r.cabId)!);
  }

  /** Relay-made payments created before `cutoffIso` and still without an outcome; returns how many were added. */
  /**
   * Enrolls payments made before `cutoffIso` still open, and payments the relay expired within the
   * last day, first asked about as long after now as the cut-off is before it (a late payment's hook time).
   */
  async enrollPayments(cutoffIso: string, nowIso: string, limit: number): Promise<number> {
    const nowMs = Date.parse(nowIso);
    const later = new Date(nowMs + Math.max(0, nowMs - Date.parse(cutoffIso))).toISOString();
    const expiredSince = new Date(nowMs - EXPIRED_LOOKBACK_MS).toISOString();
    return this.s.enrollPayments.run({ cutoff: cutoffIso, now: nowIso, later, expiredSince, limit }).changes;
  }

  async due(nowIso: string, limit: number): Promise<ReconcileRecord[]> {
    return this.s.due.all(nowIso, limit).map(toRecord);
  }

  async openCount(cabId: string, psp: PspName): Promise<number> {
    return this.s.openOfCab.get(cabId, psp)?.n ?? 0;
  }

  async openByPsp(): Promise<Map<string, number>> {
    return new Map(this.s.openByPsp.all().map((r) => [r.psp, r.n]));
  }

  /** Still open: checked once more, next at `nextCheckAt`. */
  async reschedule(
    r: Pick<ReconcileRecord, 'psp' | 'pspId' | 'cabId'>,
    nextCheckAt: string,
    outcome: string,
    detail: string | null,
    nowIso: string,
  ): Promise<void> {
    this.s.reschedule.run({ psp: r.psp, pspId: r.pspId, cabId: r.cabId, nextCheckAt, outcome, detail, now: nowIso });
  }

  /** No more checks: settled (by a hook or by this reconciliation), rejected or abandoned. */
  async close(
    r: Pick<ReconcileRecord, 'psp' | 'pspId' | 'cabId'>,
    status: Exclude<ReconcileStatus, 'open'>,
    outcome: string,
    settledBy: SettledBy | null,
    detail: string | null,
    nowIso: string,
    counted = true,
  ): Promise<void> {
    this.s.close.run({ psp: r.psp, pspId: r.pspId, cabId: r.cabId, status, outcome, settledBy, detail, now: nowIso, counted: counted ? 1 : 0 });
  }
}
