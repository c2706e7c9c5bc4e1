/**
 * HitPay (PayNow dynamic QR) end to end with every real part on loopback: the kiosk
 * core shows the QR the relay made at the sandbox, the passenger pays it through the sandbox,
 * and the signed webhook comes back through the relay. Amounts are checked on the sandbox
 * ledger (minor units and HitPay's major-unit text) and on the kiosk's snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentReference } from '../../backend-relay/payments/reference.js';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import { startPspStack, type PspKiosk, type PspStack } from '../helpers/psp-stack.js';

let stack: PspStack;

beforeAll(async () => {
  stack = await startPspStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function ledger() {
  const res = await stack.sandboxCall('GET', '/sandbox/hitpay/ledger');
  expect(res.status).toBe(200);
  return res.body as { payment_requests: any[]; payments: any[] };
}

/** The HitPay payment requests made for one attempt of a ride (by the reference the relay gives them). */
async function requestsFor(kiosk: PspKiosk, rideId: string, attempt: number) {
  const reference = paymentReference(kiosk.cabId, rideId, attempt);
  return (await ledger()).payment_requests.filter((r) => r.reference_number === reference);
}

/** The QR on the tablet opens the sandbox's pay page: `<sandbox>/hitpay/paynow/<payment request id>`. */
function paymentRequestId(snapshot: KioskSnapshot): string {
  const qr = snapshot.ride?.paymentQr;
  if (!qr) throw new Error(`no payment QR on the kiosk: ${JSON.stringify(snapshot.ride)}`);
  const match = /\/hitpay\/paynow\/([^/?#]+)$/.exec(qr.qrData);
  if (!match) throw new Error(`the QR ${qr.qrData} is not a sandbox PayNow link`);
  return match[1]!;
}

async function qrShown(kiosk: PspKiosk, notQrData?: string): Promise<KioskSnapshot> {
  return kiosk.waitFor((s) => s.ride?.paymentQr != null && s.ride.paymentQr.qrData !== notQrData, 'a payment QR on the kiosk');
}

async function endedRide(kiosk: PspKiosk, fare: number): Promise<string> {
  await kiosk.must({ name: 'startRide' });
  await kiosk.must({ name: 'setFare', amountMinor: fare });
  await kiosk.must({ name: 'endRide' });
  const ride = kiosk.core.getState().ride!;
  expect(ride).toMatchObject({ state: 'ended', orderAmount: fare, tipAmount: null, paymentQr: null, currency: 'SGD' });
  return ride.rideId;
}

async function pay(id: string) {
  const res = await stack.sandboxCall('POST', `/sandbox/hitpay/payment-requests/${id}/pay`);
  expect(res.status).toBe(200);
  return res.body as { payment_id: string };
}

async function paidOnKiosk(kiosk: PspKiosk, rideId: string): Promise<KioskSnapshot> {
  return kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', `ride ${rideId} paid on the kiosk`);
}

async function paidEvents(kiosk: PspKiosk, rideId: string) {
  return (await kiosk.relayEvents('order.paid')).filter((e) => (e.data as { merchantOrderId: string }).merchantOrderId === `${kiosk.cabId}.${rideId}`);
}

describe('HitPay: kiosk core + relay + sandbox', () => {
  it('a paid ride with a tip: the QR in the snapshot is paid at the sandbox for fare + tip', async () => {
    const kiosk = await stack.addKiosk('hitpay');
    expect(kiosk.core.getState().cab).toMatchObject({ qrContent: null, capabilities: { dynamicQr: true, tipOnTablet: true, needsScanSession: false } });
    const rideId = await endedRide(kiosk, 2_000);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 300 });
    const shown = await qrShown(kiosk);
    expect(shown.ride).toMatchObject({ state: 'awaiting_payment', tipAmount: 300, paymentQr: { amount: 2_300, currency: 'SGD' } });
    const id = paymentRequestId(shown);
    const [request] = await requestsFor(kiosk, rideId, 1);
    expect(request).toMatchObject({ id, amount_minor: 2_300, amount: '23.00', currency: 'SGD', status: 'pending' });

    const { payment_id } = await pay(id);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({
      rideId,
      method: 'psp',
      pspOrderId: payment_id,
      orderAmount: 2_000,
      tipAmount: 300,
      totalAmount: 2_300,
      currency: 'SGD',
    });
    expect(paid.recentPayments[0]).toMatchObject({ rideId, totalAmount: 2_300, refundableAmount: 2_300 });
    const payment = (await ledger()).payments.find((p) => p.id === payment_id);
    expect(payment).toMatchObject({ payment_request_id: id, status: 'succeeded', amount_minor: 2_300, amount: '23.00', currency: 'SGD' });
    expect(await paidEvents(kiosk, rideId)).toHaveLength(1);
  });

  it('an expired QR: the ride fails payment_expired, retryPayment shows attempt 2, attempt 1 is canceled at HitPay, attempt 2 is paid', async () => {
    const kiosk = await stack.addKiosk('hitpay');
    const rideId = await endedRide(kiosk, 1_500);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 150 });
    const first = await qrShown(kiosk);
    const firstId = paymentRequestId(first);
    // The relay's sweep as it runs once the QR's expiresAt has passed (the TTL is 600 s here).
    await stack.relay.payments.sweep(new Date(Date.parse(first.ride!.paymentQr!.expiresAt) + 1_000));
    const failed = await kiosk.waitFor((s) => s.ride?.state === 'failed', 'the ride failed');
    expect(failed.ride?.failure?.code).toBe('payment_expired');
    expect((await requestsFor(kiosk, rideId, 1)).map((r) => [r.id, r.status])).toEqual([[firstId, 'canceled']]);

    await kiosk.must({ name: 'retryPayment' });
    const second = await qrShown(kiosk, first.ride!.paymentQr!.qrData);
    const secondId = paymentRequestId(second);
    expect(secondId).not.toBe(firstId);
    expect(second.ride).toMatchObject({ state: 'awaiting_payment', failure: null, tipAmount: 150, paymentQr: { amount: 1_650 } });
    expect((await requestsFor(kiosk, rideId, 2)).map((r) => [r.id, r.status, r.amount_minor])).toEqual([[secondId, 'pending', 1_650]]);
    // The expired QR can no longer be paid.
    expect((await stack.sandboxCall('POST', `/sandbox/hitpay/payment-requests/${firstId}/pay`)).status).toBe(409);

    const { payment_id } = await pay(secondId);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ pspOrderId: payment_id, orderAmount: 1_500, tipAmount: 150, totalAmount: 1_650 });
    expect((await ledger()).payments.filter((p) => p.payment_request_id === firstId || p.payment_request_id === secondId).map((p) => p.amount_minor)).toEqual([
      1_650,
    ]);
    const qrs = (await kiosk.relayEvents('payment.qr')).map((e) => (e.data as { attempt: number }).attempt);
    expect(qrs).toEqual([1, 2]);
    expect(await paidEvents(kiosk, rideId)).toHaveLength(1);
  });

  it('a failed payment: payment_rejected, then New QR (retryPayment) and paid', async () => {
    const kiosk = await stack.addKiosk('hitpay');
    const rideId = await endedRide(kiosk, 3_000);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 0 });
    const first = await qrShown(kiosk);
    const firstId = paymentRequestId(first);
    expect((await stack.sandboxCall('POST', `/sandbox/hitpay/payment-requests/${firstId}/fail`)).status).toBe(200);
    const failed = await kiosk.waitFor((s) => s.ride?.state === 'failed', 'the ride failed');
    expect(failed.ride?.failure?.code).toBe('payment_rejected');
    expect(failed.payment).toBeNull();

    await kiosk.must({ name: 'retryPayment' });
    const second = await qrShown(kiosk, first.ride!.paymentQr!.qrData);
    expect(second.ride?.paymentQr).toMatchObject({ amount: 3_000, currency: 'SGD' });
    const { payment_id } = await pay(paymentRequestId(second));
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ pspOrderId: payment_id, orderAmount: 3_000, tipAmount: 0, totalAmount: 3_000 });
    const payments = (await ledger()).payments.filter((p) => [firstId, paymentRequestId(second)].includes(p.payment_request_id));
    expect(payments.map((p) => [p.status, p.amount_minor])).toEqual([
      ['failed', 3_000],
      ['succeeded', 3_000],
    ]);
    expect(await paidEvents(kiosk, rideId)).toHaveLength(1);
  });

  it('a webhook reporting another amount is refused: the ride is not paid, it fails amount_mismatch', async () => {
    const kiosk = await stack.addKiosk('hitpay');
    const rideId = await endedRide(kiosk, 2_500);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 250 });
    const shown = await qrShown(kiosk);
    const id = paymentRequestId(shown);
    expect((await stack.sandboxCall('POST', '/sandbox/hitpay/faults', { tamperWebhookAmount: 1, tamperAmountMinor: -100 })).status).toBe(200);
    try {
      const { payment_id } = await pay(id);
      const failed = await kiosk.waitFor((s) => s.ride?.state === 'failed', 'the ride failed');
      expect(failed.ride?.failure?.code).toBe('amount_mismatch');
      expect(failed.payment).toBeNull();
      expect(failed.recentPayments.some((p) => p.rideId === rideId)).toBe(false);
      // HitPay took the full amount; the hook said 1.00 less and was not believed.
      expect((await ledger()).payments.find((p) => p.id === payment_id)).toMatchObject({ amount_minor: 2_750, status: 'succeeded' });
      expect(await paidEvents(kiosk, rideId)).toHaveLength(0);
      const failures = (await kiosk.relayEvents('order.failed')).map((e) => e.data);
      expect(failures).toEqual([expect.objectContaining({ merchantOrderId: `${kiosk.cabId}.${rideId}`, code: 'amount_mismatch', attempt: 1 })]);
    } finally {
      await stack.sandboxCall('DELETE', '/sandbox/hitpay/faults');
    }
  });

  it('the tablet offline at ride end: the request waits in the outbox, the QR comes on reconnect, paid once', async () => {
    const kiosk = await stack.addKiosk('hitpay');
    await kiosk.must({ name: 'startRide' });
    await kiosk.must({ name: 'setFare', amountMinor: 4_200 });
    kiosk.setOffline(true);
    await kiosk.waitFor((s) => s.connectivity.relay === 'offline', 'the kiosk offline');
    await kiosk.must({ name: 'endRide' });
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 420 });
    const queued = kiosk.core.getState();
    expect(queued.ride).toMatchObject({ state: 'awaiting_payment', order: 'queued', tipAmount: 420, paymentQr: null });
    expect(queued.outboxDepth).toBe(1);
    const rideId = queued.ride!.rideId;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await requestsFor(kiosk, rideId, 1)).toEqual([]);

    kiosk.setOffline(false);
    // payment.qr may arrive before the request's ack: wait for both.
    const shown = await kiosk.waitFor(
      (s) => s.ride?.paymentQr != null && s.ride.order === 'created' && s.outboxDepth === 0,
      'the QR after reconnecting',
      45_000,
    );
    expect(shown.ride?.paymentQr).toMatchObject({ amount: 4_620, currency: 'SGD' });
    const { payment_id } = await pay(paymentRequestId(shown));
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ pspOrderId: payment_id, orderAmount: 4_200, tipAmount: 420, totalAmount: 4_620 });
    // One payment request at HitPay for this ride, one payment, one order.paid.
    expect((await requestsFor(kiosk, rideId, 1)).map((r) => [r.status, r.amount_minor])).toEqual([['completed', 4_620]]);
    expect(await requestsFor(kiosk, rideId, 2)).toEqual([]);
    expect((await ledger()).payments.filter((p) => p.id === payment_id).map((p) => p.amount)).toEqual(['46.20']);
    expect(await paidEvents(kiosk, rideId)).toHaveLength(1);
  });
});
