/** The /cab namespace: device identity, isolation, acks, redelivery, replay, status. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import {
  addCab,
  admin,
  connectError,
  connectTablet,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  qrHook,
  sleep,
  startInProcess,
  tempDir,
  until,
  waitForConnect,
  type Signer,
  type TestTablet,
  fetchMetrics,
} from './helpers.js';

describe('relay ↔ tablet', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(ackTimeoutMs = 300) {
    const dir = tempDir();
    const signer: Signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer, { ackTimeoutMs });
    cleanups.push(() => app.close());
    return { signer, app, url };
  }
  function tablet(url: string, cabId: string, token: string, lastSeq = 0): TestTablet {
    const t = connectTablet(url, cabId, token, lastSeq);
    cleanups.push(() => t.close());
    return t;
  }
  const paid = async (signer: Signer, url: string, cabId: string, ride: string) =>
    postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook(`${cabId}.${ride}`)));

  it('refuses a wrong token, an unknown cab and a malformed handshake with a connect error, sending nothing', async () => {
    const { signer, url } = await setup();
    const token = await addCab(url, 'cab-w');
    await paid(signer, url, 'cab-w', 'r1');
    const attempts: [string, Record<string, unknown>][] = [
      ['wrong token', { cabId: 'cab-w', token: 'x'.repeat(43), lastSeq: 0 }],
      ['token of no cab', { cabId: 'cab-nobody', token, lastSeq: 0 }],
      ['malformed', { cabId: 'cab-w', lastSeq: -1 }],
    ];
    for (const [what, auth] of attempts) {
      const t = tablet(url, 'cab-w', token);
      t.socket.auth = auth;
      t.socket.disconnect().connect();
      const err = await connectError(t);
      expect(err.message, what).toMatch(/unknown cab or wrong device token|handshake/);
      expect((err.data as { code: string }).code).toMatch(/unauthorized|invalid_handshake/);
      await sleep(100);
      expect(t.received, what).toEqual([]);
    }
  });

  it('gives each tablet only its own cab’s events', async () => {
    const { signer, url } = await setup();
    const a = tablet(url, 'cab-a', await addCab(url, 'cab-a', ['QR-A']));
    const b = tablet(url, 'cab-b', await addCab(url, 'cab-b', ['QR-B']));
    await Promise.all([waitForConnect(a), waitForConnect(b)]);
    for (let i = 0; i < 3; i++) {
      await paid(signer, url, 'cab-a', `a${i}`);
      await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('QR-B')));
    }
    await until(() => a.applied.length === 3 && b.applied.length === 3, 'both cabs served');
    await sleep(200);
    expect(a.received.every((e) => e.type === 'order.paid' && e.data.merchantOrderId.startsWith('cab-a.'))).toBe(true);
    expect(b.received.every((e) => e.type === 'qr.session.started' && e.data.qrCode === 'QR-B')).toBe(true);
    expect(a.applied.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(b.applied.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('redelivers when acks are lost, and the tablet applies each event once (by id)', async () => {
    const { signer, url, app } = await setup(200);
    const t = tablet(url, 'cab-r', await addCab(url, 'cab-r'));
    await waitForConnect(t);
    const dropsLeft = new Map<number, number>([
      [1, 2],
      [3, 1],
    ]);
    t.shouldAck = (e: RelayEvent) => {
      const left = dropsLeft.get(e.seq) ?? 0;
      dropsLeft.set(e.seq, left - 1);
      return left <= 0;
    };
    for (let i = 0; i < 4; i++) await paid(signer, url, 'cab-r', `r${i}`);
    await until(async () => (await app.store.getCab('cab-r'))?.ackedSeq === 4, 'all acked');
    expect(t.applied.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(t.applied.map((e) => e.id)).size).toBe(4);
    // seq 1 was sent three times, seq 3 twice; never out of order
    expect(t.received.map((e) => e.seq)).toEqual([1, 1, 1, 2, 3, 3, 4]);
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toMatch(/relay_redeliveries_total 3/);
    expect(metrics).toMatch(/relay_delivery_latency_seconds_count 4/);
  });

  it('sends a refused event again after the ack timeout, and moves on only after a positive ack', async () => {
    const { signer, url, app } = await setup(200);
    const token = await addCab(url, 'cab-z');
    await paid(signer, url, 'cab-z', 'z1');
    await paid(signer, url, 'cab-z', 'z2');
    const { io } = await import('socket.io-client');
    const socket = io(`${url}/cab`, { transports: ['websocket'], auth: { cabId: 'cab-z', token, lastSeq: 0 }, reconnection: false, forceNew: true });
    cleanups.push(() => socket.close());
    const seen: number[] = [];
    let refusals = 2;
    socket.on('relay:event', (e: RelayEvent, ack: (r: unknown) => void) => {
      seen.push(e.seq);
      if (e.seq === 1 && refusals-- > 0) ack({ ok: false, error: { code: 'busy', message: 'database locked' } });
      else if (e.seq === 2 && seen.filter((s) => s === 2).length === 1) ack('garbage');
      else ack({ ok: true, value: { applied: true } });
    });
    await until(async () => (await app.store.getCab('cab-z'))?.ackedSeq === 2, 'both acked');
    expect(seen).toEqual([1, 1, 1, 2, 2]);
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toContain('relay_events_rejected_total{type="order.paid",code="other"} 2');
    expect(metrics).toContain('relay_events_rejected_total{type="order.paid",code="unreadable"} 1');
  });

  it('records an event the tablet rejected (it does not match its ride), counts it, and moves on without sending it again', async () => {
    // An ack timeout far beyond the test: a resend of the rejected event would never come in time.
    const { signer, url, app } = await setup(60_000);
    const token = await addCab(url, 'cab-r');
    await paid(signer, url, 'cab-r', 'r1');
    await paid(signer, url, 'cab-r', 'r2');
    const { io } = await import('socket.io-client');
    const socket = io(`${url}/cab`, { transports: ['websocket'], auth: { cabId: 'cab-r', token, lastSeq: 0 }, reconnection: false, forceNew: true });
    cleanups.push(() => socket.close());
    const seen: number[] = [];
    socket.on('relay:event', (e: RelayEvent, ack: (r: unknown) => void) => {
      seen.push(e.seq);
      if (e.seq === 1) ack({ ok: false, error: { code: 'rejected', message: 'order.paid refused: paid in USD, but the ride is in SEK' } });
      else ack({ ok: true, value: { applied: true } });
    });
    await until(async () => (await app.store.getCab('cab-r'))?.ackedSeq === 2, 'both answered', 10_000);
    expect(seen).toEqual([1, 2]);
    expect((await app.store.getCab('cab-r'))?.backlog).toBe(0);
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toContain('relay_events_rejected_total{type="order.paid",code="rejected"} 1');
    expect(metrics).toMatch(/relay_redeliveries_total 0/);
  });

  it('replays only seq > lastSeq on reconnect, in order, and counts the rest as acked', async () => {
    const { signer, url, app } = await setup();
    const token = await addCab(url, 'cab-p');
    for (let i = 0; i < 5; i++) await paid(signer, url, 'cab-p', `p${i}`);
    expect((await app.store.getCab('cab-p'))?.backlog).toBe(5);
    const t = tablet(url, 'cab-p', token, 2);
    await until(() => t.applied.length === 3, 'replay of 3..5');
    expect(t.received.map((e) => e.seq)).toEqual([3, 4, 5]);
    await until(async () => (await app.store.getCab('cab-p'))?.backlog === 0, 'backlog empty');
    t.close();
    // A later tablet that lost its state (lastSeq 0) gets everything again, in order.
    const again = tablet(url, 'cab-p', token, 0);
    await until(() => again.applied.length === 5, 'full replay');
    expect(again.received.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('sends events committed while connected after the replay, never before it', async () => {
    const { signer, url } = await setup();
    const token = await addCab(url, 'cab-q');
    for (let i = 0; i < 10; i++) await paid(signer, url, 'cab-q', `q${i}`);
    const t = tablet(url, 'cab-q', token);
    await waitForConnect(t);
    for (let i = 10; i < 15; i++) await paid(signer, url, 'cab-q', `q${i}`);
    await until(() => t.applied.length === 15, '15 events');
    expect(t.received.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('disconnects the live socket on rotate-token and on delete; the old token then fails', async () => {
    const { url } = await setup();
    const token = await addCab(url, 'cab-x');
    const t = tablet(url, 'cab-x', token);
    await waitForConnect(t);
    const gone = new Promise<string>((r) => t.socket.once('disconnect', (reason) => r(reason)));
    const rotated = await admin(url, 'POST', '/admin/cabs/cab-x/rotate-token');
    expect(rotated.status).toBe(200);
    expect(rotated.body.deviceToken).not.toBe(token);
    expect(await gone).toBe('io server disconnect');
    const old = tablet(url, 'cab-x', token);
    expect((await connectError(old)).message).toMatch(/wrong device token/);
    const fresh = tablet(url, 'cab-x', rotated.body.deviceToken);
    await waitForConnect(fresh);
    const gone2 = new Promise<string>((r) => fresh.socket.once('disconnect', (reason) => r(reason)));
    expect((await admin(url, 'DELETE', '/admin/cabs/cab-x')).status).toBe(200);
    expect(await gone2).toBe('io server disconnect');
    const afterDelete = tablet(url, 'cab-x', rotated.body.deviceToken);
    await connectError(afterDelete);
  });

  it('records tablet:status for GET /admin/cabs and acks a refund the relay cannot make as unsupported, and bad messages as invalid', async () => {
    const { signer, url } = await setup();
    const t = tablet(url, 'cab-s', await addCab(url, 'cab-s'));
    await waitForConnect(t);
    const status = await t.socket.timeout(2000).emitWithAck('tablet:status', { appVersion: '1.2.3', rideState: 'on_ride', outboxDepth: 2 });
    expect(status).toEqual({ ok: true, value: null });
    const bad = await t.socket.timeout(2000).emitWithAck('tablet:status', { appVersion: '', rideState: 'flying' });
    expect(bad.ok).toBe(false);
    expect(bad.error.code).toBe('invalid');
    // An app version with terminal escapes or bidi overrides is refused, never stored for the fleet CLI to print.
    for (const appVersion of ['1.2.3\x1b]0;pwned\x07', '1.2.3\u009b2J', '1.2.\u202e3']) {
      const hostile = await t.socket.timeout(2000).emitWithAck('tablet:status', { appVersion, rideState: 'idle', outboxDepth: 0 });
      expect(hostile, JSON.stringify(appVersion)).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringContaining('appVersion') } });
    }
    // A ride the relay saw paid, so the refund gets as far as the PSP's credentials.
    expect((await paid(signer, url, 'cab-s', 'r1')).status).toBe(200);
    const refund = await t.socket.timeout(2000).emitWithAck('refund.request', {
      refundId: 'rf-1',
      rideId: 'r1',
      merchantOrderId: 'cab-s.r1',
      psp: 'hips',
      pspOrderId: 'ord-1',
      amount: 100,
      currency: 'SEK',
      reason: 'x',
      requestedBy: 'driver',
      requestedAt: new Date().toISOString(),
    });
    // No HIPS_API_URL/HIPS_MERCHANT_KEY on this relay: refunds of Hips orders are not set up.
    expect(refund).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    const badRefund = await t.socket.timeout(2000).emitWithAck('refund.request', { rideId: 'r1', amount: -1 });
    expect(badRefund).toMatchObject({ ok: false, error: { code: 'invalid' } });
    // The order.paid above is delivered and acked (acks are committed lazily).
    await until(async () => (await admin(url, 'GET', '/admin/cabs')).body.cabs[0].backlog === 0, 'order.paid acked');
    const list = await admin(url, 'GET', '/admin/cabs');
    expect(list.body.cabs[0]).toMatchObject({ cabId: 'cab-s', online: true, appVersion: '1.2.3', rideState: 'on_ride', outboxDepth: 2, backlog: 0 });
    t.close();
    await until(async () => (await admin(url, 'GET', '/admin/cabs')).body.cabs[0].online === false, 'offline');
    const after = (await admin(url, 'GET', '/admin/cabs')).body.cabs[0];
    expect(Date.now() - Date.parse(after.lastSeenAt)).toBeLessThan(60_000);
  });

  it('lets a newer connection of the same cab replace the older one', async () => {
    const { signer, url } = await setup();
    const token = await addCab(url, 'cab-n');
    const first = tablet(url, 'cab-n', token);
    await waitForConnect(first);
    const gone = new Promise<void>((r) => first.socket.once('disconnect', () => r()));
    const second = tablet(url, 'cab-n', token);
    await waitForConnect(second);
    await gone;
    await paid(signer, url, 'cab-n', 'n1');
    await until(() => second.applied.length === 1, 'delivery to the newer');
    expect(first.received).toEqual([]);
  });
});
