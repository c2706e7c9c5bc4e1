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

const fault = (body: unknown) => call(sb.url, 'POST', '/sandbox/faults', { body });

describe('faults', () => {
  it('validates fault requests and adds them up; DELETE clears', async () => {
    expect((await fault({ failWebhooks: -1 })).status).toBe(400);
    const unknown = await fault({ failWebhook: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/failWebhook/);
    await fault({ failWebhooks: 1 });
    const added = await fault({ failWebhooks: 2, createOrder503: 1 });
    expect(added.body).toMatchObject({ failWebhooks: 3, createOrder503: 1 });
    const cleared = await call(sb.url, 'DELETE', '/sandbox/faults');
    expect(cleared.body).toMatchObject({ failWebhooks: 0, createOrder503: 0 });
  });

  it('failWebhooks: the next n attempts fail without being sent, then delivery succeeds', async () => {
    const qr = await connectedQr(sb, relay);
    await fault({ failWebhooks: 2 });
    await scan(sb, qr.qr_data);
    await waitFor('delivered', () => relay.received.length === 1);
    const hook = (await call(sb.url, 'GET', '/sandbox/ledger')).body.webhooks[0];
    expect(hook).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('duplicateWebhooks: the hook arrives twice with the same idempotency key', async () => {
    const qr = await connectedQr(sb, relay);
    await fault({ duplicateWebhooks: 1 });
    await scan(sb, qr.qr_data);
    await waitFor('duplicate', () => relay.received.length === 2);
    expect(relay.received[0]!.body.idempotency_key).toBe(relay.received[1]!.body.idempotency_key);
    expect(relay.received[0]!.body.session_id).toBe(relay.received[1]!.body.session_id);
    await waitFor('recorded', async () => (await call(sb.url, 'GET', '/sandbox/ledger')).body.webhooks[0].duplicates === 1);
    // Used up: the next hook is sent once.
    await scan(sb, qr.qr_data);
    await new Promise((r) => setTimeout(r, 200));
    expect(relay.received).toHaveLength(3);
  });

  it('reorderWebhooks: the held hook is sent after the next one', async () => {
    const qr = await connectedQr(sb, relay);
    await fault({ reorderWebhooks: true });
    const first = await scan(sb, qr.qr_data);
    expect(relay.received).toHaveLength(0);
    const second = await scan(sb, qr.qr_data);
    await waitFor('both', () => relay.received.length === 2);
    expect(relay.received.map((h) => h.body.session_id)).toEqual([second.session_id, first.session_id]);
  });

  it('webhookDelayMs delays each attempt', async () => {
    const qr = await connectedQr(sb, relay);
    await fault({ webhookDelayMs: 300 });
    const before = Date.now();
    await scan(sb, qr.qr_data);
    expect(relay.received).toHaveLength(1);
    expect(relay.received[0]!.at - before).toBeGreaterThanOrEqual(290);
  });

  it('createOrder503 and createOrder429: the next calls fail, a retry with the same key creates one order', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    await fault({ createOrder503: 1, createOrder429: 1 });
    const req = { auth: sb.merchantKey, headers: { 'idempotency-key': 'ride-503' }, body: orderBody(s.session_id, relay) };
    const unavailable = await call(sb.url, 'POST', '/v2/orders', req);
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.type).toBe('service_unavailable_error');
    const limited = await call(sb.url, 'POST', '/v2/orders', req);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await call(sb.url, 'POST', '/v2/orders', req)).status).toBe(201);
    expect((await call(sb.url, 'GET', '/sandbox/ledger')).body.orders).toHaveLength(1);
  });

  it('createOrderTimeout (process): the late call still creates the order; the client retry gets it with 200', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    await fault({ createOrderTimeout: 1, createOrderHangMs: 800 });
    const req = { auth: sb.merchantKey, headers: { 'idempotency-key': 'ride-slow' }, body: orderBody(s.session_id, relay) };
    const gaveUp = await fetch(`${sb.url}/v2/orders`, {
      method: 'POST',
      headers: { authorization: sb.merchantKey, 'content-type': 'application/json', 'idempotency-key': 'ride-slow' },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(200),
    }).catch((err: Error) => err);
    expect(gaveUp).toBeInstanceOf(Error);
    await waitFor('order created late', async () => (await call(sb.url, 'GET', '/sandbox/ledger')).body.orders.length === 1);
    const retry = await call(sb.url, 'POST', '/v2/orders', req);
    expect(retry.status).toBe(200);
    expect(retry.body.qr_session_id).toBe(s.session_id);
  });

  it('createOrderTimeout (drop): the connection closes and nothing is created', async () => {
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    await fault({ createOrderTimeout: 1, createOrderHangMs: 100, createOrderAfterHang: 'drop' });
    const req = { auth: sb.merchantKey, headers: { 'idempotency-key': 'ride-drop' }, body: orderBody(s.session_id, relay) };
    await expect(call(sb.url, 'POST', '/v2/orders', req)).rejects.toThrow();
    expect((await call(sb.url, 'GET', '/sandbox/ledger')).body.orders).toHaveLength(0);
    expect((await call(sb.url, 'POST', '/v2/orders', req)).status).toBe(201);
  });
});
