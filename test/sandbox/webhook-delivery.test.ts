import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, orderBody, scan, startReceiver, testSandbox, waitFor, type Receiver } from './helpers.js';

let sb: Sandbox | undefined;
let relay: Receiver | undefined;
afterEach(async () => {
  await sb?.close();
  await relay?.close();
});

const ledgerHook = async (event: string) => ((await call(sb!.url, 'GET', '/sandbox/ledger')).body.webhooks as any[]).find((w) => w.event === event);

describe('webhook delivery', () => {
  it('retries a failing receiver: fails twice, then 200 — 3 attempts with the same idempotency key', async () => {
    relay = await startReceiver((_hook, i) => ({ status: i < 2 ? 500 : 200 }));
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    expect(s.state).toBe('waiting_for_order'); // the first attempt failed; retries go on

    const delivered = await waitFor('delivery', async () => {
      const w = await ledgerHook('start_qr_session');
      return w?.status === 'delivered' && w;
    });
    expect(relay.received).toHaveLength(3);
    const keys = new Set(relay.received.map((h) => h.body.idempotency_key));
    expect(keys.size).toBe(1);
    expect(delivered).toMatchObject({ attempts: 3, last_status_code: 200, url: `${relay.url}/qr` });
    expect(relay.received[1]!.at - relay.received[0]!.at).toBeGreaterThanOrEqual(45);
  });

  it('accepts only 200 and 201: a 204 or a redirect is retried', async () => {
    relay = await startReceiver((_hook, i) => (i === 0 ? { status: 204 } : i === 1 ? { status: 307 } : { status: 201 }));
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    await scan(sb, qr.qr_data);
    const w = await waitFor('delivered', async () => {
      const hook = await ledgerHook('start_qr_session');
      return hook?.status === 'delivered' && hook;
    });
    expect(w).toMatchObject({ attempts: 3, last_status_code: 201 });
    expect(relay.received).toHaveLength(3);
  });

  it('gives up after 3 attempts and tells the payer the merchant was unreachable', async () => {
    relay = await startReceiver(() => ({ status: 503 }));
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const session = await waitFor('session ends', async () => {
      const res = await call(sb!.url, 'GET', `/sandbox/sessions/${s.session_id}`);
      return res.body.state !== 'waiting_for_order' && res.body;
    });
    expect(session.state).toBe('down');
    expect(session.down_response_text).toMatch(/could not be reached/);
    expect(relay.received).toHaveLength(3);
    expect(await ledgerHook('start_qr_session')).toMatchObject({ status: 'failed', attempts: 3, last_status_code: 503 });
  });

  it('counts no reply within the attempt timeout as a failure and retries', async () => {
    relay = await startReceiver((_hook, i) => (i === 0 ? { status: 200, delayMs: 1500 } : { status: 201 }));
    sb = await testSandbox({ webhook: { attemptTimeoutMs: 300 } });
    const qr = await connectedQr(sb, relay);
    await scan(sb, qr.qr_data);
    const w = await waitFor('delivered', async () => {
      const hook = await ledgerHook('start_qr_session');
      return hook?.status === 'delivered' && hook;
    });
    expect(w.attempts).toBe(2);
    expect(relay.received).toHaveLength(2);
    expect(relay.received[0]!.body.idempotency_key).toBe(relay.received[1]!.body.idempotency_key);
  });

  it("ends the session as down on 412 and shows the merchant's down_response_text; no retry", async () => {
    relay = await startReceiver(() => ({ status: 412, body: { down_response_text: 'Taxi 7 tar inte QR-betalning just nu.' } }));
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    expect(s).toMatchObject({ state: 'down', down_response_text: 'Taxi 7 tar inte QR-betalning just nu.' });
    const session = await call(sb.url, 'GET', `/sandbox/sessions/${s.session_id}`);
    expect(session.body).toMatchObject({ state: 'down', down_response_text: 'Taxi 7 tar inte QR-betalning just nu.' });
    await new Promise((r) => setTimeout(r, 300));
    expect(relay.received).toHaveLength(1);
    expect(await ledgerHook('start_qr_session')).toMatchObject({ status: 'down', attempts: 1, last_status_code: 412 });

    const order = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    expect(order.status).toBe(409);
  });

  it('sends canceled (before the order) and payment.failed (after it) when the payer cancels', async () => {
    relay = await startReceiver();
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    const early = await scan(sb, qr.qr_data);
    const canceled = await call(sb.url, 'POST', `/sandbox/sessions/${early.session_id}/cancel`, { body: {} });
    expect(canceled.body.state).toBe('canceled');
    const hook = await waitFor('canceled hook', () => relay!.received.find((h) => h.body.request_type === 'canceled'));
    expect(hook.body.session_id).toBe(early.session_id);
    expect(hook.body.one_time_order_api_key).toBeUndefined();
    expect((await call(sb.url, 'POST', `/sandbox/sessions/${early.session_id}/cancel`, { body: {} })).status).toBe(409);

    const late = await scan(sb, qr.qr_data);
    const created = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(late.session_id, relay) });
    await call(sb.url, 'POST', `/sandbox/sessions/${late.session_id}/cancel`, { body: {} });
    const failed = await waitFor('payment.failed', () => relay!.received.find((h) => h.body.event === 'payment.failed'));
    expect(failed.body.resource).toMatchObject({ id: created.body.id, status: 'failed', reason: 'canceled_by_payer', amount: 0 });
  });

  it('sends payment.failed for a declined payment', async () => {
    relay = await startReceiver();
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    const res = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 0, outcome: 'decline' } });
    expect(res.body.state).toBe('failed');
    const hook = await waitFor('payment.failed', () => relay!.received.find((h) => h.body.event === 'payment.failed'));
    expect(hook.body.resource).toMatchObject({ status: 'failed', reason: 'payment_declined', order_status: 'failed' });
    const ledger = (await call(sb.url, 'GET', '/sandbox/ledger')).body;
    expect(ledger.payments).toEqual([expect.objectContaining({ status: 'failed', amount: 0 })]);
  });
});
