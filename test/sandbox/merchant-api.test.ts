import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, orderBody, scan, startReceiver, testSandbox, waitFor, type Receiver } from './helpers.js';

let sb: Sandbox;
let relay: Receiver;
beforeEach(async () => {
  relay = await startReceiver();
  sb = await testSandbox({ merchantKey: 'sk_test_fleet_key_0001' });
});
afterEach(async () => {
  await sb.close();
  await relay.close();
});

describe('QR codes', () => {
  it('creates an offline QR whose PNG decodes to the QR data URL, then connects it', async () => {
    const created = await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: { qr_code: 'CAB-7' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      qr_code: 'CAB-7',
      status: 'offline',
      allow_tip: false,
      qr_start_webhook_url: null,
      asynchronous: false,
      qr_data: `${sb.url}/qr/${sb.merchantId}/CAB-7`,
    });
    expect(typeof created.body.code_token).toBe('string');
    expect(typeof created.body.mapped_to_sales_channel_id).toBe('string');

    const png = PNG.sync.read(Buffer.from(created.body.qr_code_b64_png, 'base64'));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(created.body.qr_data);

    const offlineScan = await call(sb.url, 'POST', '/sandbox/scan', { body: { qr_data: created.body.qr_data } });
    expect(offlineScan.status).toBe(409);
    expect(offlineScan.body.error.message).toMatch(/not connected/);

    const connected = await call(sb.url, 'PATCH', `/v2/qrs/${created.body.code_token}`, {
      auth: `Basic ${Buffer.from(`${sb.merchantKey}:`).toString('base64')}`,
      body: { qr_start_webhook_url: `${relay.url}/qr`, allow_tip: true, order_timeout_seconds: 600, payment_timeout_seconds: 900 },
    });
    expect(connected.status).toBe(200);
    expect(connected.body).toMatchObject({ status: 'online', allow_tip: true, order_timeout_seconds: 600, payment_timeout_seconds: 900 });
    const read = await call(sb.url, 'GET', `/v2/qrs/${created.body.code_token}`, { auth: `Bearer ${sb.merchantKey}` });
    expect(read.body).toMatchObject({ status: 'online', qr_start_webhook_url: `${relay.url}/qr` });
  });

  it('refuses a duplicate qr_code, a bad code, a bad key and an unknown token', async () => {
    await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: { qr_code: 'CAB-8' } });
    expect((await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: { qr_code: 'CAB-8' } })).status).toBe(409);
    expect((await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: { qr_code: 'has space' } })).status).toBe(400);
    const badKey = await call(sb.url, 'POST', '/v2/qrs', { auth: 'sk_wrong', body: {} });
    expect(badKey.status).toBe(401);
    expect(badKey.body).toEqual({ error: { type: 'authentication_error', message: expect.stringMatching(/Authorization/) } });
    expect((await call(sb.url, 'GET', '/v2/qrs/nope', { auth: sb.merchantKey })).status).toBe(404);
    const online = await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: { status: 'online' } });
    expect(online.status).toBe(400);
  });

  it('redirects the QR data URL to the phone page and carries dynamic data into the start hook', async () => {
    const qr = await connectedQr(sb, relay, { dynamic: { table: '7', waiter: 2 } });
    expect(qr.qr_data).toContain('?dynamic=');
    const opened = await call(sb.url, 'GET', new URL(qr.qr_data).pathname + new URL(qr.qr_data).search);
    expect(opened.status).toBe(302);
    const location = opened.headers.get('location')!;
    expect(location.startsWith('/pay?qr=')).toBe(true);
    expect(new URLSearchParams(location.slice('/pay'.length)).get('qr')).toBe(qr.qr_data);

    await scan(sb, qr.qr_data);
    expect(relay.received[0]!.body.dynamic).toEqual({ table: '7', waiter: 2 });
    // Hips's self-generated form <merchant>/<code> also scans.
    const raw = await scan(sb, `${sb.merchantId}/${qr.qr_code}`);
    expect(raw.state).toBe('waiting_for_order');
    const other = await call(sb.url, 'POST', '/sandbox/scan', { body: { qr_data: `MOTHER/${qr.qr_code}` } });
    expect(other.status).toBe(404);
  });
});

describe('orders after payment', () => {
  async function paidOrder(tip: number) {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const created = await call(sb.url, 'POST', '/v2/orders', {
      auth: sb.merchantKey,
      body: orderBody(s.session_id, relay, { fulfill: false }),
    });
    await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: tip } });
    return created.body.id as string;
  }

  it('fulfills a paid order and refuses to fulfill an unpaid one', async () => {
    const id = await paidOrder(0);
    const hook = await waitFor('paid hook', () => relay.received.find((h) => h.body.event === 'payment.successful'));
    expect(hook.body.resource.order_status).toBe('unfulfilled');
    const fulfilled = await call(sb.url, 'PATCH', `/v2/orders/${id}/fulfill`, { auth: sb.merchantKey });
    expect(fulfilled.body.fulfillment_status).toBe('fulfilled');

    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const unpaid = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    expect((await call(sb.url, 'PATCH', `/v2/orders/${unpaid.body.id}/fulfill`, { auth: sb.merchantKey })).status).toBe(409);
  });

  it('refunds partly then fully, and the ledger reconciles', async () => {
    const id = await paidOrder(2_000); // 26 000 + 2 000
    const partial = await call(sb.url, 'PATCH', `/v2/orders/${id}/revoke`, {
      auth: sb.merchantKey,
      headers: { 'idempotency-key': 'refund-1' },
      body: { amount: 5_000 },
    });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ status: 'partially_refunded', refunded_amount: 5_000 });
    const replay = await call(sb.url, 'PATCH', `/v2/orders/${id}/revoke`, {
      auth: sb.merchantKey,
      headers: { 'idempotency-key': 'refund-1' },
      body: { amount: 5_000 },
    });
    expect(replay.body).toEqual(partial.body);

    const tooMuch = await call(sb.url, 'PATCH', `/v2/orders/${id}/revoke`, { auth: sb.merchantKey, body: { amount: 23_001 } });
    expect(tooMuch.status).toBe(400);
    const rest = await call(sb.url, 'PATCH', `/v2/orders/${id}/revoke`, { auth: sb.merchantKey });
    expect(rest.body).toMatchObject({ status: 'refunded', refunded_amount: 28_000 });
    expect((await call(sb.url, 'PATCH', `/v2/orders/${id}/revoke`, { auth: sb.merchantKey })).status).toBe(409);

    const ledger = (await call(sb.url, 'GET', '/sandbox/ledger')).body;
    expect(ledger.payments).toEqual([expect.objectContaining({ order_id: id, status: 'successful', order_amount: 26_000, tip_amount: 2_000, amount: 28_000 })]);
    expect(ledger.refunds.map((r: { amount: number }) => r.amount)).toEqual([5_000, 23_000]);
    expect(ledger.totals.SEK).toEqual({ charged: 28_000, tips: 2_000, refunded: 28_000, net: 0 });
    expect(ledger.orders[0]).toMatchObject({ id, merchant_order_id: expect.stringMatching(/^CAB-7\./), amount: 28_000 });
    expect(ledger.webhooks.map((w: { event: string; status: string }) => [w.event, w.status])).toEqual([
      ['start_qr_session', 'delivered'],
      ['payment.successful', 'delivered'],
    ]);
  });

  it('cancels an unpaid order on revoke without amount', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const created = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    expect((await call(sb.url, 'PATCH', `/v2/orders/${created.body.id}/revoke`, { auth: sb.merchantKey, body: { amount: 1 } })).status).toBe(400);
    const revoked = await call(sb.url, 'PATCH', `/v2/orders/${created.body.id}/revoke`, { auth: sb.merchantKey });
    expect(revoked.body.status).toBe('revoked');
    const session = await call(sb.url, 'GET', `/sandbox/sessions/${s.session_id}`);
    expect(session.body.state).toBe('canceled');
    expect((await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 0 } })).status).toBe(409);
  });

  it('does not accept a one-time key on merchant endpoints', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const key = relay.received[0]!.body.one_time_order_api_key as string;
    const created = await call(sb.url, 'POST', '/v2/orders', { auth: `Bearer ${key}`, body: orderBody(s.session_id, relay) });
    expect(created.status).toBe(201);
    expect((await call(sb.url, 'GET', `/v2/orders/${created.body.id}`, { auth: `Bearer ${key}` })).status).toBe(401);
  });
});
