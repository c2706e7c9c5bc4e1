/**
 * HitPay end to end over loopback: a relay (port 0, temp db) configured with the HitPay sandbox,
 * a socket.io tablet, the sandbox's payer, and its signed webhooks back to the relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { legacySignature, bodySignature } from '../../backend-relay/psp/hitpay-hmac.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { admin, connectTablet, makeSigner, startInProcess, tempDir, until, waitForConnect, type TestTablet } from './helpers.js';

let sb: Sandbox;
let relay: Awaited<ReturnType<typeof startInProcess>>;
let tablet: TestTablet;
const CAB = 'cab-sg-1';

async function control(method: string, path: string, json?: unknown) {
  const res = await fetch(sb.url + path, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function ledger() {
  return (await control('GET', '/sandbox/hitpay/ledger')).body;
}

function paymentRequest(rideId: string, attempt = 1, orderAmount = 1100, tipAmount = 150) {
  return {
    psp: 'hitpay',
    rideId,
    attempt,
    orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: orderAmount, vatRate: 9 }],
    orderAmount,
    tipAmount,
    currency: 'SGD',
  };
}

function send(payload: unknown): Promise<any> {
  return tablet.socket.timeout(15_000).emitWithAck('payment.request', payload);
}

async function eventOf<T extends RelayEvent['type']>(type: T, match: (e: Extract<RelayEvent, { type: T }>) => boolean) {
  let found: Extract<RelayEvent, { type: T }> | undefined;
  await until(() => {
    found = tablet.applied.find((e): e is Extract<RelayEvent, { type: T }> => e.type === type && match(e as Extract<RelayEvent, { type: T }>));
    return found !== undefined;
  }, `${type} on the tablet`);
  return found!;
}

async function qrFor(rideId: string, attempt = 1) {
  return eventOf('payment.qr', (e) => e.data.rideId === rideId && e.data.attempt === attempt);
}

async function postHook(body: string, headers: Record<string, string>) {
  const res = await fetch(`${relay.url}/webhooks/hitpay`, { method: 'POST', headers, body });
  return res.status;
}

beforeAll(async () => {
  sb = await testSandbox();
  const dir = tempDir('cabpay-hitpay-flow-');
  relay = await startInProcess(dir, await makeSigner(dir), {
    hitpay: { baseUrl: sb.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
  });
  const added = await admin(relay.url, 'PUT', `/admin/cabs/${CAB}`, { psp: 'hitpay', qrCodes: [], plate: 'SHA 1234 X', label: 'Taxi SG 1' });
  expect(added.status).toBe(201);
  tablet = connectTablet(relay.url, CAB, added.body.deviceToken);
  await waitForConnect(tablet);
});

afterAll(async () => {
  tablet?.close();
  await relay?.app.close();
  await sb?.close();
});

describe('HitPay through the relay', () => {
  it('payment.request → payment.qr → the passenger pays → order.paid with the amounts', async () => {
    const rideId = uuidv7();
    const requestsBefore = (await ledger()).payment_requests.length;
    const ack = await send(paymentRequest(rideId));
    expect(ack).toMatchObject({ ok: true, value: { pspReference: expect.any(String) } });

    const qr = await qrFor(rideId);
    expect(qr.data).toMatchObject({ rideId, attempt: 1, amount: 1250, currency: 'SGD', paymentRequestId: ack.value.pspReference });
    expect(qr.data.qrData).toContain(ack.value.pspReference);

    // The same attempt again is the same answer, and HitPay holds one request for it.
    expect(await send(paymentRequest(rideId))).toEqual(ack);
    const rows = (await ledger()).payment_requests as any[];
    expect(rows).toHaveLength(requestsBefore + 1);
    expect(rows.find((r) => r.id === ack.value.pspReference)).toMatchObject({
      amount_minor: 1250,
      currency: 'SGD',
      status: 'pending',
      webhook: `${relay.url}/webhooks/hitpay`,
    });

    const paid = await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`);
    expect(paid.status).toBe(200);
    const event = await eventOf('order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(event.data).toEqual({
      merchantOrderId: `${CAB}.${rideId}`,
      pspOrderId: paid.body.payment_id,
      currency: 'SGD',
      orderAmount: 1100,
      tipAmount: 150,
      totalAmount: 1250,
    });
  });

  it('refund.request refunds part of a paid ride at HitPay, refuses an over-refund, and logs order.refunded', async () => {
    const rideId = uuidv7();
    const ack = await send(paymentRequest(rideId));
    await qrFor(rideId);
    const paid = await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`);
    const order = await eventOf('order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    const refund = (refundId: string, amount: number) =>
      tablet.socket.timeout(15_000).emitWithAck('refund.request', {
        refundId,
        rideId,
        merchantOrderId: order.data.merchantOrderId,
        psp: 'hitpay',
        pspOrderId: order.data.pspOrderId,
        amount,
        currency: 'SGD',
        reason: 'detour',
        requestedBy: 'driver',
        requestedAt: new Date().toISOString(),
      });

    const refundId = uuidv7();
    expect(await refund(refundId, 300)).toEqual({ ok: true, value: { refundedAmount: 300 } });
    const refunded = await eventOf('order.refunded', (e) => e.data.refundId === refundId);
    expect(refunded.data).toMatchObject({ merchantOrderId: order.data.merchantOrderId, amount: 300, currency: 'SGD' });

    const over = await refund(uuidv7(), 1000);
    expect(over).toMatchObject({ ok: false, error: { code: 'exceeds_refundable' } });

    const payment = ((await ledger()).payments as any[]).find((x) => x.id === paid.body.payment_id);
    expect(payment.refunded_minor).toBe(300);
  });

  it('refuses forged and tampered hooks in both styles (401) and delivers nothing', async () => {
    const rideId = uuidv7();
    const ack = await send(paymentRequest(rideId));
    await qrFor(rideId);
    const before = tablet.applied.length;
    const fields = {
      payment_id: uuidv7(),
      payment_request_id: ack.value.pspReference,
      phone: '',
      amount: '12.50',
      currency: 'SGD',
      status: 'completed',
      reference_number: 'whatever',
    };
    const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const json = JSON.stringify({
      id: ack.value.pspReference,
      status: 'completed',
      amount: '12.50',
      currency: 'sgd',
      payments: [{ id: fields.payment_id, status: 'succeeded' }],
    });
    const jsonHeaders = { 'content-type': 'application/json', 'hitpay-event-object': 'payment_request' };

    expect(await postHook(form({ ...fields, hmac: legacySignature(fields, 'not-the-salt') }), formHeaders)).toBe(401);
    expect(await postHook(form({ ...fields, hmac: legacySignature(fields, HITPAY_DEMO_SALT), amount: '0.50' }), formHeaders)).toBe(401);
    expect(await postHook(form(fields), formHeaders)).toBe(401);
    expect(await postHook(json, jsonHeaders)).toBe(401);
    expect(await postHook(json, { ...jsonHeaders, 'hitpay-signature': bodySignature(json, 'not-the-salt') })).toBe(401);
    expect(await postHook(json.replace('12.50', '0.50'), { ...jsonHeaders, 'hitpay-signature': bodySignature(json, HITPAY_DEMO_SALT) })).toBe(401);

    // Nothing was applied: the request is still payable, and paying it now works.
    expect(tablet.applied.length).toBe(before);
    const paid = await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`);
    expect(paid.status).toBe(200);
    const event = await eventOf('order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(event.data.pspOrderId).toBe(paid.body.payment_id);
  });

  it('answers a hook that reports another amount with order.failed amount_mismatch', async () => {
    await control('POST', '/sandbox/hitpay/faults', { tamperWebhookAmount: 1, tamperAmountMinor: -100 });
    const rideId = uuidv7();
    const ack = await send(paymentRequest(rideId));
    await qrFor(rideId);
    expect((await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`)).status).toBe(200);
    const failed = await eventOf('order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(failed.data).toMatchObject({ code: 'amount_mismatch', attempt: 1 });
    expect(tablet.applied.some((e) => e.type === 'order.paid' && e.data.merchantOrderId === `${CAB}.${rideId}`)).toBe(false);
  });

  it('a declined PayNow payment is order.failed payment_rejected', async () => {
    const rideId = uuidv7();
    const ack = await send(paymentRequest(rideId));
    await qrFor(rideId);
    expect((await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/fail`)).status).toBe(200);
    const failed = await eventOf('order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(failed.data).toMatchObject({ code: 'payment_rejected', attempt: 1 });
  });

  it('a payment reported in both hook styles is paid once', async () => {
    expect((await control('POST', '/sandbox/hitpay/config', { webhookStyle: 'both' })).status).toBe(200);
    try {
      const rideId = uuidv7();
      const ack = await send(paymentRequest(rideId, 1, 2000, 400));
      await qrFor(rideId);
      expect((await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`)).status).toBe(200);
      await until(async () => {
        const hooks = ((await ledger()).webhooks as any[]).filter((w) => w.payment_request_id === ack.value.pspReference);
        return hooks.length === 2 && hooks.every((w) => w.status === 'delivered');
      }, 'both hooks delivered');
      const paid = tablet.applied.filter((e) => e.type === 'order.paid' && e.data.merchantOrderId === `${CAB}.${rideId}`);
      expect(paid).toHaveLength(1);
      expect(paid[0]!.data).toMatchObject({ orderAmount: 2000, tipAmount: 400, totalAmount: 2400 });
    } finally {
      await control('POST', '/sandbox/hitpay/config', { webhookStyle: 'legacy' });
    }
  });

  it('an expired QR is canceled at HitPay and failed with payment_expired; attempt 2 gets a fresh QR and is paid', async () => {
    const rideId = uuidv7();
    const first = await send(paymentRequest(rideId, 1));
    const qr1 = await qrFor(rideId, 1);
    // The sweep as it runs once the QR's expiresAt has passed (the TTL is 600 s here).
    await relay.app.payments.sweep(new Date(Date.parse(qr1.data.expiresAt) + 1000));
    const expired = await eventOf('order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(expired.data).toMatchObject({ code: 'payment_expired', attempt: 1 });
    expect(((await ledger()).payment_requests as any[]).find((r) => r.id === first.value.pspReference)?.status).toBe('canceled');

    const second = await send(paymentRequest(rideId, 2));
    expect(second.ok).toBe(true);
    const qr2 = await qrFor(rideId, 2);
    expect(qr2.data.paymentRequestId).toBe(second.value.pspReference);
    expect(qr2.data.qrData).not.toBe(qr1.data.qrData);
    const paid = await control('POST', `/sandbox/hitpay/payment-requests/${second.value.pspReference}/pay`);
    expect(paid.status).toBe(200);
    const event = await eventOf('order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(event.data).toMatchObject({ pspOrderId: paid.body.payment_id, totalAmount: 1250 });
  });

  it('attempt 2 gets a fresh QR and attempt 1 is canceled at HitPay', async () => {
    const rideId = uuidv7();
    const first = await send(paymentRequest(rideId, 1));
    await qrFor(rideId, 1);
    const second = await send(paymentRequest(rideId, 2));
    expect(second.ok).toBe(true);
    expect(second.value.pspReference).not.toBe(first.value.pspReference);
    const qr2 = await qrFor(rideId, 2);
    expect(qr2.data.paymentRequestId).toBe(second.value.pspReference);

    const rows = (await ledger()).payment_requests as any[];
    expect(rows.find((r) => r.id === first.value.pspReference)?.status).toBe('canceled');
    expect(rows.find((r) => r.id === second.value.pspReference)?.status).toBe('pending');
    // The canceled QR can no longer be paid.
    expect((await control('POST', `/sandbox/hitpay/payment-requests/${first.value.pspReference}/pay`)).status).toBe(409);
  });
});
