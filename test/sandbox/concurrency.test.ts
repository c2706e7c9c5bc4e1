import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, orderBody, scan, startReceiver, testSandbox, waitFor, type Receiver } from './helpers.js';

let sb: Sandbox;
let relay: Receiver;
beforeEach(async () => {
  relay = await startReceiver();
  sb = await testSandbox();
});
afterEach(async () => {
  await sb.close();
  await relay.close();
});

describe('racing requests', () => {
  it('creates one order when the same Idempotency-Key arrives 5 times at once', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const req = { auth: sb.merchantKey, headers: { 'idempotency-key': 'race-1' }, body: orderBody(s.session_id, relay) };
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(sb.url, 'POST', '/v2/orders', req)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await call(sb.url, 'GET', '/sandbox/ledger')).body.orders).toHaveLength(1);
  });

  it('charges once when the payer taps Pay twice', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    const taps = await Promise.all([1, 2, 3].map(() => call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 100 } })));
    expect(taps.map((t) => t.status).sort()).toEqual([200, 409, 409]);
    await waitFor('hook', () => relay.received.some((h) => h.body.event === 'payment.successful'));
    const ledger = (await call(sb.url, 'GET', '/sandbox/ledger')).body;
    expect(ledger.payments).toHaveLength(1);
    expect(ledger.webhooks.filter((w: { event: string }) => w.event === 'payment.successful')).toHaveLength(1);
  });

  it("lets either the payer's cancel or the merchant's order win, never both", async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const [order, cancel] = await Promise.all([
      call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) }),
      call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/cancel`, { body: {} }),
    ]);
    expect(cancel.status).toBe(200);
    const state = (await call(sb.url, 'GET', `/sandbox/sessions/${s.session_id}`)).body.state;
    expect(state).toBe('canceled');
    if (order.status === 201) {
      // The order came first: the cancel failed it with payment.failed.
      await waitFor('payment.failed', () => relay.received.some((h) => h.body.event === 'payment.failed'));
    } else {
      expect(order.status).toBe(409);
      await waitFor('canceled', () => relay.received.some((h) => h.body.request_type === 'canceled'));
    }
  });
});
