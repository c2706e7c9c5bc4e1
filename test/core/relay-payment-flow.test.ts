/**
 * The real core (createKioskCore, temp dataDir) for a PSP whose calls the relay makes (HitPay:
 * tip on the tablet, dynamic QR, no scan session), against a loopback Socket.IO relay speaking
 * the /cab protocol: payment.request and refund.request acked, events pushed with acks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { KioskConfig } from '../../electron/core/config.js';
import { hashPin } from '../../electron/core/pin.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { quietLogger, TestRelay, testConfig, waitFor, waitForState } from './helpers.js';
import { paynowQr } from './paynow.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PIN = '2468';

async function startRelay(port = 0): Promise<TestRelay> {
  const relay = await new TestRelay().start(port);
  cleanups.push(() => relay.stop());
  return relay;
}

function hitpayConfig(relay: TestRelay): KioskConfig {
  return testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'hitpay', currency: 'SGD', qrContent: null });
}

async function startCore(config: KioskConfig): Promise<KioskCore> {
  const core = createKioskCore(config, {
    logger: quietLogger,
    random: () => 0.5,
    backoff: { baseMs: 20, capMs: 200 },
    driver: { driverPinHash: hashPin(PIN) },
  });
  cleanups.push(() => core.stop());
  await core.start();
  return core;
}

async function must(core: KioskCore, command: Parameters<KioskCore['execute']>[0]): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.message}`);
}

/** Start, fare, end: the ride waits for the passenger's tip. */
async function endedRide(core: KioskCore, fare: number): Promise<string> {
  await must(core, { name: 'startRide' });
  await must(core, { name: 'setFare', amountMinor: fare });
  await must(core, { name: 'endRide' });
  const ride = core.getState().ride!;
  expect(ride).toMatchObject({ state: 'ended', tipAmount: null, order: 'none' });
  return ride.rideId;
}

const payments = (relay: TestRelay) => relay.requests.filter((r) => r.event === 'payment.request');

describe('kiosk core with a relay-made payment (HitPay)', () => {
  it('tip on the tablet → payment.request attempt 1 → payment.qr shown → order.paid with the tip → refund round trip', async () => {
    const relay = await startRelay();
    const core = await startCore(hitpayConfig(relay));
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    expect(core.getState().cab.capabilities).toEqual(PSP_CAPABILITIES.hitpay);

    const rideId = await endedRide(core, 2_000);
    await must(core, { name: 'chooseTip', tipAmountMinor: 200 });
    await waitFor(() => payments(relay).length === 1, 5_000, 'payment.request');
    expect(payments(relay)[0]!.payload).toEqual({
      psp: 'hitpay',
      rideId,
      attempt: 1,
      orderLines: [{ id: 'fare', kind: 'fare', label: 'Taxi fare', amount: 2_000, vatRate: 6 }],
      orderAmount: 2_000,
      tipAmount: 200,
      currency: 'SGD',
    });
    await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'payment request held by the relay');

    const expiresAt = new Date(Date.now() + 300_000).toISOString();
    const qrData = paynowQr(2_200);
    relay.push('payment.qr', { rideId, attempt: 1, paymentRequestId: 'pr-1', qrData, amount: 2_200, currency: 'SGD', expiresAt });
    const shown = await waitForState(core, (s) => s.ride?.paymentQr !== null, 5_000, 'payment QR');
    expect(shown.ride).toMatchObject({ state: 'awaiting_payment', tipAmount: 200, paymentQr: { qrData, amount: 2_200, currency: 'SGD', expiresAt } });
    // A QR of another attempt is acked without effect.
    relay.push('payment.qr', { rideId, attempt: 7, qrData: 'stale', amount: 2_200, currency: 'SGD', expiresAt });
    await waitFor(() => relay.acks.find((a) => a.seq === 2), 5_000, 'ack of the stale QR');
    expect(relay.acks.find((a) => a.seq === 2)!.answer).toEqual({ ok: true, value: { applied: false } });
    expect(core.getState().ride?.paymentQr?.qrData).toBe(qrData);

    const merchantOrderId = `CAB-7.${rideId}`;
    relay.push('order.paid', { merchantOrderId, pspOrderId: 'hp-pay-1', currency: 'SGD', orderAmount: 2_000, tipAmount: 200, totalAmount: 2_200 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    expect(paid.payment).toMatchObject({ rideId, method: 'psp', orderAmount: 2_000, tipAmount: 200, totalAmount: 2_200, currency: 'SGD' });
    expect(paid.recentPayments[0]).toMatchObject({ rideId, merchantOrderId, refundedAmount: 0, refundableAmount: 2_200, refund: null });

    // Refunds only behind the PIN.
    expect(await core.execute({ name: 'refundRide', rideId, amountMinor: 500 })).toMatchObject({ ok: false, error: { code: 'settings_locked' } });
    await must(core, { name: 'unlockSettings', pin: PIN });
    expect(await core.execute({ name: 'refundRide', rideId, amountMinor: 2_201 })).toMatchObject({ ok: false, error: { code: 'refund_too_large' } });
    await must(core, { name: 'refundRide', rideId, amountMinor: 500, reason: 'Detour' });
    const refunds = () => relay.requests.filter((r) => r.event === 'refund.request');
    await waitFor(() => refunds().length === 1, 5_000, 'refund.request');
    const request = refunds()[0]!.payload;
    expect(request).toMatchObject({
      rideId,
      merchantOrderId,
      psp: 'hitpay',
      pspOrderId: 'hp-pay-1',
      amount: 500,
      currency: 'SGD',
      reason: 'Detour',
      requestedBy: 'driver',
    });
    expect(typeof request.refundId).toBe('string');
    expect(Number.isNaN(Date.parse(String(request.requestedAt)))).toBe(false);
    const refunded = await waitForState(core, (s) => s.recentPayments[0]?.refund?.state === 'refunded', 5_000, 'refund acked');
    expect(refunded.recentPayments[0]).toMatchObject({ refundedAmount: 500, refundableAmount: 1_700, refund: { refundId: request.refundId, amount: 500 } });

    // The relay's own order.refunded for that refund is acked but not counted twice.
    relay.push('order.refunded', { merchantOrderId, amount: 500, currency: 'SGD', refundId: String(request.refundId) });
    await waitFor(() => relay.acks.find((a) => a.seq === 4), 5_000, 'ack of order.refunded');
    expect(relay.acks.find((a) => a.seq === 4)!.answer).toEqual({ ok: true, value: { applied: false } });
    expect(core.getState().recentPayments[0]?.refundedAmount).toBe(500);
  });

  it('with the relay away at ride end: the request waits in the outbox and goes out once on reconnect', async () => {
    const first = await startRelay();
    const port = first.port;
    const core = await startCore(hitpayConfig(first));
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    await first.stop();
    await waitForState(core, (s) => s.connectivity.relay === 'offline', 10_000, 'offline');

    const rideId = await endedRide(core, 3_000);
    await must(core, { name: 'chooseTip', tipAmountMinor: 0 });
    const queued = core.getState();
    expect(queued.ride).toMatchObject({ state: 'awaiting_payment', order: 'queued', tipAmount: 0 });
    expect(queued.outboxDepth).toBe(1);

    const relay = await startRelay(port);
    await waitForState(core, (s) => s.ride?.order === 'created', 15_000, 'created after reconnect');
    expect(payments(relay).map((r) => [r.payload.rideId, r.payload.attempt, r.payload.tipAmount])).toEqual([[rideId, 1, 0]]);

    relay.push('order.paid', { merchantOrderId: `CAB-7.${rideId}`, pspOrderId: 'pr-1', currency: 'SGD', orderAmount: 3_000, tipAmount: 0, totalAmount: 3_000 });
    await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    expect(core.getState().outboxDepth).toBe(0);
    // Exactly one send of attempt 1, none after.
    expect(payments(relay)).toHaveLength(1);
  });

  it('a payment that expires fails with its code; retryPayment sends attempt 2 with the same tip', async () => {
    const relay = await startRelay();
    const core = await startCore(hitpayConfig(relay));
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    const rideId = await endedRide(core, 1_500);
    await must(core, { name: 'chooseTip', tipAmountMinor: 150 });
    await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'created');

    relay.push('order.failed', {
      merchantOrderId: `CAB-7.${rideId}`,
      pspOrderId: 'x',
      reason: 'Nobody paid before the QR expired',
      code: 'payment_expired',
      attempt: 1,
    });
    const failed = await waitForState(core, (s) => s.ride?.state === 'failed', 5_000, 'failed');
    expect(failed.ride?.failure).toEqual({ code: 'payment_expired', message: 'Nobody paid before the QR expired' });
    expect(payments(relay)).toHaveLength(1);

    // The relay first answers "PSP unavailable": the same attempt goes again after a backoff.
    let answered = 0;
    relay.answer = (r) =>
      answered++ === 0
        ? { ok: false, error: { code: 'unavailable', message: 'HitPay did not answer' } }
        : { ok: true, value: { pspReference: `pr-${String(r.payload.attempt)}` } };
    await must(core, { name: 'retryPayment' });
    expect(core.getState().ride).toMatchObject({ state: 'awaiting_payment', paymentQr: null, failure: null });
    await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'attempt 2 created');
    expect(
      payments(relay)
        .slice(1)
        .map((r) => [r.payload.attempt, r.payload.tipAmount, r.payload.orderAmount]),
    ).toEqual([
      [2, 150, 1_500],
      [2, 150, 1_500],
    ]);
    // A late failure of attempt 1 no longer touches the ride.
    relay.push('order.failed', { merchantOrderId: `CAB-7.${rideId}`, pspOrderId: 'x', reason: 'late', code: 'payment_canceled', attempt: 1 });
    await waitFor(() => relay.acks.find((a) => a.seq === 2), 5_000, 'ack of the late failure');
    expect(relay.acks.find((a) => a.seq === 2)!.answer).toEqual({ ok: true, value: { applied: false } });
    expect(core.getState().ride).toMatchObject({ state: 'awaiting_payment', failure: null, tipAmount: 150 });
  });

  it('Vipps: the check-in arrives before the tip; the tip sends payment.request in that session', async () => {
    const relay = await startRelay();
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'vipps', currency: 'NOK' }));
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    const rideId = await endedRide(core, 10_000);
    relay.push('qr.session.started', {
      psp: 'vipps',
      sessionId: 'vs-1',
      qrCode: 'MQR-7',
      allowTip: true,
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    });
    await waitForState(core, (s) => s.session?.sessionId === 'vs-1', 5_000, 'checked in');
    expect(core.getState().ride).toMatchObject({ state: 'ended', order: 'none' });
    expect(payments(relay)).toHaveLength(0);

    await must(core, { name: 'chooseTip', tipAmountMinor: 1_000 });
    await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'created');
    expect(payments(relay).map((r) => r.payload)).toEqual([
      expect.objectContaining({ psp: 'vipps', sessionId: 'vs-1', rideId, attempt: 1, orderAmount: 10_000, tipAmount: 1_000, currency: 'NOK' }),
    ]);
    expect(core.getState().session).toMatchObject({ sessionId: 'vs-1', state: 'in_use' });
  });
});
