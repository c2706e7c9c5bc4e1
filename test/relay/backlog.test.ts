/**
 * A tablet back from a long outage: its whole backlog arrives in order, at once, without any
 * new event for its cab to wake delivery up. A real relay, a real socket.io-client tablet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { newEventId } from '../../backend-relay/event-id.js';
import type { RelayApp } from '../../backend-relay/app.js';
import { PAGE_SIZE } from '../../backend-relay/delivery.js';
import { addCab, connectTablet, hookBody, makeSigner, orderHook, postJson, startInProcess, tempDir, until, type TestTablet } from './helpers.js';

describe('backlog delivery', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    // The default ack timeout: a resend would show in `received`, and only a real stall causes one.
    const { app, url } = await startInProcess(dir, signer, { ackTimeoutMs: 10_000 });
    cleanups.push(() => app.close());
    return { signer, app, url };
  }
  function tablet(url: string, cabId: string, token: string, lastSeq = 0): TestTablet {
    const t = connectTablet(url, cabId, token, lastSeq);
    cleanups.push(() => t.close());
    return t;
  }
  /** Commits `count` events for the cab through the relay's own store (concurrently: group commits). */
  async function backlog(app: RelayApp, cabId: string, count: number, batch = 'first'): Promise<void> {
    const appends = Array.from({ length: count }, (_, i) =>
      app.store.appendEvent(
        {
          id: newEventId(),
          cabId,
          psp: 'hips',
          dedupeKey: `${batch}-${cabId}-${i}`,
          type: 'qr.session.canceled',
          occurredAt: new Date().toISOString(),
          data: { sessionId: `s-${i}` },
        },
        Date.now(),
      ),
    );
    const stored = await Promise.all(appends);
    expect(stored.every((s) => s.status === 'stored')).toBe(true);
  }
  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('delivers a backlog of 250 signed webhooks in full and in order, with no new event to wake it', async () => {
    const { signer, app, url } = await setup();
    const token = await addCab(url, 'cab-b250');
    for (let i = 0; i < 250; i++) {
      const res = await postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook(`cab-b250.ride${i}`)));
      expect(res.status).toBe(200);
    }
    const t = tablet(url, 'cab-b250', token);
    await until(() => t.applied.length === 250, 'all 250 backlog events', 30_000);
    expect(t.applied.map((e) => e.seq)).toEqual(seqs(1, 250));
    expect(t.applied.map((e) => (e.data as { merchantOrderId: string }).merchantOrderId)).toEqual(seqs(0, 249).map((i) => `cab-b250.ride${i}`));
    await until(async () => (await app.store.getCab('cab-b250'))?.ackedSeq === 250, 'every event acked');
    expect((await app.store.getCab('cab-b250'))?.lastSeq).toBe(250); // nothing new was committed
  }, 90_000); // 250 RS256 signatures on a shared machine

  it('delivers a backlog of 3,000 events in full and in order, then resumes from lastSeq after a reconnect', async () => {
    const { app, url } = await setup();
    const token = await addCab(url, 'cab-b3k');
    await backlog(app, 'cab-b3k', 3_000);
    // Streamed in pages, never read whole: each read is one bounded piece of synchronous work.
    const reads: { limit: number; got: number }[] = [];
    const eventsAfter = app.store.eventsAfter.bind(app.store);
    app.store.eventsAfter = async (cabId, afterSeq, limit) => {
      const page = await eventsAfter(cabId, afterSeq, limit);
      reads.push({ limit, got: page.length });
      return page;
    };
    const t = tablet(url, 'cab-b3k', token);
    await until(() => t.applied.length === 3_000, 'all 3,000 backlog events', 40_000);
    expect(t.received.map((e) => e.seq)).toEqual(seqs(1, 3_000));
    expect(Math.max(...reads.map((r) => r.limit))).toBe(PAGE_SIZE);
    expect(reads.map((r) => r.got).filter((n) => n > 0)).toEqual(Array(3_000 / PAGE_SIZE).fill(PAGE_SIZE));
    await until(async () => (await app.store.getCab('cab-b3k'))?.backlog === 0, 'backlog acked');
    t.close();

    // Out again while 1,200 more pile up; back with its lastSeq, it gets exactly those.
    await backlog(app, 'cab-b3k', 1_200, 'later');
    const back = tablet(url, 'cab-b3k', token, 3_000);
    await until(() => back.applied.length === 1_200, 'the 1,200 events committed while away', 30_000);
    expect(back.received.map((e) => e.seq)).toEqual(seqs(3_001, 4_200));
  }, 90_000);

  it('tells a tablet that lost its state where the pruned log starts, then delivers the rest in order', async () => {
    const { app, url } = await setup();
    const token = await addCab(url, 'cab-re');
    await backlog(app, 'cab-re', 150);
    const first = tablet(url, 'cab-re', token);
    await until(() => first.applied.length === 150, 'the first install applies 150');
    await until(async () => (await app.store.getCab('cab-re'))?.backlog === 0, 'all acked');
    first.close();
    expect(first.logStarts).toEqual([]); // nothing was missing for it

    // Acked events past the retention are pruned; 130 more arrive while the tablet is reinstalled.
    expect((await app.store.prune(Date.now() + 1)).events).toBe(150);
    await backlog(app, 'cab-re', 130, 'later');
    const reinstalled = tablet(url, 'cab-re', token, 0);
    await until(() => reinstalled.applied.length === 130, 'the reinstalled tablet applies the 130 left', 20_000);
    expect(reinstalled.logStarts).toEqual([{ firstSeq: 151 }]);
    expect(reinstalled.received.map((e) => e.seq)).toEqual(seqs(151, 280)); // no resend: no stall at the gap
    await until(async () => (await app.store.getCab('cab-re'))?.ackedSeq === 280, 'acked through 280');
  });
});
