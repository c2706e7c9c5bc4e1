/**
 * Reserves a cab's QR codes in the database before its PSP is asked to set them up, so that two
 * cabs claiming the same code at once cannot both reach the PSP: the second is told the code is
 * being set up for the first (409), and the PSP's QR always shows the cab the relay gives it to.
 * A claim ends with its PUT (released) or, if the relay died meanwhile, when it runs out.
 * On the relay's main connection, like the payments table; a shared database makes it hold
 * across relay nodes too.
 */
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';

/** Longer than any PSP setup of a cab's QR codes takes (each call times out within 15 s). */
export const QR_CLAIM_TTL_MS = 5 * 60_000;

export type QrClaimResult =
  | { ok: true; claimId: string }
  /** Another cab owns the code (registered), or another setup of it is under way. */
  | { ok: false; qrCode: string; cabId: string; reason: 'owned' | 'being_set_up' };

export class QrClaims {
  private readonly claim;
  private readonly drop;
  private readonly holds;

  constructor(db: Database.Database) {
    const owner = db.prepare<[string], { cab_id: string }>(`SELECT cab_id FROM cab_qr_codes WHERE qr_code = ?`);
    const held = db.prepare<[string, number], { cab_id: string }>(`SELECT cab_id FROM qr_claims WHERE qr_code = ? AND expires_at_ms > ?`);
    const put = db.prepare(
      `INSERT INTO qr_claims (qr_code, cab_id, claim_id, expires_at_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT(qr_code) DO UPDATE SET cab_id = excluded.cab_id, claim_id = excluded.claim_id, expires_at_ms = excluded.expires_at_ms`,
    );
    this.drop = db.prepare<[string]>(`DELETE FROM qr_claims WHERE claim_id = ?`);
    this.holds = db.prepare<[string, string, number], { one: number }>(
      `SELECT 1 AS one FROM qr_claims WHERE qr_code = ? AND claim_id = ? AND expires_at_ms > ?`,
    );
    // Run IMMEDIATE: the checks and the inserts hold the write lock together, so two claims serialize.
    this.claim = db.transaction((cabId: string, qrCodes: readonly string[], nowMs: number): QrClaimResult => {
      for (const qr of qrCodes) {
        const registered = owner.get(qr);
        if (registered && registered.cab_id !== cabId) return { ok: false, qrCode: qr, cabId: registered.cab_id, reason: 'owned' };
        const claimed = held.get(qr, nowMs);
        if (claimed) return { ok: false, qrCode: qr, cabId: claimed.cab_id, reason: 'being_set_up' };
      }
      const claimId = randomUUID();
      for (const qr of qrCodes) put.run(qr, cabId, claimId, nowMs + QR_CLAIM_TTL_MS);
      return { ok: true, claimId };
    });
  }

  /** Reserves every code for `cabId`, or none. */
  acquire(cabId: string, qrCodes: readonly string[], nowMs = Date.now()): QrClaimResult {
    return this.claim.immediate(cabId, [...new Set(qrCodes)], nowMs);
  }

  /** Ends a claim (its PUT answered, whatever the outcome). */
  release(claimId: string): void {
    this.drop.run(claimId);
  }

  /** True while every code is still reserved by this claim (it did not run out meanwhile). */
  stillHeld(claimId: string, qrCodes: readonly string[], nowMs = Date.now()): boolean {
    return qrCodes.every((qr) => this.holds.get(qr, claimId, nowMs) !== undefined);
  }
}
