/**
 * Vipps MobilePay end to end with every real part on loopback: the kiosk core, the
 * relay and the sandbox's passenger app. The kiosk is driven by its commands, the passenger by
 * the sandbox's check-in and approve/reject endpoints; amounts are checked on both the sandbox
 * ledger and the kiosk's snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentReference } from '../../backend-relay/payments/reference.js';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import { eventually, startPspStack, type PspKiosk, type PspStack } from '../helpers/psp-stack.js';

let stack: PspStack;

beforeAll(async () => {
  stack = await startPspStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** The passenger scans the cab's QR in the app; resolves once the kiosk holds the new check-in. */
async function checkIn(kiosk: PspKiosk): Promise<{ token: string; sessionId: string }> {
  const before = kiosk.core.getState().session?.sessionId ?? null;
  const res = await stack.sandboxCall('POST', '/sandbox/vipps/checkin', { qrContent: kiosk.qrContent });
  expect(res.status).toBe(200);
  const shown = await kiosk.waitFor((s) => s.session !== null && s.session.sessionId !== before, 'the check-in on the kiosk');
  expect(shown.session).toMatchObject({ psp: 'vipps' });
  return { token: res.body.customerToken as string, sessionId: shown.session!.sessionId };
}

/** What the passenger's app shows for that check-in: the pushed payments. */
async function pushes(token: string): Promise<{ reference: string; state: string; amount: { value: number; currency: string } }[]> {
  const res = await stack.sandboxCall('GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(token)}`);
  expect(res.status).toBe(200);
  return res.body.payments;
}

async function pushed(token: string, reference: string) {
  return eventually(
    async () => (await pushes(token)).find((p) => p.reference === reference && p.state === 'CREATED'),
    `payment ${reference} pushed to the app`,
  );
}

async function ledgerPayment(reference: string) {
  const res = await stack.sandboxCall('GET', '/sandbox/vipps/ledger');
  return (res.body.payments as any[]).find((p) => p.reference === reference);
}

/** Start, fare + a toll, end: the ride waits for the tip (and, until scanned, the check-in). */
async function endedRide(kiosk: PspKiosk, fare: number, toll: number): Promise<string> {
  await kiosk.must({ name: 'startRide' });
  await kiosk.must({ name: 'setFare', amountMinor: fare });
  await kiosk.must({ name: 'addExtra', extra: { kind: 'toll', amountMinor: toll } });
  await kiosk.must({ name: 'endRide' });
  const ride = kiosk.core.getState().ride!;
  expect(ride).toMatchObject({ state: 'ended', orderAmount: fare + toll, tipAmount: null, order: 'none', currency: 'NOK' });
  return ride.rideId;
}

async function paidOnKiosk(kiosk: PspKiosk, rideId: string): Promise<KioskSnapshot> {
  return kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', `ride ${rideId} paid on the kiosk`);
}

/** The relay stored order.paid once for this ride and the kiosk acked it (no backlog left). */
async function expectPaidOnce(kiosk: PspKiosk, rideId: string) {
  const paid = (await kiosk.relayEvents('order.paid')).filter((e) => (e.data as { merchantOrderId: string }).merchantOrderId === `${kiosk.cabId}.${rideId}`);
  expect(paid).toHaveLength(1);
  await eventually(async () => ((await stack.relay.store.backlogByCab()).get(kiosk.cabId) ?? 0) === 0, 'every event acked by the kiosk');
  return paid[0]!.data as { pspOrderId: string; orderAmount: number; tipAmount: number; totalAmount: number };
}

describe('Vipps MobilePay: kiosk core + relay + sandbox', () => {
  it('check-in → ride → tip on the tablet → push → approve → capture → paid, order.paid delivered once', async () => {
    const kiosk = await stack.addKiosk('vipps');
    expect(kiosk.core.getState().cab.capabilities).toMatchObject({ tipOnTablet: true, needsScanSession: true, relayMakesPayment: true });
    const { token, sessionId } = await checkIn(kiosk);
    expect(kiosk.core.getState().session).toMatchObject({ sessionId, state: 'ready' });

    const rideId = await endedRide(kiosk, 30_000, 2_000);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 3_200 });
    await kiosk.waitFor((s) => s.ride?.order === 'created', 'the payment request held by the relay');
    const reference = paymentReference(kiosk.cabId, rideId, 1);
    const push = await pushed(token, reference);
    expect(push.amount).toEqual({ value: 35_200, currency: 'NOK' });
    expect(kiosk.core.getState().session).toMatchObject({ sessionId, state: 'in_use' });

    expect((await stack.sandboxCall('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({
      rideId,
      method: 'psp',
      pspOrderId: reference,
      orderAmount: 32_000,
      tipAmount: 3_200,
      totalAmount: 35_200,
      currency: 'NOK',
    });
    expect(paid.recentPayments[0]).toMatchObject({ rideId, totalAmount: 35_200, refundedAmount: 0, refundableAmount: 35_200 });

    await eventually(async () => (await ledgerPayment(reference))?.captured === 35_200, 'the capture at Vipps');
    expect(await ledgerPayment(reference)).toMatchObject({
      state: 'AUTHORIZED',
      amount: 35_200,
      authorized: 35_200,
      captured: 35_200,
      refunded: 0,
      currency: 'NOK',
    });
    expect(await expectPaidOnce(kiosk, rideId)).toMatchObject({ pspOrderId: reference, orderAmount: 32_000, tipAmount: 3_200, totalAmount: 35_200 });
  });

  it('a rejected payment fails the ride with payment_rejected; retryPayment sends attempt 2, which is paid', async () => {
    const kiosk = await stack.addKiosk('vipps');
    const rideId = await endedRide(kiosk, 20_000, 1_000);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 2_100 });
    // Tip first, then the scan: the payment goes out as soon as the check-in arrives.
    const { token } = await checkIn(kiosk);
    const first = paymentReference(kiosk.cabId, rideId, 1);
    await pushed(token, first);
    expect((await stack.sandboxCall('POST', `/sandbox/vipps/payments/${first}/reject`)).status).toBe(200);
    const failed = await kiosk.waitFor((s) => s.ride?.state === 'failed', 'the ride failed');
    expect(failed.ride?.failure?.code).toBe('payment_rejected');
    expect(failed.payment).toBeNull();

    // The check-in is still valid: the retry goes to the same app, with the same tip.
    await kiosk.must({ name: 'retryPayment' });
    const second = paymentReference(kiosk.cabId, rideId, 2);
    const push = await pushed(token, second);
    expect(push.amount).toEqual({ value: 23_100, currency: 'NOK' });
    expect((await stack.sandboxCall('POST', `/sandbox/vipps/payments/${second}/approve`)).status).toBe(200);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ pspOrderId: second, orderAmount: 21_000, tipAmount: 2_100, totalAmount: 23_100 });

    await eventually(async () => (await ledgerPayment(second))?.captured === 23_100, 'the capture of attempt 2');
    expect(await ledgerPayment(first)).toMatchObject({ state: 'ABORTED', captured: 0 });
    const paidEvent = await expectPaidOnce(kiosk, rideId);
    expect(paidEvent.totalAmount).toBe(23_100);
    const failures = (await kiosk.relayEvents('order.failed')).map((e) => e.data);
    expect(failures).toEqual([expect.objectContaining({ code: 'payment_rejected', attempt: 1 })]);
  });

  it('an expired customer token fails with customer_token_expired; a rescan sends the payment again and it is paid', async () => {
    const kiosk = await stack.addKiosk('vipps');
    const old = await checkIn(kiosk);
    expect((await stack.sandboxCall('POST', `/sandbox/vipps/tokens/${encodeURIComponent(old.token)}/expire`)).status).toBe(200);
    const rideId = await endedRide(kiosk, 15_000, 500);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 0 });
    const failed = await kiosk.waitFor((s) => s.ride?.state === 'failed', 'the ride failed');
    expect(failed.ride?.failure?.code).toBe('customer_token_expired');
    // The relay refused the dead token in its ack: the check-in ends on the tablet too.
    const ended = await kiosk.waitFor((s) => s.session?.state === 'expired', 'the dead check-in shown as expired');
    expect(ended.session?.sessionId).toBe(failed.session?.sessionId);
    // That check-in is over: a retry without a new scan is refused by the core.
    expect(await kiosk.core.execute({ name: 'retryPayment' })).toMatchObject({ ok: false, error: { code: 'scan_needed' } });
    expect(await pushes(old.token)).toEqual([]);

    const fresh = await checkIn(kiosk);
    const reference = paymentReference(kiosk.cabId, rideId, 2);
    const push = await pushed(fresh.token, reference);
    expect(push.amount).toEqual({ value: 15_500, currency: 'NOK' });
    expect((await stack.sandboxCall('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ pspOrderId: reference, orderAmount: 15_500, tipAmount: 0, totalAmount: 15_500 });
    await eventually(async () => (await ledgerPayment(reference))?.captured === 15_500, 'the capture at Vipps');
    // Attempt 1 never reached Vipps: the token was refused before a payment was made.
    expect(await ledgerPayment(paymentReference(kiosk.cabId, rideId, 1))).toBeUndefined();
    await expectPaidOnce(kiosk, rideId);
  });

  it('the tablet offline at ride end: payment.request waits in the outbox, goes out on reconnect, paid once', async () => {
    const kiosk = await stack.addKiosk('vipps');
    const { token } = await checkIn(kiosk);
    await kiosk.must({ name: 'startRide' });
    await kiosk.must({ name: 'setFare', amountMinor: 40_000 });
    kiosk.setOffline(true);
    await kiosk.waitFor((s) => s.connectivity.relay === 'offline', 'the kiosk offline');

    await kiosk.must({ name: 'endRide' });
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: 4_000 });
    const queued = kiosk.core.getState();
    expect(queued.ride).toMatchObject({ state: 'awaiting_payment', order: 'queued', tipAmount: 4_000 });
    expect(queued.outboxDepth).toBe(1);
    const rideId = queued.ride!.rideId;
    const reference = paymentReference(kiosk.cabId, rideId, 1);
    // Give the outbox a few backoff rounds against the cut connection: nothing reaches Vipps.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await pushes(token)).toEqual([]);
    expect(await ledgerPayment(reference)).toBeUndefined();

    kiosk.setOffline(false);
    await kiosk.waitFor((s) => s.ride?.order === 'created', 'the payment request sent after reconnecting', 45_000);
    expect(kiosk.core.getState().outboxDepth).toBe(0);
    await pushed(token, reference);
    expect((await stack.sandboxCall('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    const paid = await paidOnKiosk(kiosk, rideId);
    expect(paid.payment).toMatchObject({ orderAmount: 40_000, tipAmount: 4_000, totalAmount: 44_000 });
    await eventually(async () => (await ledgerPayment(reference))?.captured === 44_000, 'the capture at Vipps');
    // Exactly one payment for this passenger at Vipps, and one order.paid.
    expect((await pushes(token)).map((p) => p.reference)).toEqual([reference]);
    await expectPaidOnce(kiosk, rideId);
  });
});
