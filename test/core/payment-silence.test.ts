/**
 * A created order whose payment outcome never arrives (the PSP gave up on its hook) must not
 * leave the ride waiting forever with no reason: after its session's order deadline plus the
 * allowed silence, the ride fails with what the driver should do; a late payment still counts.
 * Found by the chaos run (docs/chaos.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { Ride, Session } from '../../electron/core/model.js';
import { decideSilence, FAILURES } from '../../electron/core/ride-machine.js';
import { quietLogger, sessionData, TestPsp, TestRelay, testConfig, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const session: Session = {
  sessionId: 's1',
  psp: 'hips',
  qrCode: 'QR1',
  allowTip: true,
  oneTimeOrderApiKey: null,
  startedAt: '2026-01-01T10:00:00.000Z',
  expiresAt: '2026-01-01T10:10:00.000Z',
  state: 'in_use',
  rideId: 'r1',
};
const ride: Ride = {
  rideId: 'r1',
  merchantOrderId: 'CAB-7.r1',
  state: 'awaiting_payment',
  startedAt: '2026-01-01T09:50:00.000Z',
  endedAt: '2026-01-01T10:05:00.000Z',
  currency: 'SEK',
  lines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 10_000, vatRate: 6 }],
  order: 'created',
  attempt: 1,
  sessionId: 's1',
  pspOrderId: 'o1',
  failure: null,
  tipAmount: null,
  paymentQr: null,
};
const lookups = {
  ride: () => ride,
  rideByMerchantOrderId: () => ride,
  session: (id: string) => (id === 's1' ? session : null),
};

describe('decideSilence', () => {
  it('leaves the ride alone until the order deadline plus the silence has passed', () => {
    expect(decideSilence({ now: '2026-01-01T10:14:59.999Z' }, lookups, [ride], 5 * 60_000)).toEqual([]);
  });

  it('then fails it with the payment-unconfirmed reason, which says what to do', () => {
    const effects = decideSilence({ now: '2026-01-01T10:15:00.000Z' }, lookups, [ride], 5 * 60_000);
    expect(effects).toContainEqual({ type: 'saveRide', ride: { ...ride, state: 'failed', failure: FAILURES.paymentUnconfirmed } });
    expect(FAILURES.paymentUnconfirmed.message).toMatch(/Paid another way/);
  });

  it('ignores orders still queued and rides no longer awaiting payment', () => {
    const late = { now: '2026-01-02T00:00:00.000Z' };
    expect(decideSilence(late, lookups, [{ ...ride, order: 'queued' }], 1)).toEqual([]);
    expect(decideSilence(late, lookups, [{ ...ride, state: 'paid' }], 1)).toEqual([]);
  });
});

describe('kiosk core: a payment hook that never comes', () => {
  it('shows the reason and the options on its own, and a late order.paid still marks the ride paid', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const core: KioskCore = createKioskCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }), { logger: quietLogger, paymentSilenceMs: 300 });
    cleanups.push(() => core.stop());
    await core.start();
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');

    relay.push('qr.session.started', sessionData('s1', 1_500));
    await waitForState(core, (s) => s.session?.state === 'ready', 5_000, 'passenger ready');
    for (const command of [{ name: 'startRide' }, { name: 'setFare', amountMinor: 12_000 }, { name: 'endRide' }] as const)
      expect((await core.execute(command)).ok).toBe(true);
    const created = await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'order created');
    expect(created.ride?.failure).toBeNull();

    // No payment event: after the session's order deadline (1.5 s) + 300 ms the timer fires by itself.
    const failed = await waitForState(core, (s) => s.ride?.state === 'failed', 5_000, 'payment unconfirmed');
    expect(failed.ride?.failure?.code).toBe('payment_unconfirmed');
    expect(failed.payment).toBeNull();

    const merchantOrderId = created.ride!.merchantOrderId;
    relay.push('order.paid', { merchantOrderId, pspOrderId: 'psp-1', currency: 'SEK', orderAmount: 12_000, tipAmount: 1_000, totalAmount: 13_000 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'late payment applied');
    expect(paid.payment).toMatchObject({ method: 'psp', pspOrderId: 'psp-1', tipAmount: 1_000, totalAmount: 13_000 });
  });
});
