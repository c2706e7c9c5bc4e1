import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../electron/core/migrations.js';
import { DB_FILE_NAME, KioskStore, migrate } from '../../electron/core/store.js';
import { tempDir } from './helpers.js';

function tables(db: Database.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map(
    (r) => r.name,
  );
}

describe('kiosk store migrations', () => {
  it('brings a fresh database to the latest schema with WAL, synchronous=FULL and foreign keys', () => {
    const dir = tempDir();
    const store = KioskStore.open(dir);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(tables(store.db)).toEqual(
      expect.arrayContaining(['applied_events', 'order_reports', 'outbox', 'payments', 'receipts', 'refunds', 'rides', 'sessions', 'settings']),
    );
    store.close();
  });

  it('applies each migration in turn: every prefix of the list upgrades to the latest', () => {
    for (let from = 0; from <= MIGRATIONS.length; from++) {
      const db = new Database(':memory:');
      migrate(db, MIGRATIONS.slice(0, from));
      expect(db.pragma('user_version', { simple: true })).toBe(from);
      expect(migrate(db)).toBe(SCHEMA_VERSION);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    }
  });

  it('upgrades a version-1 database and keeps its data (migration 2 adds refunded_amount)', () => {
    const dir = tempDir();
    const file = path.join(dir, DB_FILE_NAME);
    const old = new Database(file);
    migrate(old, MIGRATIONS.slice(0, 1));
    old
      .prepare(
        `INSERT INTO rides (ride_id, merchant_order_id, state, started_at, currency, lines_json, order_status)
                 VALUES ('r1', 'CAB-7.r1', 'paid', '2026-01-01T00:00:00.000Z', 'SEK', '[]', 'created')`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO payments (ride_id, method, psp_order_id, order_amount, tip_amount, total_amount, currency, paid_at)
                 VALUES ('r1', 'psp', 'o1', 10000, 1000, 11000, 'SEK', '2026-01-01T00:10:00.000Z')`,
      )
      .run();
    old.close();

    const store = KioskStore.open(dir);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.getRide('r1')?.state).toBe('paid');
    expect(store.getPayment('r1')).toMatchObject({ totalAmount: 11000, refundedAmount: 0 });
    store.addRefund('r1', 500);
    expect(store.getPayment('r1')?.refundedAmount).toBe(500);
    store.close();
  });

  it('refuses a database written by a newer app, saying what to do, and leaves it untouched', () => {
    const dir = tempDir();
    const file = path.join(dir, DB_FILE_NAME);
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
    newer.close();
    expect(() => KioskStore.open(dir)).toThrow(
      `this database was written by a newer cabpay (schema ${SCHEMA_VERSION + 3}, this app knows ${SCHEMA_VERSION}); install the newer version or move the file away`,
    );
    const check = new Database(file);
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 3);
    expect(tables(check)).toEqual([]);
    check.close();
  });

  it("prunes old applied events but always keeps the latest, and forgets a dead session's one-time key", () => {
    const store = KioskStore.open(tempDir());
    store.recordEvent('e1', 1, 'qr.session.started', '2026-01-01T00:00:00.000Z');
    store.recordEvent('e2', 2, 'order.paid', '2026-01-02T00:00:00.000Z');
    store.recordEvent('e3', 3, 'order.paid', '2026-03-01T00:00:00.000Z');
    expect(store.pruneAppliedEvents('2026-06-01T00:00:00.000Z')).toBe(2);
    expect(store.lastSeq()).toBe(3);
    expect(store.isEventApplied('e3')).toBe(true);
    expect(store.isEventApplied('e1')).toBe(false);

    const session = {
      sessionId: 's1',
      psp: 'hips' as const,
      qrCode: 'Q',
      allowTip: true,
      oneTimeOrderApiKey: 'secret',
      startedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T01:00:00.000Z',
      state: 'ready' as const,
      rideId: null,
    };
    store.saveSession(session);
    store.saveSession({ ...session, state: 'in_use' });
    expect(store.getSession('s1')?.oneTimeOrderApiKey).toBe('secret');
    store.saveSession({ ...session, state: 'expired' });
    expect(store.getSession('s1')?.oneTimeOrderApiKey).toBeNull();
    store.close();
  });

  it('rolls a failing migration back completely', () => {
    const db = new Database(':memory:');
    const broken = [...MIGRATIONS, 'CREATE TABLE extra (x INTEGER); THIS IS NOT SQL;'];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(tables(db)).toEqual([]);
    db.close();
  });

  it('migration 6 lists a ride already waiting for its payment off screen as needing attention, not the one on screen', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 5));
    const ride = db.prepare(
      `INSERT INTO rides (ride_id, merchant_order_id, state, started_at, currency, lines_json, order_status) VALUES (?, ?, ?, '2026-01-01T10:00:00.000Z', 'SEK', '[]', ?)`,
    );
    ride.run('off-screen', 'CAB.off-screen', 'awaiting_payment', 'created');
    ride.run('on-screen', 'CAB.on-screen', 'awaiting_payment', 'created');
    ride.run('done', 'CAB.done', 'paid', 'created');
    db.prepare(`INSERT INTO settings (key, value) VALUES ('screenRideId', 'on-screen')`).run();
    migrate(db);
    expect(db.prepare('SELECT ride_id FROM parked_rides').all()).toEqual([{ ride_id: 'off-screen' }]);
    db.close();
  });
});
