/**
 * Receipts as the relay keeps them: the tablet's payload under its token, idempotent per
 * (cab, ride). Synchronous better-sqlite3 writes in autocommit (WAL, synchronous=FULL), so a
 * receipt is on disk before the ack goes out.
 */
import type Database from 'better-sqlite3';
import { receiptPayload, type ReceiptPayload } from '../../protocol/receipt.js';
import type { Result } from '../../protocol/result.js';

export interface StoredRelayReceipt {
  cabId: string;
  payload: ReceiptPayload;
  receivedAt: string;
}

interface Row {
  token: string;
  cab_id: string;
  ride_id: string;
  payload: string;
  received_at: string;
}

export class ReceiptStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      byToken: db.prepare<[string], Row>('SELECT * FROM receipts WHERE token = ?'),
      byRide: db.prepare<[string, string], Row>('SELECT * FROM receipts WHERE cab_id = ? AND ride_id = ?'),
      insert: db.prepare('INSERT INTO receipts (token, cab_id, ride_id, payload, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE receipts SET payload = ?, updated_at = ? WHERE token = ?'),
      countByCab: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM receipts WHERE cab_id = ?'),
      pruneBefore: db.prepare('DELETE FROM receipts WHERE received_at < ?'),
    };
  }

  /** Removes receipts first received before `beforeIso`; their links then show the 404 page. */
  prune(beforeIso: string): number {
    return this.s.pruneBefore.run(beforeIso).changes;
  }

  /**
   * Stores the cab's receipt. The same ride again (a resend, or a PSP payment replacing one
   * marked as paid another way) updates it under its first token; a different token for a
   * known ride, or a token taken by another ride, is refused.
   */
  save(cabId: string, payload: ReceiptPayload, now: string, limits: { maxKept: number } = { maxKept: Number.POSITIVE_INFINITY }): Result<null> {
    const known = this.s.byRide.get(cabId, payload.rideId);
    if (known && known.token !== payload.token)
      return { ok: false, error: { code: 'token_conflict', message: 'this ride already has a receipt under another token' } };
    const taken = this.s.byToken.get(payload.token);
    if (taken && (taken.cab_id !== cabId || taken.ride_id !== payload.rideId))
      return { ok: false, error: { code: 'token_conflict', message: 'this receipt token belongs to another ride; make a new token' } };
    if (taken) {
      this.s.update.run(JSON.stringify(payload), now, payload.token);
      return { ok: true, value: null };
    }
    // Only a new ride adds a row; one cab's rows are bounded until the retention prunes them.
    const kept = this.s.countByCab.get(cabId)?.n ?? 0;
    if (kept >= limits.maxKept) {
      return {
        ok: false,
        error: {
          code: 'quota_exceeded',
          message: `this cab already has ${kept} receipts stored, the most the relay keeps per cab; send it again after older ones are pruned`,
        },
      };
    }
    this.s.insert.run(payload.token, cabId, payload.rideId, JSON.stringify(payload), now, now);
    return { ok: true, value: null };
  }

  get(token: string): StoredRelayReceipt | null {
    const row = this.s.byToken.get(token);
    if (!row) return null;
    const parsed = receiptPayload.safeParse(JSON.parse(row.payload));
    return parsed.success ? { cabId: row.cab_id, payload: parsed.data, receivedAt: row.received_at } : null;
  }
}
