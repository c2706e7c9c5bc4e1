/**
 * A relay that lies (compromised, or just buggy) against the real kiosk core: a real Socket.IO
 * server on loopback sends money events that do not match the tablet's own ride. Each one must
 * be refused (acked `rejected`), leave the ride as it was, and warn the driver when it is about
 * the ride on screen; the honest event after them still works.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { KioskConfig } from '../../electron/core/config.js';
import { KioskStore } from '../../electron/core/store.js';
import type { KioskSnapshot, RideView } from '../../protocol/kiosk-api.js';
import type { RelayEventData, RelayEventType } from '../../protocol/relay-protocol.js';
import { FLEET_UEN, paynowQr } from './paynow.js';
import { quietLogger, sessionData, TestPsp, TestRelay, testConfig, waitFor, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startCore(config: KioskConfig): Promise<KioskCore> {
  const core = createKioskCore(config, { logger: quietLogger, random: () => 0.5, backoff: { baseMs: 20, capMs: 200 } });
  cleanups.push(() => core.stop());
  await core.start();
  await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
  return core;
}

async function must(core: KioskCore, command: Parameters<KioskCore['execute']>[0]): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.message}`);
}

/** Pushes one event and resolves with the tablet's ack. */
async function deliver<T extends RelayEventType>(relay: TestRelay, type: T, data: RelayEventData<T>): Promise<unknown> {
  const event = relay.push(type, data);
  const ack = await waitFor(() => relay.acks.find((a) => a.seq === event.seq), 5_000, `the ack of ${type} seq ${event.seq}`);
  return ack.answer;
}

/** The ride as the screen shows it, without the driver's warning (the only thing a refusal may change). */
function rideOf(s: KioskSnapshot): Omit<RideView, 'refusedEvent'> | null {
  if (!s.ride) return null;
  const { refusedEvent: _warning, ...ride } = s.ride;
  return ride;
}

/** Delivers `data` and checks it was refused with `reason`, changing nothing but the warning. */
async function expectRefused<T extends RelayEventType>(core: KioskCore, relay: TestRelay, type: T, data: RelayEventData<T>, reason: RegExp): Promise<void> {
  const before = core.getState();
  const answer = await deliver(relay, type, data);
  expect(answer, `${type} ${JSON.stringify(data)}`).toEqual({ ok: false, error: { code: 'rejected', message: expect.stringMatching(reason) } });
  const after = core.getState();
  expect(rideOf(after)).toEqual(rideOf(before));
  expect(after.payment).toEqual(before.payment);
  expect(after.recentPayments).toEqual(before.recentPayments);
}

describe('the kiosk core against a hostile relay', () => {
  it('refuses order.paid that does not match the ride (state, cab, currency, fare, tip cap, total); the honest one still pays', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));

    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 10_000 });
    const ride = core.getState().ride!;
    const paid = (over: Partial<RelayEventData<'order.paid'>> = {}): RelayEventData<'order.paid'> => ({
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 10_000,
      tipAmount: 500,
      totalAmount: 10_500,
      ...over,
    });

    // The attack as found: paid while still on the road, USD in a SEK cab, order 1, tip 1,000,000, total 5.
    await expectRefused(
      core,
      relay,
      'order.paid',
      paid({ currency: 'USD', orderAmount: 1, tipAmount: 1_000_000, totalAmount: 5 }),
      /no payment was asked for \(the ride is on_ride\)/,
    );
    const warned = core.getState().ride!;
    expect(warned.state).toBe('on_ride');
    expect(warned.refusedEvent).toMatchObject({ type: 'order.paid', reason: expect.stringContaining('no payment was asked for') });
    // Even with honest amounts: nothing was asked for yet.
    await expectRefused(core, relay, 'order.paid', paid(), /no payment was asked for/);

    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready', 5_000, 'passenger ready');
    await must(core, { name: 'endRide' });
    await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'order created');

    await expectRefused(core, relay, 'order.paid', paid({ currency: 'USD' }), /paid in USD, but the ride is in SEK/);
    await expectRefused(core, relay, 'order.paid', paid({ orderAmount: 1, totalAmount: 501 }), /order amount 1 is not the 10000 set on the tablet/);
    await expectRefused(core, relay, 'order.paid', paid({ tipAmount: 1_000_000, totalAmount: 1_010_000 }), /tip 1000000 is over the cap of 2000/);
    await expectRefused(core, relay, 'order.paid', paid({ tipAmount: 2_001, totalAmount: 12_001 }), /over the cap/);
    await expectRefused(core, relay, 'order.paid', paid({ totalAmount: 5 }), /total 5 is not the order amount plus the tip \(10500\)/);
    // Addressed to another cab, around this ride's id: refused, and still the driver's business.
    await expectRefused(core, relay, 'order.paid', paid({ merchantOrderId: `CAB-8.${ride.rideId}` }), /not addressed to this cab \(CAB-7\)/);
    expect(core.getState().ride?.refusedEvent?.reason).toMatch(/CAB-8/);
    await expectRefused(core, relay, 'order.paid', paid({ merchantOrderId: 'CAB-7.not-a-ride' }), /not a ride of this tablet/);
    expect(core.getState().ride).toMatchObject({ state: 'awaiting_payment', order: 'created' });
    expect(core.getState().payment).toBeNull();

    // The refunds that would come with a lie are refused too: nothing was paid.
    await expectRefused(
      core,
      relay,
      'order.refunded',
      { merchantOrderId: ride.merchantOrderId, amount: 100, currency: 'SEK' },
      /not paid through the payment provider/,
    );

    expect(await deliver(relay, 'order.paid', paid({ tipAmount: 2_000, totalAmount: 12_000 }))).toEqual({ ok: true, value: { applied: true } });
    const done = await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    expect(done.payment).toMatchObject({ orderAmount: 10_000, tipAmount: 2_000, totalAmount: 12_000, currency: 'SEK' });

    // Refunds: in the paid currency, never more than is left.
    await expectRefused(core, relay, 'order.refunded', { merchantOrderId: ride.merchantOrderId, amount: 100, currency: 'USD' }, /refunded in USD/);
    await expectRefused(core, relay, 'order.refunded', { merchantOrderId: ride.merchantOrderId, amount: 12_001, currency: 'SEK' }, /more than the 12000 left/);
    expect(await deliver(relay, 'order.refunded', { merchantOrderId: ride.merchantOrderId, amount: 2_000, currency: 'SEK' })).toEqual({
      ok: true,
      value: { applied: true },
    });
    await expectRefused(core, relay, 'order.refunded', { merchantOrderId: ride.merchantOrderId, amount: 10_001, currency: 'SEK' }, /more than the 10000 left/);
  });

  it('warns the driver only about the ride on screen, and keeps the refusal across a resend and a restart', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    const core = await startCore(config);
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 8_000 });
    await must(core, { name: 'endRide' });
    const earlier = (await waitForState(core, (s) => s.ride?.order === 'created')).ride!;
    await must(core, { name: 'startRide' });

    // About the earlier ride, off screen: refused without a warning on the new ride.
    const lie = relay.push('order.paid', {
      merchantOrderId: earlier.merchantOrderId,
      pspOrderId: 'p',
      currency: 'SEK',
      orderAmount: 1,
      tipAmount: 0,
      totalAmount: 1,
    });
    const first = await waitFor(() => relay.acks.find((a) => a.seq === lie.seq), 5_000, 'ack');
    expect(first.answer).toMatchObject({ ok: false, error: { code: 'rejected' } });
    expect(core.getState()).toMatchObject({ pendingRides: 1, ride: { state: 'on_ride', refusedEvent: null } });

    // The same event again gets the same answer, and so it does after a restart.
    expect(await relay.redeliver(lie)).toEqual(first.answer);
    await core.stop();
    await startCore(config);
    expect(await relay.redeliver(lie)).toEqual(first.answer);
    const store = KioskStore.open(config.dataDir!);
    try {
      expect(store.getRide(earlier.rideId)).toMatchObject({ state: 'awaiting_payment', order: 'created' });
      expect(store.getPayment(earlier.rideId)).toBeNull();
    } finally {
      store.close();
    }
  });

  it('refuses a payment QR that asks for another amount or currency, or pays someone else', async () => {
    const relay = await new TestRelay().start();
    cleanups.push(() => relay.stop());
    const core = await startCore(
      testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'hitpay', currency: 'SGD', qrContent: null, paymentQr: { paynowProxies: [FLEET_UEN] } }),
    );
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 10_000 });
    await must(core, { name: 'endRide' });
    await must(core, { name: 'chooseTip', tipAmountMinor: 0 });
    const ride = (await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'payment request held')).ride!;
    const expiresAt = new Date(Date.now() + 300_000).toISOString();
    const qr = (over: Partial<RelayEventData<'payment.qr'>> = {}): RelayEventData<'payment.qr'> => ({
      rideId: ride.rideId,
      attempt: 1,
      paymentRequestId: 'pr-1',
      qrData: paynowQr(10_000),
      amount: 10_000,
      currency: 'SGD',
      expiresAt,
      ...over,
    });

    // The attack as found: 0.01 USD at an outside address for a ride whose total is 100.00.
    await expectRefused(
      core,
      relay,
      'payment.qr',
      qr({ amount: 1, currency: 'USD', qrData: 'https://pay.attacker.example/qr?amount=0.01' }),
      /the QR asks for USD, but the ride is in SGD/,
    );
    expect(core.getState().ride?.refusedEvent).toMatchObject({ type: 'payment.qr' });
    await expectRefused(core, relay, 'payment.qr', qr({ amount: 1 }), /asks for 1, but the ride's total is 10000/);
    await expectRefused(
      core,
      relay,
      'payment.qr',
      qr({ qrData: 'https://pay.attacker.example/qr' }),
      /points at pay\.attacker\.example, which is not this cab's payment provider/,
    );
    await expectRefused(
      core,
      relay,
      'payment.qr',
      qr({ qrData: 'https://securecheckout.hit-pay.com@pay.attacker.example/qr' }),
      /user name or password|pay\.attacker\.example/,
    );
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: 'http://securecheckout.hit-pay.com/payment-request/1' }), /only https/);
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: 'javascript:alert(1)' }), /javascript:\/\/ \(only https/);
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: paynowQr(1) }), /it asks for 0\.01, not the ride's total/);
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: paynowQr(10_000, { editable: true }) }), /can be edited by the payer/);
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: paynowQr(10_000, { uen: '199999999Z' }) }), /proxy 199999999Z, which is not this fleet's/);
    const valid = paynowQr(10_000);
    const damaged = `${valid.slice(0, -4)}${valid.endsWith('0000') ? '0001' : '0000'}`;
    await expectRefused(core, relay, 'payment.qr', qr({ qrData: damaged }), /wrong checksum/);
    await expectRefused(core, relay, 'payment.qr', qr({ rideId: 'another-cabs-ride' }), /not a ride of this tablet/);
    expect(core.getState().ride).toMatchObject({ state: 'awaiting_payment', paymentQr: null });

    // The fleet's PayNow code for exactly the total is shown; so is a checkout URL at the PSP's host.
    expect(await deliver(relay, 'payment.qr', qr())).toEqual({ ok: true, value: { applied: true } });
    expect(core.getState().ride?.paymentQr).toMatchObject({ qrData: paynowQr(10_000), amount: 10_000, currency: 'SGD' });
    const checkout = 'https://securecheckout.hit-pay.com/payment-request/@cabpay/9f1c';
    expect(await deliver(relay, 'payment.qr', qr({ qrData: checkout }))).toEqual({ ok: true, value: { applied: true } });
    expect(core.getState().ride?.paymentQr?.qrData).toBe(checkout);
  });

  it('refuses what the cab never takes: a payment QR for a Hips cab, a session of another PSP', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 5_000 });
    const rideId = core.getState().ride!.rideId;
    await expectRefused(
      core,
      relay,
      'payment.qr',
      { rideId, qrData: 'https://x.example', amount: 5_000, currency: 'SEK', expiresAt: new Date().toISOString() },
      /takes no payment QR/,
    );
    await expectRefused(core, relay, 'qr.session.started', { ...sessionData('v1'), psp: 'vipps' }, /a vipps session, but this cab pays with hips/);
    expect(core.getState().session).toBeNull();
  });

  it('acks an event id it already has, sent again under the next seq, as a duplicate, and delivery moves on', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    const core = await startCore(config);
    const first = relay.push('qr.session.started', sessionData('s1'));
    await waitFor(() => relay.acks.find((a) => a.seq === 1), 5_000, 'ack 1');

    // The relay's bug: the same id at seq 2. Acked without effect...
    expect(await relay.sendRaw({ ...first, seq: 2 }, 2_000)).toEqual({ ok: true, value: { applied: false } });
    // ...and seq 3 is the next event, not a gap.
    expect(await relay.sendRaw({ ...first, seq: 3, id: 'fresh-3', data: sessionData('s3') }, 2_000)).toEqual({ ok: true, value: { applied: true } });
    await waitForState(core, (s) => s.session?.sessionId === 's3', 5_000, 'the session of seq 3');
    await core.stop();
    const store = KioskStore.open(config.dataDir!);
    try {
      expect(store.lastSeq()).toBe(3);
      expect(store.appliedEvent(first.id)).toEqual({ seq: 2, rejection: null });
    } finally {
      store.close();
    }
  });
});
