/**
 * A named lease in the relay database: fleet-wide jobs (reconciliation) run only on the node
 * that holds it. With one relay it is always ours; with several relays on a shared database,
 * one holds it until it stops renewing it, then another takes over after `ttlMs`.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface Lease {
  /** True when this node holds (or now took, or renewed) the lease until now + ttlMs. */
  acquire(name: string, ttlMs: number, nowMs?: number): boolean;
  release(name: string): void;
  /** Who this node is in the leases table. */
  readonly holder: string;
}

export class SqliteLease implements Lease {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly take;
  private readonly drop;

  constructor(db: Database.Database) {
    this.take = db.prepare<[string, string, number, number]>(
      `INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
       WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?`,
    );
    this.drop = db.prepare<[string, string]>(`DELETE FROM leases WHERE name = ? AND holder = ?`);
  }

  acquire(name: string, ttlMs: number, nowMs = Date.now()): boolean {
    return this.take.run(name, this.holder, nowMs + ttlMs, nowMs).changes > 0;
  }

  release(name: string): void {
    this.drop.run(name, this.holder);
  }
}
