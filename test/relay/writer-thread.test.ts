/**
 * The relay store's writer thread: writes commit on their own connection while the main
 * connection keeps reading and writing (payments); a write resolves only once committed; a
 * dead writer fails writes and the health check instead of hanging them.
 */
import { mkdirSync } from 'node:fs';
import { deserialize } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../backend-relay/store/relay-store.js';
import { PaymentStore } from '../../backend-relay/store/payment-store.js';
import { openRelayDatabase, openSqliteRelayStore } from '../../backend-relay/store/sqlite-store.js';
import type { WriterEnvelope, WriterRequestBatch } from '../../backend-relay/store/store-writer-protocol.js';
import { WriterThread } from '../../backend-relay/store/writer-thread.js';
import { loadRelayConfig } from '../../backend-relay/config.js';
import { makeSigner, tempDir } from './helpers.js';

const event = (cabId: string, key: string): NewEvent => ({
  id: `id-${key}`,
  cabId,
  psp: 'hips',
  dedupeKey: key,
  type: 'qr.session.canceled',
  occurredAt: new Date().toISOString(),
  data: { sessionId: key },
});

async function openWithCab() {
  const dbPath = path.join(tempDir(), 'relay.db');
  const db = openRelayDatabase(dbPath);
  const store = openSqliteRelayStore(db);
  await store.putCab({ cabId: 'a', psp: 'hips', qrCodes: ['qr-a'], plate: 'P', label: 'L', enabled: true }, 'h'.repeat(64), new Date().toISOString());
  return { dbPath, db, store };
}

describe('relay store writer thread', () => {
  it('commits store writes on the writer while the main connection writes payments in the same turns', async () => {
    const { db, store } = await openWithCab();
    const payments = new PaymentStore(db);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      writes.push(store.appendEvent(event('a', `k${i}`), Date.now()));
      writes.push(payments.set(`meta-${i}`, String(i)));
    }
    await Promise.all(writes);
    expect((await store.eventsAfter('a', 0, 1000)).map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(await payments.get('meta-299')).toBe('299');
    expect((await store.getCab('a'))?.lastSeq).toBe(300);
    await store.close();
  });

  it('resolves a write only when another connection can read it', async () => {
    const { dbPath, store } = await openWithCab();
    const reader = new Database(dbPath, { readonly: true });
    const count = reader.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM events');
    for (let i = 1; i <= 20; i++) {
      const stored = await store.appendEvent(event('a', `v${i}`), Date.now());
      expect(stored.status).toBe('stored');
      expect(count.get()?.n).toBe(i);
    }
    reader.close();
    await store.close();
  });

  it('commits queued writes before closing, lazy acks included', async () => {
    const { dbPath, store } = await openWithCab();
    const stored = await store.appendEvent(event('a', 'x1'), Date.now());
    expect(stored.status).toBe('stored');
    void store.markAcked('a', 1, Date.now()); // lazy: would wait for the next commit
    await store.close();
    const again = openSqliteRelayStore(dbPath);
    expect(await again.getCab('a')).toMatchObject({ lastSeq: 1, ackedSeq: 1, backlog: 0 });
    await again.close();
  });

  it('holds a lazy ack back until the next eager write or the lazy delay, and commits it either way', async () => {
    const { dbPath, store } = await openWithCab();
    await store.appendEvent(event('a', 'l1'), Date.now());
    await store.appendEvent(event('a', 'l2'), Date.now());
    const thread = new WriterThread(dbPath);
    const worker = (thread as unknown as { worker: Worker }).worker;
    const sent: string[][] = [];
    const post = worker.postMessage.bind(worker);
    worker.postMessage = ((envelope: WriterEnvelope) => {
      sent.push((deserialize(envelope.payload) as WriterRequestBatch).map((r) => r.method));
      post(envelope);
    }) as Worker['postMessage'];
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

    const riding = thread.call('markAcked', ['a', 1, Date.now()]);
    await nextTurn();
    expect(sent).toEqual([]); // an ack alone does not wake the writer
    const eager = thread.call('markSeen', ['a', new Date().toISOString()]);
    await nextTurn();
    expect(sent).toEqual([['markAcked', 'markSeen']]); // it rides with the next write
    await Promise.all([riding, eager]);

    await thread.call('markAcked', ['a', 2, Date.now()]); // alone: sent after the lazy delay
    expect(sent).toEqual([['markAcked', 'markSeen'], ['markAcked']]);
    await thread.close();
    expect(await store.getCab('a')).toMatchObject({ ackedSeq: 2, backlog: 0 });
    await store.close();
  });

  it("commits a lazy write at once in the writer's own store (its sender held it back already), and holds it elsewhere", async () => {
    const { dbPath, store } = await openWithCab();
    await store.appendEvent(event('a', 'w1'), Date.now());
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const committed = async (options: { lazyWritesAlreadyHeld?: boolean }) => {
      const direct = openSqliteRelayStore(dbPath, { writerThread: false, ...options });
      let settled = false;
      const ack = direct.markAcked('a', 1, Date.now()).then(() => (settled = true));
      await nextTurn();
      await nextTurn();
      const result = settled;
      await ack;
      await direct.close();
      return result;
    };
    expect(await committed({ lazyWritesAlreadyHeld: true })).toBe(true);
    expect(await committed({})).toBe(false); // waits for a commit or the lazy delay
    await store.close();
  });

  it('fails a write too deeply nested to be passed to the writer on its own; the rest of its batch commits', async () => {
    const { store } = await openWithCab();
    // 10,000 levels cannot be serialized at all: postMessage threw out of a timer and the
    // process died. 2,000 levels went, but the deep data came back in the reply, which the main
    // thread could not read: the batch's writes never settled.
    const settled: Record<number, string[]> = {};
    for (const depth of [10_000, 2_000]) {
      let deep: unknown = 1;
      for (let i = 0; i < depth; i++) deep = [deep];
      const results = await Promise.allSettled([
        store.appendEvent(event('a', `before-${depth}`), Date.now()),
        store.appendEvent({ ...event('a', `deep-${depth}`), data: { sessionId: `deep-${depth}`, deep } }, Date.now()),
        store.appendEvent(event('a', `after-${depth}`), Date.now()),
      ]);
      settled[depth] = results.map((r) => (r.status === 'fulfilled' ? 'stored' : String(r.reason)));
    }
    expect(settled[10_000]![0]).toBe('stored');
    expect(settled[10_000]![1]).toMatch(/StoreWriterError: the relay store refused this write: it cannot be passed between the relay's threads/);
    expect(settled[10_000]![2]).toBe('stored');
    // The store does not judge depth (the edge refuses it): it stores it, and answers every write.
    expect(settled[2_000]).toEqual(['stored', 'stored', 'stored']);
    await store.ping();
    const stored = (await store.eventsAfter('a', 0, 100)).map((e) => (e.data as { sessionId: string }).sessionId);
    expect(stored).toEqual(['before-10000', 'after-10000', 'before-2000', 'deep-2000', 'after-2000']);
    await store.close();
  });

  it('sends each write of a batch the writer could not read again alone, and refuses one it cannot read alone', async () => {
    const { dbPath, store } = await openWithCab();
    const thread = new WriterThread(dbPath);
    const worker = (thread as unknown as { worker: Worker }).worker;
    const post = worker.postMessage.bind(worker);
    // Unreadable for the writer: the batch of both writes (ids 1 and 2), then write 1 sent alone.
    const spoiled = ['1,2', '1'];
    const sent: string[] = [];
    worker.postMessage = ((envelope: WriterEnvelope) => {
      sent.push(envelope.ids.join(','));
      post(spoiled.includes(envelope.ids.join(',')) ? { ...envelope, payload: new Uint8Array([0xff, 0x0d, 0x01]) } : envelope);
    }) as Worker['postMessage'];
    const [first, second] = await Promise.allSettled([
      thread.call('markSeen', ['a', '2026-01-01T00:00:00.000Z']),
      thread.call('appendEvent', [event('a', 'alone-2'), Date.now()]),
    ]);
    expect(first.status).toBe('rejected');
    expect(String((first as PromiseRejectedResult).reason)).toMatch(/refused this write: it could not be read on the other side/);
    expect(second.status).toBe('fulfilled');
    expect(sent.slice(0, 3).sort()).toEqual(['1', '1,2', '2']);
    await thread.close();
    expect((await store.eventsAfter('a', 0, 10)).map((e) => e.id)).toEqual(['id-alone-2']);
    await store.close();
  });

  it('refuses a write after close() with a clear error instead of leaving it unanswered', async () => {
    const { store } = await openWithCab();
    await store.close();
    await expect(store.markSeen('a', new Date().toISOString())).rejects.toThrow(/relay store is closed; this write came after close\(\)/);
  });

  it('fails writes with the reason when the writer cannot open the database, instead of hanging them', async () => {
    const notAFile = path.join(tempDir(), 'a-directory');
    mkdirSync(notAFile);
    const writer = new WriterThread(notAFile);
    await expect(writer.call('markSeen', ['a', new Date().toISOString()])).rejects.toThrow(/writer thread failed: .*(unable to open|directory)/i);
    expect(writer.error?.message).toMatch(/writer thread/);
    await expect(writer.call('prune', [0])).rejects.toThrow(/writer thread/);
    await writer.close();
  });

  it('reports its death once through onFailure (the relay then exits), and not a close()', async () => {
    const { dbPath, store } = await openWithCab();
    const failures: Error[] = [];
    const writer = new WriterThread(dbPath, { onFailure: (err) => failures.push(err), exitOnWrite: 'appendEvent' });
    await writer.call('markSeen', ['a', new Date().toISOString()]);
    await expect(writer.call('appendEvent', [event('a', 'dies'), Date.now()])).rejects.toThrow(/writer thread exited \(code 70\); restart the relay/);
    await expect(writer.call('markSeen', ['a', new Date().toISOString()])).rejects.toThrow(/writer thread exited/);
    expect(failures.map((f) => f.message)).toEqual([expect.stringMatching(/writer thread exited \(code 70\)/)]);
    await writer.close();
    expect(failures).toHaveLength(1);
    expect(await store.eventsAfter('a', 0, 10)).toEqual([]); // the write it died on was not committed

    const closed: Error[] = [];
    const healthy = new WriterThread(dbPath, { onFailure: (err) => closed.push(err) });
    await healthy.call('markSeen', ['a', new Date().toISOString()]);
    await healthy.close();
    expect(closed).toEqual([]);
    await store.close();
  });

  it('refuses the fault drill in production, and any value that is not a store write', async () => {
    const { pemFile } = await makeSigner();
    const env = { RELAY_ADMIN_TOKEN: 'x'.repeat(20), HIPS_PUBLIC_KEY_FILE: pemFile, RELAY_DB: path.join(tempDir(), 'relay.db') };
    expect(loadRelayConfig({ ...env, RELAY_DEBUG_WRITER_EXIT_ON: 'appendEvent' }).debugWriterExitOn).toBe('appendEvent');
    expect(() => loadRelayConfig({ ...env, RELAY_DEBUG_WRITER_EXIT_ON: 'appendEvent', NODE_ENV: 'production' })).toThrow(
      /fault drill .* refused with NODE_ENV=production: unset it/,
    );
    expect(() => loadRelayConfig({ ...env, RELAY_DEBUG_WRITER_EXIT_ON: 'getCab' })).toThrow(/RELAY_DEBUG_WRITER_EXIT_ON: must name a store write: putCab/);
  });
});
