/**
 * The relay's record of paid payments is written by the store with the order.paid event that
 * tells the cab, in the same transaction, on the writer thread as on the main connection.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { paidPaymentReader } from '../../backend-relay/store/paid-payments.js';
import type { NewEvent } from '../../backend-relay/store/relay-store.js';
import { REFUND_LEDGER_MIGRATION } from '../../backend-relay/store/refund-ledger-schema.js';
import { openSqliteRelayStore } from '../../backend-relay/store/sqlite-store.js';
import { tempDir } from './helpers.js';

function paidEvent(cabId: string, merchantOrderId: string, pspOrderId: string, key = `order:paid:${pspOrderId}`): NewEvent {
  return {
    id: `id-${key}-${cabId}`,
    cabId,
    psp: 'hips',
    dedupeKey: key,
    type: 'order.paid',
    occurredAt: '2026-12-01T10:00:00.000Z',
    data: { merchantOrderId, pspOrderId, currency: 'SEK', orderAmount: 30_000, tipAmount: 3_000, totalAmount: 33_000 },
  };
}

async function freshStore() {
  const dbPath = path.join(tempDir(), 'relay.db');
  const store = openSqliteRelayStore(dbPath);
  const cab = { psp: 'hips' as const, qrCodes: [], plate: 'P', label: 'L', enabled: true };
  await store.putCab({ ...cab, cabId: 'cab-a' }, 'h'.repeat(64), new Date().toISOString());
  return { store, dbPath };
}

describe('paid payments', () => {
  it('records an order.paid with its event (writer thread), once, and only for its own cab', async () => {
    const { store, dbPath } = await freshStore();
    expect((await store.appendEvent(paidEvent('cab-a', 'cab-a.ride-1', 'ord-1'), Date.now())).status).toBe('stored');
    // A repeat of the hook is a duplicate event and no second row.
    expect((await store.appendEvent(paidEvent('cab-a', 'cab-a.ride-1', 'ord-1'), Date.now())).status).toBe('duplicate');
    // An order.paid whose order is not this cab's records nothing.
    await store.appendEvent(paidEvent('cab-a', 'cab-b.ride-9', 'ord-9'), Date.now());
    await store.close();
    const db = new Database(dbPath, { readonly: true });
    const paid = paidPaymentReader(db);
    expect(paid.ofRide('cab-a', 'ride-1')).toEqual([
      {
        psp: 'hips',
        pspOrderId: 'ord-1',
        cabId: 'cab-a',
        rideId: 'ride-1',
        merchantOrderId: 'cab-a.ride-1',
        orderAmount: 30_000,
        tipAmount: 3_000,
        totalAmount: 33_000,
        currency: 'SEK',
        paidAt: '2026-12-01T10:00:00.000Z',
      },
    ]);
    expect(paid.byPspOrder('hips', 'ord-9')).toBeNull();
    expect(db.prepare(`SELECT COUNT(*) AS n FROM paid_payments`).get()).toEqual({ n: 1 });
    db.close();
  });

  it('writes neither the event nor the payment when the transaction fails', async () => {
    const { store, dbPath } = await freshStore();
    // No such cab: the event cannot get a seq, so the whole transaction rolls back.
    await expect(store.appendEvent(paidEvent('cab-gone', 'cab-gone.ride-1', 'ord-2'), Date.now())).rejects.toThrow(/vanished/);
    await store.close();
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare(`SELECT COUNT(*) AS n FROM paid_payments`).get()).toEqual({ n: 0 });
    expect(db.prepare(`SELECT COUNT(*) AS n FROM hook_keys WHERE dedupe_key = 'order:paid:ord-2'`).get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('the refund ledger migration', () => {
  it('records the payments already paid: from stored order.paid events, and paid Vipps rows', async () => {
    const { store, dbPath } = await freshStore();
    await store.appendEvent(paidEvent('cab-a', 'cab-a.ride-old', 'ord-old'), Date.now());
    await store.close();
    // Back to the schema before this migration, with what a relay of then had stored.
    const db = new Database(dbPath);
    db.exec(`
      DROP TABLE paid_payments; DROP TABLE refund_audit; DROP INDEX refunds_by_payment;
      ALTER TABLE refunds DROP COLUMN psp_called_at; ALTER TABLE payments DROP COLUMN capture_sent_at;
      INSERT INTO payments (cab_id, ride_id, attempt, psp, reference, psp_reference, order_amount, tip_amount, currency, lines_json, status, created_at, updated_at)
      VALUES ('cab-a', 'ride-v', 1, 'vipps', 'cab-a-ride-v-1', 'cab-a-ride-v-1', 20000, 2000, 'NOK', '[]', 'paid', '2026-11-30T09:00:00.000Z', '2026-11-30T09:05:00.000Z'),
             ('cab-a', 'ride-w', 1, 'vipps', 'cab-a-ride-w-1', 'cab-a-ride-w-1', 20000, 0, 'NOK', '[]', 'failed', '2026-11-30T09:00:00.000Z', '2026-11-30T09:05:00.000Z');
    `);
    // The migration as the store's runner applies it (later migrations need not be undone).
    db.transaction(() => db.exec(REFUND_LEDGER_MIGRATION))();
    db.close();
    const check = new Database(dbPath, { readonly: true });
    const paid = paidPaymentReader(check);
    expect(paid.ofRide('cab-a', 'ride-old')).toMatchObject([{ psp: 'hips', pspOrderId: 'ord-old', totalAmount: 33_000, currency: 'SEK' }]);
    expect(paid.ofRide('cab-a', 'ride-v')).toMatchObject([
      { psp: 'vipps', pspOrderId: 'cab-a-ride-v-1', orderAmount: 20_000, tipAmount: 2_000, totalAmount: 22_000, paidAt: '2026-11-30T09:05:00.000Z' },
    ]);
    expect(paid.ofRide('cab-a', 'ride-w')).toEqual([]);
    check.close();
  });
});
