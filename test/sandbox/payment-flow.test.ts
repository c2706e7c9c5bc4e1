import { importSPKI, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hipsOrderHookData, hipsQrHookData } from '../../protocol/hips.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, oneTimeKey, orderBody, scan, startReceiver, testSandbox, waitFor, type Receiver } from './helpers.js';

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

describe('the Hips taxi flow against the sandbox', () => {
  it('scan → start hook → order with the one-time key → pay with tip → signed payment.successful', async () => {
    const qr = await connectedQr(sb, relay);
    const started = await scan(sb, qr.qr_data);
    expect(started.state).toBe('waiting_for_order');

    const startHook = relay.received[0]!;
    expect(startHook.path).toBe('/qr');
    const qrData = hipsQrHookData.parse(startHook.body);
    expect(qrData).toMatchObject({ request_type: 'start_qr_session', session_id: started.session_id, qr_code: qr.qr_code, allow_tip: true });

    const key = oneTimeKey(relay, started.session_id);
    const created = await call(sb.url, 'POST', '/v2/orders', {
      auth: `Bearer ${key}`,
      headers: { 'idempotency-key': 'ride-1' },
      body: orderBody(started.session_id, relay),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', order_amount: 26_000, purchase_currency: 'SEK', qr_session_id: started.session_id });

    const session = await call(sb.url, 'GET', `/sandbox/sessions/${started.session_id}`);
    expect(session.body.state).toBe('awaiting_payment');
    expect(session.body.order).toMatchObject({ id: created.body.id, order_amount: 26_000, max_tip: 5_200, currency: 'SEK' });
    expect(session.body.order.items).toHaveLength(2);

    const paid = await call(sb.url, 'POST', `/sandbox/sessions/${started.session_id}/pay`, { body: { tip_amount: 2_600 } });
    expect(paid.status).toBe(200);
    expect(paid.body.state).toBe('paid');

    const orderHook = await waitFor('payment hook', () => relay.received.find((h) => h.path === '/orders'));
    const publicKey = await importSPKI((await call(sb.url, 'GET', '/sandbox/public-key.pem')).body, 'RS256');
    const { payload, protectedHeader } = await jwtVerify(orderHook.body.jwt, publicKey, { issuer: 'hips.com' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp! - payload.iat!).toBe(3600);
    const data = hipsOrderHookData.parse(payload.data);
    const { jwt: _jwt, ...bodyWithoutJwt } = orderHook.body;
    expect(payload.data).toEqual(bodyWithoutJwt);
    expect(data.event).toBe('payment.successful');
    expect(data.resource).toMatchObject({
      id: created.body.id,
      order_id: created.body.id,
      merchant_order_id: created.body.order_id,
      status: 'successful',
      currency: 'SEK',
      order_amount: 26_000,
      tip_amount: 2_600,
      amount: 28_600,
      order_status: 'fulfilled',
    });

    const order = await call(sb.url, 'GET', `/v2/orders/${created.body.id}`, { auth: sb.merchantKey });
    expect(order.body).toMatchObject({ status: 'successful', amount: 28_600, tip_amount: 2_600, fulfillment_status: 'fulfilled' });
  });

  it('signs the QR start hook too, and a tampered token fails verification', async () => {
    const qr = await connectedQr(sb, relay);
    await scan(sb, qr.qr_data);
    const hook = relay.received[0]!;
    const publicKey = await importSPKI(sb.publicKeyPem, 'RS256');
    const { payload } = await jwtVerify(hook.body.jwt, publicKey, { issuer: 'hips.com' });
    expect((payload.data as { session_id: string }).session_id).toBe(hook.body.session_id);

    const [header, claims, signature] = (hook.body.jwt as string).split('.');
    const forged = JSON.parse(Buffer.from(claims!, 'base64url').toString());
    forged.data.qr_code = 'SOMEONE-ELSE';
    const tampered = [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    await expect(jwtVerify(tampered, publicKey, { issuer: 'hips.com' })).rejects.toThrow();
  });

  it('caps the tip at exactly 20% of the order amount', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    // 26 001 öre: the cap is floor(26001 * 0.2) = 5200.
    const body = orderBody(s.session_id, relay, {
      cart: { items: [{ name: 'Fare', quantity: 1, unit_price: 26_001, vat_amount: 1_472, type: 'service' }] },
    });
    expect((await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body })).status).toBe(201);

    const over = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 5_201 } });
    expect(over.status).toBe(400);
    expect(over.body.error.type).toBe('invalid_request_error');
    expect(over.body.error.message).toContain('5200');

    const exact = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 5_200 } });
    expect(exact.status).toBe(200);
    expect(exact.body.order).toMatchObject({ tip_amount: 5_200, amount: 31_201 });
  });

  it('refuses any tip when the QR does not allow tips', async () => {
    const qr = await connectedQr(sb, relay, { allow_tip: false });
    const s = await scan(sb, qr.qr_data);
    expect(relay.received[0]!.body.allow_tip).toBe(false);
    await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    const tipped = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 1 } });
    expect(tipped.status).toBe(400);
    expect(tipped.body.error.message).toMatch(/does not allow tips/);
    const plain = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 0 } });
    expect(plain.body.state).toBe('paid');
  });
});

describe('create-order rules', () => {
  it('answers a replayed Idempotency-Key with 200 and the same body, and a changed body with 422', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const body = orderBody(s.session_id, relay);
    const headers = { 'idempotency-key': '01J0RIDE' };
    const first = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, headers, body });
    const again = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, headers, body });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const changed = await call(sb.url, 'POST', '/v2/orders', {
      auth: sb.merchantKey,
      headers,
      body: { ...body, order_id: 'CAB-7.other' },
    });
    expect(changed.status).toBe(422);
    expect(changed.body.error).toMatchObject({ type: 'idempotency_error' });
    expect(changed.body.error.message).toMatch(/different request body/);

    const ledger = await call(sb.url, 'GET', '/sandbox/ledger');
    expect(ledger.body.orders).toHaveLength(1);
  });

  it("binds the one-time key to its own session: another session's key answers 401", async () => {
    const qr = await connectedQr(sb, relay);
    const a = await scan(sb, qr.qr_data);
    const b = await scan(sb, qr.qr_data);
    const keyA = oneTimeKey(relay, a.session_id);
    const res = await call(sb.url, 'POST', '/v2/orders', { auth: `Bearer ${keyA}`, body: orderBody(b.session_id, relay) });
    expect(res.status).toBe(401);
    expect(res.body.error.type).toBe('authentication_error');
    expect((await call(sb.url, 'GET', `/sandbox/sessions/${b.session_id}`)).body.state).toBe('waiting_for_order');
  });

  it('answers 409 for a session that is not waiting for an order, 404 for an unknown one, 401 for a bad key', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    expect((await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) })).status).toBe(201);
    const second = await call(sb.url, 'POST', '/v2/orders', {
      auth: sb.merchantKey,
      body: orderBody(s.session_id, relay, { order_id: 'CAB-7.second' }),
    });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toMatch(/awaiting_payment, not waiting_for_order/);

    const unknown = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody('no-such-session', relay) });
    expect(unknown.status).toBe(404);

    const badKey = await call(sb.url, 'POST', '/v2/orders', { auth: 'Bearer otk_nope', body: orderBody(s.session_id, relay) });
    expect(badKey.status).toBe(401);
    const noKey = await call(sb.url, 'POST', '/v2/orders', { body: orderBody(s.session_id, relay) });
    expect(noKey.status).toBe(401);
  });

  it('answers 400 naming the bad field for invalid data', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    const res = await call(sb.url, 'POST', '/v2/orders', {
      auth: sb.merchantKey,
      body: orderBody(s.session_id, relay, { purchase_currency: 'sek', cart: { items: [] } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    expect(res.body.error.message).toContain('purchase_currency');
    expect(res.body.error.message).toContain('cart.items');

    const notJson = await fetch(`${sb.url}/v2/orders`, {
      method: 'POST',
      headers: { authorization: sb.merchantKey, 'content-type': 'application/json' },
      body: '{"order_id":',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});
