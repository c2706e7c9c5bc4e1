/**
 * Replays at the webhook edge: a Hips token lives at most a day (plus the clock skew), and a
 * hook's dedupe key outlives its event, whether the event was pruned or deleted with its cab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteRelayStore } from '../../backend-relay/store/sqlite-store.js';
import {
  addCab,
  admin,
  connectTablet,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  signRawClaims,
  startInProcess,
  storedCounts,
  tempDir,
  until,
  waitForConnect,
} from './helpers.js';

const DAY_S = 86_400;

describe('Hips token lifetime', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('refuses exp ten years ahead, exp = 1e308 and iat thirty days ahead with 401, storing nothing', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer);
    cleanups.push(() => app.close());
    await addCab(url, 'cab-t');
    const nowS = Math.floor(Date.now() / 1000);
    const data = JSON.stringify(orderHook('cab-t.r1'));
    const cases: [string, string, RegExp][] = [
      [
        'exp ten years ahead',
        `{"iss":"hips.com","iat":${nowS},"exp":${nowS + 3650 * DAY_S},"data":${data}}`,
        /claim "exp" is invalid \(expires more than 24 h from now/,
      ],
      ['exp = 1e308', `{"iss":"hips.com","iat":${nowS},"exp":1e308,"data":${data}}`, /claim "exp" is invalid/],
      [
        'iat thirty days ahead',
        `{"iss":"hips.com","iat":${nowS + 30 * DAY_S},"exp":${nowS + 30 * DAY_S + 300},"data":${data}}`,
        /claim "(iat|exp)" is invalid/,
      ],
      [
        'iat thirty days ahead, exp near',
        `{"iss":"hips.com","iat":${nowS + 30 * DAY_S},"exp":${nowS + 300},"data":${data}}`,
        /claim "iat" is invalid \(issued in the future/,
      ],
      [
        'iat two days ago',
        `{"iss":"hips.com","iat":${nowS - 2 * DAY_S},"exp":${nowS + 300},"data":${data}}`,
        /claim "iat" is invalid \(issued more than 24 h ago/,
      ],
    ];
    for (const [name, claims, message] of cases) {
      const res = await postJson(url, '/webhooks/hips/orders', { jwt: await signRawClaims(signer, claims) });
      expect(res.status, name).toBe(401);
      expect(res.body.error.message, name).toMatch(message);
    }
    expect(await storedCounts(app.config.dbPath)).toEqual({ events: 0, unrouted: 0 });
  });
});

describe('hook dedupe keys outlive their events', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('answers duplicate to an order.paid replayed after its acked event was pruned, and delivers nothing', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    // Acked events go at once; hook keys are kept for the replay window all the same.
    const { app, url } = await startInProcess(dir, signer, { retentionMs: 1 });
    cleanups.push(() => app.close());
    const token = await addCab(url, 'cab-p');
    const tablet = connectTablet(url, 'cab-p', token);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);

    const paid = await hookBody(signer, orderHook('cab-p.ride-1'));
    expect((await postJson(url, '/webhooks/hips/orders', paid)).body).toMatchObject({ status: 'stored', seq: 1 });
    await until(() => tablet.applied.length === 1, 'order.paid delivered');
    await until(async () => (await storedCounts(app.config.dbPath)).events === 0 || (await app.prune()).events === 1, 'the acked event pruned');
    expect(await storedCounts(app.config.dbPath)).toEqual({ events: 0, unrouted: 0 });

    expect((await postJson(url, '/webhooks/hips/orders', paid)).body).toEqual({ status: 'duplicate' });
    // The next hook is the next event: the replay was not delivered in between.
    const next = await hookBody(signer, orderHook('cab-p.ride-2'));
    expect((await postJson(url, '/webhooks/hips/orders', next)).body).toMatchObject({ status: 'stored', seq: 2 });
    await until(() => tablet.applied.length === 2, 'the next hook delivered');
    expect(tablet.received.map((e) => (e.data as { merchantOrderId: string }).merchantOrderId)).toEqual(['cab-p.ride-1', 'cab-p.ride-2']);
  });

  it('answers duplicate to a hook replayed after its cab was deleted and added again, and delivers nothing', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer);
    cleanups.push(() => app.close());
    await addCab(url, 'cab-r');
    const paid = await hookBody(signer, orderHook('cab-r.ride-1'));
    expect((await postJson(url, '/webhooks/hips/orders', paid)).body).toMatchObject({ status: 'stored', seq: 1 });

    expect((await admin(url, 'DELETE', '/admin/cabs/cab-r')).status).toBe(200);
    // While the cab is gone, the replay is not kept as unrouted either.
    expect((await postJson(url, '/webhooks/hips/orders', paid)).body).toEqual({ status: 'duplicate' });
    const token = await addCab(url, 'cab-r');
    expect((await postJson(url, '/webhooks/hips/orders', paid)).body).toEqual({ status: 'duplicate' });

    const tablet = connectTablet(url, 'cab-r', token);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);
    const next = await hookBody(signer, orderHook('cab-r.ride-2'));
    expect((await postJson(url, '/webhooks/hips/orders', next)).body).toMatchObject({ status: 'stored', seq: 1 });
    await until(() => tablet.applied.length === 1, 'the new hook delivered');
    expect(tablet.received.map((e) => (e.data as { merchantOrderId: string }).merchantOrderId)).toEqual(['cab-r.ride-2']);
    expect(await storedCounts(app.config.dbPath)).toEqual({ events: 1, unrouted: 0 });
  });

  it('prunes a key only after its cut-off, and never while its event is still stored', async () => {
    const store = openSqliteRelayStore(':memory:');
    await store.putCab({ cabId: 'k', psp: 'hips', qrCodes: [], plate: 'P', label: 'L', enabled: true }, 'h'.repeat(64), new Date().toISOString());
    const event = (key: string) => ({
      id: `id-${key}`,
      cabId: 'k',
      psp: 'hips' as const,
      dedupeKey: key,
      type: 'qr.session.canceled' as const,
      occurredAt: new Date().toISOString(),
      data: { sessionId: key },
    });
    const old = Date.now() - 10 * DAY_S * 1000;
    await store.appendEvent(event('acked'), old);
    await store.appendEvent(event('unacked'), old);
    await store.markAcked('k', 1, old);
    await store.recordUnrouted({ psp: 'hips', kind: 'order', dedupeKey: 'stray', reason: 'no cab', data: {} }, new Date(old).toISOString());
    // Events and unrouted records older than a week go; their keys only once older than the key cut-off.
    expect(await store.prune(Date.now() - 7 * DAY_S * 1000, Date.now() - 30 * DAY_S * 1000)).toEqual({ events: 1, unrouted: 1, hookKeys: 0 });
    expect(await store.isKnownHook('hips', 'acked')).toBe(true);
    expect(await store.isKnownHook('hips', 'stray')).toBe(true);
    expect(await store.prune(Date.now() - 7 * DAY_S * 1000, Date.now() - 8 * DAY_S * 1000)).toEqual({ events: 0, unrouted: 0, hookKeys: 2 });
    expect(await store.isKnownHook('hips', 'acked')).toBe(false);
    expect(await store.isKnownHook('hips', 'unacked')).toBe(true); // its event is unacked, so kept
    expect(await store.appendEvent(event('unacked'), Date.now())).toEqual({ status: 'duplicate' });
    await store.close();
  });
});
