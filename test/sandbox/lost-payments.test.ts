/**
 * The lost-payment fault (`dropPaymentWebhooks`, `dropPaymentWebhooksPercent`) for all three
 * PSPs: every webhook of a picked payment is dropped and marked so in the ledger, while the PSP's
 * own record (its GET endpoint) still says how the payment ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LostPayments } from '../../backend-relay/sandbox/lost-payments.js';
import { call, connectedQr, oneTimeKey, orderBody, scan, startReceiver, testSandbox, waitFor } from './helpers.js';
import { ctl, hp, ledgerWhen, paynowForm, rawReceiver } from './hitpay-helpers.js';
import { req, startHookServer, vippsSandbox } from './vipps-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('LostPayments', () => {
  it('picks the next n payments, then each with the given chance; a pick holds for all its hooks', () => {
    const draws = [0.5, 0.05, 0.5];
    const lost = new LostPayments(() => draws.shift() ?? 0.99);
    lost.add({ dropPaymentWebhooks: 1 });
    expect(lost.drops('a')).toBe(true);
    expect(lost.drops('b')).toBe(false); // count used up, no percent yet
    lost.add({ dropPaymentWebhooksPercent: 10 });
    expect(lost.drops('c')).toBe(false); // draw 50 ≥ 10
    expect(lost.drops('d')).toBe(true); // draw 5 < 10
    expect(lost.drops('a')).toBe(true);
    expect(lost.drops('b')).toBe(false);
    expect(lost.drops(null)).toBe(false);
    lost.clear();
    expect(lost.drops('e')).toBe(false);
    expect(lost.drops('d')).toBe(true); // picked before the clear: stays lost
    expect(lost.snapshot()).toEqual({ dropPaymentWebhooks: 0, dropPaymentWebhooksPercent: 0, droppedPayments: 2 });
  });
});

describe('dropPaymentWebhooks', () => {
  it('Hips: a picked order sends no hook; GET /v2/orders still shows it paid; the next order is unaffected', async () => {
    const relay = await startReceiver();
    cleanups.push(() => relay.close());
    const sb = await testSandbox();
    cleanups.push(() => sb.close());
    const bad = await call(sb.url, 'POST', '/sandbox/faults', { body: { dropPaymentWebhooksPercent: 101 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/dropPaymentWebhooksPercent/);
    const set = await call(sb.url, 'POST', '/sandbox/faults', { body: { dropPaymentWebhooks: 1 } });
    expect(set.body).toMatchObject({ dropPaymentWebhooks: 1 });
    const qr = await connectedQr(sb, relay);

    const payOne = async () => {
      const s = await scan(sb, qr.qr_data);
      const order = await call(sb.url, 'POST', '/v2/orders', { auth: `Bearer ${oneTimeKey(relay, s.session_id)}`, body: orderBody(s.session_id, relay) });
      expect(order.status).toBe(201);
      expect((await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 100 } })).status).toBe(200);
      return order.body.id as string;
    };
    const lostOrder = await payOne();
    const keptOrder = await payOne();

    await waitFor('the second order hook', () => relay.received.some((h) => h.path === '/orders' && h.body.resource.id === keptOrder));
    const ledger = (await call(sb.url, 'GET', '/sandbox/ledger')).body;
    const hooksOf = (id: string) => ledger.webhooks.filter((w: any) => w.order_id === id);
    expect(hooksOf(lostOrder)).toEqual([expect.objectContaining({ event: 'payment.successful', status: 'dropped', attempts: 0 })]);
    expect(hooksOf(keptOrder)).toEqual([expect.objectContaining({ status: 'delivered' })]);
    expect(relay.received.filter((h) => h.path === '/orders' && h.body.resource.id === lostOrder)).toEqual([]);
    const truth = await call(sb.url, 'GET', `/v2/orders/${lostOrder}`, { auth: sb.merchantKey });
    expect(truth.body).toMatchObject({ id: lostOrder, status: 'successful', tip_amount: 100 });
    expect((await call(sb.url, 'GET', '/sandbox/faults')).body).toMatchObject({ dropPaymentWebhooks: 0, droppedPayments: 1 });
  });

  it('Vipps: every ePayment hook of a picked payment is dropped; GET /epayment/v1/payments/{reference} has the state', async () => {
    const v = await vippsSandbox();
    cleanups.push(() => v.sandbox.close());
    const hooks = await startHookServer();
    cleanups.push(() => hooks.close());
    const events = ['user.checked-in.v1', 'epayments.payment.created.v1', 'epayments.payment.authorized.v1'];
    expect((await v.api('POST', '/webhooks/v1/webhooks', { url: hooks.url, events })).status).toBe(201);
    await v.api('PUT', '/qr/v1/merchant-callback/cab-lost', { locationDescription: 'Taxi LO 1' });
    const qr = (await v.api('GET', '/qr/v1/merchant-callback/cab-lost')).body;
    await req(v.base, 'POST', '/sandbox/vipps/faults', { body: { dropPaymentWebhooks: 1 } });

    const pay = async (reference: string) => {
      const token = (await req(v.base, 'POST', '/sandbox/vipps/checkin', { body: { qrContent: qr.qrContent } })).body.customerToken as string;
      const body = {
        amount: { value: 25_000, currency: 'NOK' },
        paymentMethod: { type: 'WALLET' },
        customer: { customerToken: token },
        customerInteraction: 'CUSTOMER_PRESENT',
        reference,
        userFlow: 'PUSH_MESSAGE',
      };
      expect((await v.api('POST', '/epayment/v1/payments', body, { 'Idempotency-Key': reference })).status).toBe(201);
      expect((await req(v.base, 'POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    };
    await pay('cab-lost-ride-1');
    await pay('cab-lost-ride-2');
    await waitFor('the second payment authorized', () => hooks.received.some((h) => h.body.reference === 'cab-lost-ride-2' && h.body.name === 'AUTHORIZED'));

    expect(hooks.received.filter((h) => h.body.reference === 'cab-lost-ride-1')).toEqual([]);
    const ledger = (await req(v.base, 'GET', '/sandbox/vipps/ledger')).body;
    const statuses = (reference: string) => ledger.webhooks.filter((w: any) => w.body?.reference === reference).map((w: any) => w.status);
    expect(statuses('cab-lost-ride-1')).toEqual(['dropped', 'dropped']);
    expect(statuses('cab-lost-ride-2')).toEqual(['delivered', 'delivered']);
    expect((await v.api('GET', '/epayment/v1/payments/cab-lost-ride-1')).body).toMatchObject({ state: 'AUTHORIZED', reference: 'cab-lost-ride-1' });
  });

  it('HitPay: a picked payment request sends no hook; GET /v1/payment-requests/{id} says completed', async () => {
    const sb = await testSandbox();
    cleanups.push(() => sb.close());
    const receiver = await rawReceiver();
    cleanups.push(() => receiver.close());
    expect((await ctl(sb.url, 'POST', '/sandbox/hitpay/faults', { dropPaymentWebhooks: 1 })).status).toBe(200);

    const payOne = async () => {
      const created = await hp(sb.url, 'POST', '/v1/payment-requests', { form: paynowForm(receiver.url) });
      expect(created.status).toBe(201);
      expect((await ctl(sb.url, 'POST', `/sandbox/hitpay/payment-requests/${created.body.id}/pay`)).status).toBe(200);
      return created.body.id as string;
    };
    const lostId = await payOne();
    const keptId = await payOne();
    await receiver.waitFor(1);
    const ledger = await ledgerWhen(sb.url, (l) => l.webhooks.length === 2 && l.webhooks.every((w: any) => w.status !== 'pending'));
    const byRequest = Object.fromEntries(ledger.webhooks.map((w: any) => [w.payment_request_id, w.status]));
    expect(byRequest).toEqual({ [lostId]: 'dropped', [keptId]: 'delivered' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.raw).toContain(keptId);
    expect((await hp(sb.url, 'GET', `/v1/payment-requests/${lostId}`)).body).toMatchObject({ id: lostId, status: 'completed' });
  });
});
