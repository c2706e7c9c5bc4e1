/** The SQLite RelayStore on its own: seqs, dedupe, acks, pruning, schema guard. */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteRelayStore } from '../../backend-relay/store/sqlite-store.js';
import type { NewEvent } from '../../backend-relay/store/relay-store.js';
import { tempDir } from './helpers.js';

const DAY = 24 * 3600 * 1000;

function event(cabId: string, key: string): NewEvent {
  return { id: `id-${key}`, cabId, psp: 'hips', dedupeKey: key, type: 'qr.session.canceled', occurredAt: new Date().toISOString(), data: { sessionId: key } };
}

async function freshStore() {
  const dbPath = path.join(tempDir(), 'nested', 'relay.db');
  const store = openSqliteRelayStore(dbPath);
  const cab = { psp: 'hips' as const, qrCodes: [], plate: 'P', label: 'L', enabled: true };
  await store.putCab({ ...cab, cabId: 'a' }, 'h'.repeat(64), new Date().toISOString());
  await store.putCab({ ...cab, cabId: 'b' }, 'h'.repeat(64), new Date().toISOString());
  return { store, dbPath };
}

describe('SQLite relay store', () => {
  it('uses WAL with synchronous=FULL and creates the folder', async () => {
    const { store, dbPath } = await freshStore();
    await store.close();
    const db = new Database(dbPath);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('numbers each cab’s events 1, 2, 3… without gaps, and ignores a known dedupe key', async () => {
    const { store } = await freshStore();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendEvent(event(i % 2 ? 'a' : 'b', `k${i % 20}`), Date.now())));
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(10);
    const a = (await store.eventsAfter('a', 0, 100)).map((e) => e.seq);
    const b = (await store.eventsAfter('b', 0, 100)).map((e) => e.seq);
    expect(a).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await store.isKnownHook('hips', 'k3')).toBe(true);
    expect(await store.isKnownHook('vipps', 'k3')).toBe(false);
    await store.close();
  });

  it('treats a dedupe key kept as unrouted as known when appending (the ingress relies on it)', async () => {
    const { store } = await freshStore();
    await store.recordUnrouted({ psp: 'hips', kind: 'order', dedupeKey: 'late', reason: 'no cab yet', data: {} }, new Date().toISOString());
    expect(await store.appendEvent(event('a', 'late'), Date.now())).toEqual({ status: 'duplicate' });
    expect(await store.appendEvent({ ...event('a', 'late'), psp: 'vipps' }, Date.now())).toMatchObject({ status: 'stored' });
    expect(await store.eventsAfter('a', 0, 10)).toHaveLength(1);
    await store.close();
  });

  it('prunes only acked events older than the cut-off, and never reuses a seq', async () => {
    const { store } = await freshStore();
    const old = Date.now() - 8 * DAY;
    for (let i = 0; i < 4; i++) await store.appendEvent(event('a', `p${i}`), old);
    await store.markAckedThrough('a', 2, old); // 1 and 2 acked 8 days ago
    await store.markAcked('a', 3, Date.now()); // 3 acked just now
    expect(await store.prune(Date.now() - 7 * DAY)).toEqual({ events: 2, unrouted: 0, hookKeys: 2 });
    expect((await store.eventsAfter('a', 0, 10)).map((e) => e.seq)).toEqual([3, 4]);
    const next = await store.appendEvent(event('a', 'p4'), Date.now());
    expect(next.status === 'stored' && next.event.seq).toBe(5);
    const cab = await store.getCab('a');
    expect(cab).toMatchObject({ lastSeq: 5, ackedSeq: 3, backlog: 2 });
    expect((await store.backlogByCab()).get('a')).toBe(2);
    await store.close();
  });

  it('removes a deleted cab’s QR codes and events', async () => {
    const { store } = await freshStore();
    await store.putCab({ cabId: 'c', psp: 'hips', qrCodes: ['Q'], plate: 'P', label: 'L', enabled: true }, 'h', new Date().toISOString());
    await store.appendEvent(event('c', 'x'), Date.now());
    expect(await store.deleteCab('c')).toBe(true);
    expect(await store.findCabByQrCode('Q')).toBeNull();
    expect(await store.eventsAfter('c', 0, 10)).toEqual([]);
    expect(await store.deleteCab('c')).toBe(false);
    await store.close();
  });

  for (const writer of ['with its writer thread', 'on one in-memory connection'] as const) {
    it(`serves routes from memory and drops them once putCab or deleteCab commits (${writer})`, async () => {
      const store = writer === 'with its writer thread' ? (await freshStore()).store : openSqliteRelayStore(':memory:');
      const cab = { cabId: 'r', psp: 'hips' as const, qrCodes: ['QR-R'], plate: 'P', label: 'L', enabled: true };
      await store.putCab({ ...cab, cabId: 'other', qrCodes: ['QR-O'] }, 'h'.repeat(64), new Date().toISOString());
      const other = await store.findRoute({ qrCode: 'QR-O' }); // loads every route at once
      expect(other).toEqual({ cabId: 'other', psp: 'hips', enabled: true });
      expect(await store.findRoute({ qrCode: 'QR-R' })).toBeNull(); // an unknown QR is not remembered
      await store.putCab(cab, 'h'.repeat(64), new Date().toISOString());
      const route = await store.findRoute({ qrCode: 'QR-R' });
      expect(route).toEqual({ cabId: 'r', psp: 'hips', enabled: true });
      expect(await store.findRoute({ cabId: 'r' })).toEqual(route);
      expect(await store.findRoute({ qrCode: 'QR-R' })).toBe(route); // the same object: from memory

      await store.putCab({ ...cab, enabled: false, qrCodes: ['QR-R2'] }, 'h'.repeat(64), new Date().toISOString(), { keepToken: true });
      expect(await store.findRoute({ cabId: 'r' })).toEqual({ cabId: 'r', psp: 'hips', enabled: false });
      expect(await store.findRoute({ qrCode: 'QR-R' })).toBeNull();
      expect(await store.findRoute({ qrCode: 'QR-R2' })).toMatchObject({ cabId: 'r', enabled: false });

      expect(await store.deleteCab('r')).toBe(true);
      expect(await store.findRoute({ cabId: 'r' })).toBeNull();
      expect(await store.findRoute({ qrCode: 'QR-R2' })).toBeNull();
      expect(await store.findRoute({ qrCode: 'QR-O' })).toBe(other); // another cab's route stayed
      await store.close();
    });
  }

  it('routes a QR code that moved to another cab to its new cab, and a disabled cab by id as disabled', async () => {
    const { store } = await freshStore();
    const cab = { psp: 'hips' as const, plate: 'P', label: 'L', enabled: true };
    await store.putCab({ ...cab, cabId: 'm1', qrCodes: ['QR-M'] }, 'h'.repeat(64), new Date().toISOString());
    expect(await store.findRoute({ qrCode: 'QR-M' })).toMatchObject({ cabId: 'm1' });
    await store.putCab({ ...cab, cabId: 'm1', qrCodes: [] }, 'h'.repeat(64), new Date().toISOString(), { keepToken: true });
    await store.putCab({ ...cab, cabId: 'm2', qrCodes: ['QR-M'] }, 'h'.repeat(64), new Date().toISOString());
    expect(await store.findRoute({ qrCode: 'QR-M' })).toMatchObject({ cabId: 'm2', enabled: true });
    await store.putCab({ ...cab, cabId: 'm2', qrCodes: ['QR-M'], enabled: false }, 'h'.repeat(64), new Date().toISOString(), { keepToken: true });
    expect(await store.findRoute({ cabId: 'm2' })).toMatchObject({ enabled: false });
    expect(await store.findRoute({ qrCode: 'QR-M' })).toMatchObject({ cabId: 'm2', enabled: false });
    await store.close();
  });

  it('refuses a database written by a newer relay', async () => {
    const { store, dbPath } = await freshStore();
    await store.close();
    const db = new Database(dbPath);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openSqliteRelayStore(dbPath)).toThrow(/newer than this relay/);
  });
});
