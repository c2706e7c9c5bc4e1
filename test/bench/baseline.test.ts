/** The baseline relay: routes an unverified Hips hook straight to the cab's socket, stores nothing. */
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBaselineRelay } from '../../bench/baseline-relay.js';
import { CAB_NAMESPACE, SOCKET_EVENTS } from '../../protocol/relay-protocol.js';

const fakeJwt = (data: object) => `e30.${Buffer.from(JSON.stringify({ data })).toString('base64url')}.sig`;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('baseline relay', () => {
  it('delivers a scan and a payment to the cab in seq order, and refuses a scan for an offline cab', async () => {
    const server = await buildBaselineRelay({ port: 0 });
    closers.push(() => server.close());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const tablet = io(new URL(CAB_NAMESPACE, server.url).toString(), {
      transports: ['websocket'],
      forceNew: true,
      auth: { cabId: 'cab-7', token: 'x'.repeat(16), lastSeq: 0 },
    });
    closers.push(() => void tablet.disconnect());
    const events: { seq: number; type: string; data: Record<string, unknown> }[] = [];
    tablet.on(SOCKET_EVENTS.relayEvent, (e: (typeof events)[number], ack: (a: unknown) => void) => {
      events.push(e);
      ack({ ok: true, value: { applied: true } });
    });
    await new Promise<void>((resolve) => tablet.once('connect', () => resolve()));

    const post = (path: string, data: object) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jwt: fakeJwt(data) }) });
    const scan = await post('/webhooks/hips/qr', { request_type: 'start_qr_session', session_id: 's-1', qr_code: 'qr-cab-7', allow_tip: true });
    expect(scan.status).toBe(200);
    expect(await scan.json()).toEqual({ status: 'stored', seq: 1 });
    const paid = await post('/webhooks/hips/orders', {
      event: 'payment.successful',
      resource: { merchant_order_id: 'cab-7.ride-1', order_id: 'o-1', currency: 'SEK', order_amount: 100, tip_amount: 10, amount: 110 },
    });
    expect(await paid.json()).toEqual({ status: 'stored', seq: 2 });
    await expect.poll(() => events.length).toBe(2);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'qr.session.started'],
      [2, 'order.paid'],
    ]);
    expect(events[0]!.data).toMatchObject({ sessionId: 's-1' });
    expect(events[1]!.data).toMatchObject({ merchantOrderId: 'cab-7.ride-1', totalAmount: 110 });

    const offline = await post('/webhooks/hips/qr', { request_type: 'start_qr_session', session_id: 's-2', qr_code: 'qr-cab-8' });
    expect(offline.status).toBe(412);
  });
});
