/** Routing from verified content, idempotency, and the 412 answer for cabs that cannot serve a scan. */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downResponseText } from '../../backend-relay/down-text.js';
import { newEventId } from '../../backend-relay/event-id.js';
import { parseHipsTime } from '../../backend-relay/psp/hips.js';
import { cabIdFromMerchantOrderId } from '../../backend-relay/merchant-order-id.js';
import type { RelayConfig } from '../../backend-relay/config.js';
import {
  addCab,
  admin,
  connectTablet,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  qrHook,
  sleep,
  startInProcess,
  storedCounts,
  tempDir,
  until,
  waitForConnect,
  type Signer,
  type TestTablet,
  fetchMetrics,
} from './helpers.js';

describe('routing and idempotency', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(over: Partial<RelayConfig> = {}) {
    const dir = tempDir();
    const signer: Signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer, over);
    cleanups.push(() => app.close());
    return { dir, signer, app, url, dbPath: path.join(dir, 'relay.db') };
  }

  async function online(url: string, cabId: string, token: string, lastSeq = 0): Promise<TestTablet> {
    const tablet = connectTablet(url, cabId, token, lastSeq);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet); // live from the handshake: scans are accepted from here on
    return tablet;
  }

  it('delivers a duplicate QR hook once and answers 200 to the retry', async () => {
    const { signer, url, dbPath } = await setup();
    const tablet = await online(url, 'cab-d', await addCab(url, 'cab-d', ['QR-D']));
    const body = await hookBody(signer, qrHook('QR-D'));
    const first = await postJson(url, '/webhooks/hips/qr', body);
    const retry = await postJson(url, '/webhooks/hips/qr', body);
    // A retry re-signed by the PSP (new jwt, same idempotency key) is still the same event.
    const resigned = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, JSON.parse(JSON.stringify({ ...body, jwt: undefined }))));
    expect([first.status, retry.status, resigned.status]).toEqual([200, 200, 200]);
    expect(retry.body.status).toBe('duplicate');
    expect(resigned.body.status).toBe('duplicate');
    await until(() => tablet.applied.length === 1, 'delivery');
    await sleep(300);
    expect(tablet.received).toHaveLength(1);
    expect((await storedCounts(dbPath)).events).toBe(1);
  });

  it('dedupes order hooks by idempotency key, or by event and resource id when there is none', async () => {
    const { signer, url, dbPath } = await setup();
    const tablet = await online(url, 'cab-o', await addCab(url, 'cab-o'));
    const keyed = orderHook('cab-o.ride-1');
    const unkeyed = orderHook('cab-o.ride-2', {}, 'payment.failed', undefined);
    for (let i = 0; i < 3; i++) {
      expect((await postJson(url, '/webhooks/hips/orders', await hookBody(signer, keyed))).status).toBe(200);
      expect((await postJson(url, '/webhooks/hips/orders', await hookBody(signer, unkeyed))).status).toBe(200);
    }
    await until(() => tablet.applied.length === 2, 'two deliveries');
    await sleep(300);
    expect(tablet.received.map((e) => e.type)).toEqual(['order.paid', 'order.failed']);
    expect(tablet.received[1]).toMatchObject({ data: { merchantOrderId: 'cab-o.ride-2', reason: 'failed' } });
    expect((await storedCounts(dbPath)).events).toBe(2);
  });

  it('maps canceled, timed_out and order.expired, with seqs 1, 2, 3', async () => {
    const { signer, url } = await setup();
    const tablet = await online(url, 'cab-m', await addCab(url, 'cab-m', ['QR-M']));
    const session = 'sess-m';
    await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-M', { request_type: 'canceled', session_id: session })));
    await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-M', { request_type: 'timed_out', session_id: session })));
    await postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook('cab-m.r9', { reason: undefined, status: 'expired' }, 'order.expired')));
    await until(() => tablet.applied.length === 3, 'three events');
    expect(tablet.applied.map((e) => [e.seq, e.type])).toEqual([
      [1, 'qr.session.canceled'],
      [2, 'qr.session.timed_out'],
      [3, 'order.failed'],
    ]);
    expect(tablet.applied[0]!.data).toEqual({ sessionId: session });
    expect(tablet.applied[2]!.data).toMatchObject({ reason: 'expired' });
  });

  it('sets expiresAt from execute_at plus the order timeout', async () => {
    const { signer, url } = await setup();
    const tablet = await online(url, 'cab-t', await addCab(url, 'cab-t', ['QR-T']));
    const executeAt = new Date(Date.now() - 5000);
    await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-T', { execute_at: executeAt.toISOString(), order_timeout_seconds: 120 })));
    await until(() => tablet.applied.length === 1, 'delivery');
    const started = tablet.applied[0]!;
    if (started.type !== 'qr.session.started') throw new Error('wrong type');
    expect(Date.parse(started.data.expiresAt)).toBe(executeAt.getTime() + 120_000);
    expect(started.data).toMatchObject({ psp: 'hips', orderTimeoutSeconds: 120, paymentTimeoutSeconds: 300 });
  });

  it('accepts a scan sent the moment the tablet connects: a socket is live from its authenticated handshake', async () => {
    const { signer, url, app } = await setup();
    await addCab(url, 'cab-busy');
    for (let round = 0; round < 3; round++) {
      const cabId = `cab-first-${round}`;
      const token = await addCab(url, cabId, [`QR-F${round}`]); // never seen before this connect
      const body = await hookBody(signer, qrHook(`QR-F${round}`));
      // A busy relay: other cabs' writes queued ahead of this handshake's on the writer thread.
      const busy = Array.from({ length: 3_000 }, (_, i) =>
        app.store.appendEvent(
          {
            id: newEventId(),
            cabId: 'cab-busy',
            psp: 'hips',
            dedupeKey: `busy-${round}-${i}`,
            type: 'qr.session.canceled',
            occurredAt: new Date().toISOString(),
            data: { sessionId: `b${i}` },
          },
          Date.now(),
        ),
      );
      const tablet = connectTablet(url, cabId, token);
      cleanups.push(() => tablet.close());
      const scan = new Promise<Awaited<ReturnType<typeof postJson>>>((resolve, reject) => {
        tablet.socket.once('connect', () => postJson(url, '/webhooks/hips/qr', body).then(resolve, reject));
        tablet.socket.once('connect_error', reject);
      });
      const res = await scan;
      expect(res.status, `round ${round}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body).toMatchObject({ status: 'stored', seq: 1 });
      await Promise.all(busy);
      await until(() => tablet.applied.length === 1, 'the scan delivered');
      tablet.close();
    }
  });

  it('answers 412 with a localized down_response_text for an unknown cab, and stores nothing', async () => {
    const { signer, url, dbPath } = await setup({ locale: 'sv' });
    const res = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('NOBODY')));
    expect(res.status).toBe(412);
    expect(res.body).toEqual({ down_response_text: downResponseText('sv') });
    expect(res.body.down_response_text).toContain('taxin');
    expect(await storedCounts(dbPath)).toEqual({ events: 0, unrouted: 0 });
  });

  it('answers 412 for a disabled cab and for a cab unseen longer than RELAY_CAB_STALE_S', async () => {
    const { signer, url, dbPath } = await setup({ locale: 'en', cabStaleSeconds: 1 });
    const never = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-S')));
    expect(never.status).toBe(412); // unknown yet
    const token = await addCab(url, 'cab-s', ['QR-S']);
    expect((await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-S')))).status).toBe(412); // never seen
    const tablet = await online(url, 'cab-s', token);
    const acceptedBody = await hookBody(signer, qrHook('QR-S'));
    expect((await postJson(url, '/webhooks/hips/qr', acceptedBody)).status).toBe(200); // connected = seen now
    tablet.close();
    await sleep(200);
    expect((await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-S')))).status).toBe(200); // seen 0.2 s ago
    await sleep(1300);
    const stale = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-S')));
    expect(stale.status).toBe(412);
    expect(stale.body.down_response_text).toBe(downResponseText('en'));
    // A retry of the hook stored while the cab was live is still a plain duplicate, not a 412.
    const retry = await postJson(url, '/webhooks/hips/qr', acceptedBody);
    expect(retry.status).toBe(200);
    expect(retry.body.status).toBe('duplicate');
    // Order hooks are still stored for a stale cab: the payment happened and must reach it.
    expect((await postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook('cab-s.r1')))).status).toBe(200);

    const disable = await admin(url, 'PUT', '/admin/cabs/cab-s?keepToken=true', { qrCodes: ['QR-S'], plate: 'P', label: 'L', enabled: false });
    expect(disable.status).toBe(200);
    const t2 = await online(url, 'cab-s', token);
    expect(t2.socket.connected).toBe(true);
    expect((await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-S')))).status).toBe(412);
    expect((await storedCounts(dbPath)).events).toBe(3);
  });

  it('keeps a verified order hook for an unregistered cab as unrouted, answers 200, delivers nothing', async () => {
    const { signer, url, dbPath, app } = await setup();
    const tablet = await online(url, 'cab-u', await addCab(url, 'cab-u'));
    for (const mid of ['ghost.ride-1', 'no-dot-here', '.ride', 'cab-u.', 'bad id!.ride']) {
      const res = await postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook(mid)));
      expect(res.status, mid).toBe(200);
      expect(res.body.status).toBe('unrouted');
    }
    // canceled for an unknown QR: also 200, not a 412 (only scans are refused)
    const canceled = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('NOPE', { request_type: 'canceled' })));
    expect(canceled.status).toBe(200);
    await sleep(200);
    expect(tablet.received).toEqual([]);
    expect(await storedCounts(dbPath)).toEqual({ events: 0, unrouted: 6 });
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toMatch(/relay_webhooks_total\{psp="hips",kind="order",outcome="unrouted"\} 5/);
    void app;
  });

  it('answers a retry of a hook kept as unrouted as a duplicate, even once its cab exists', async () => {
    const { signer, url, dbPath } = await setup();
    const body = await hookBody(signer, orderHook('cab-late.ride-1'));
    expect((await postJson(url, '/webhooks/hips/orders', body)).body.status).toBe('unrouted');
    const tablet = await online(url, 'cab-late', await addCab(url, 'cab-late'));
    const retry = await postJson(url, '/webhooks/hips/orders', body);
    expect([retry.status, retry.body.status]).toEqual([200, 'duplicate']);
    await sleep(200);
    expect(tablet.received).toEqual([]);
    expect(await storedCounts(dbPath)).toEqual({ events: 0, unrouted: 1 });
  });

  it('refuses a QR code already owned by another cab with 409', async () => {
    const { url } = await setup();
    await addCab(url, 'cab-a', ['SHARED']);
    const res = await admin(url, 'PUT', '/admin/cabs/cab-b', { qrCodes: ['SHARED'], plate: 'P', label: 'L' });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('cab-a');
  });
});

describe('pure helpers', () => {
  it('splits the merchant order id at the first dot', () => {
    expect(cabIdFromMerchantOrderId('cab-1.0190-abc.def')).toBe('cab-1');
    expect(cabIdFromMerchantOrderId('cab-1')).toBeNull();
    expect(cabIdFromMerchantOrderId('.x')).toBeNull();
    expect(cabIdFromMerchantOrderId('a b.x')).toBeNull();
  });
  it('reads Hips times whose + became a space', () => {
    expect(parseHipsTime('2019-10-19T18:34:49.898 01:00')?.toISOString()).toBe('2019-10-19T17:34:49.898Z');
    expect(parseHipsTime('2019-10-19 18:34:49 +0100')?.toISOString()).toBe('2019-10-19T17:34:49.000Z');
    expect(parseHipsTime('yesterday')).toBeNull();
    expect(parseHipsTime(undefined)).toBeNull();
  });
});
