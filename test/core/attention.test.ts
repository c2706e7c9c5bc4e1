/**
 * Rides that need attention, in the core over a loopback relay and PSP: a ride the driver left
 * unfinished for the next fare is listed, news about it (paid, failed) is noted with its time,
 * and the driver takes it off the list or records it paid another way. Also the order reports
 * the relay needs for reconciliation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore, type KioskCoreOptions } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { KioskStore } from '../../electron/core/store.js';
import type { KioskCommand, KioskSnapshot } from '../../protocol/kiosk-api.js';
import { quietLogger, sessionData, TestPsp, TestRelay, testConfig, tempDir, waitFor, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: KioskCoreOptions = {}, dataDir = tempDir()) {
  const relay = await new TestRelay().start();
  const psp = await new TestPsp().start();
  cleanups.push(
    () => relay.stop(),
    () => psp.stop(),
  );
  const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url, dataDir });
  const start = async () => {
    const core = createKioskCore(config, { logger: quietLogger, random: () => 0.5, ...options });
    cleanups.push(() => core.stop());
    await core.start();
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    return core;
  };
  return { relay, psp, config, start };
}

async function must(core: KioskCore, command: KioskCommand): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.code}: ${result.error.message}`);
}

/** A ride whose order is at the PSP; then the driver starts the next one. Resolves with the first ride. */
async function parkAwaiting(core: KioskCore, relay: TestRelay, sessionId: string, fare = 11_000) {
  relay.push('qr.session.started', sessionData(sessionId));
  await waitForState(core, (s) => s.session?.sessionId === sessionId && s.session.state === 'ready', 5_000, 'passenger ready');
  await must(core, { name: 'startRide' });
  await must(core, { name: 'setFare', amountMinor: fare });
  await must(core, { name: 'endRide' });
  const first = (await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'order created')).ride!;
  await must(core, { name: 'startRide' });
  return first;
}

const listed = (s: KioskSnapshot, rideId: string) => s.ridesNeedingAttention.find((r) => r.rideId === rideId);

describe('rides that need attention', () => {
  it('a ride left waiting for its payment is listed as unconfirmed; once paid it is listed as paid with when; seen takes it off', async () => {
    const { relay, start } = await setup();
    const core = await start();
    expect(core.getState().ridesNeedingAttention).toEqual([]);
    const first = await parkAwaiting(core, relay, 's1', 11_000);
    const parked = core.getState();
    expect(parked.ride?.state).toBe('on_ride');
    expect(parked.ridesNeedingAttention).toEqual([
      expect.objectContaining({
        rideId: first.rideId,
        status: 'unconfirmed',
        orderAmount: 11_000,
        currency: 'SEK',
        outcomeAt: null,
        paidTotal: null,
        actions: ['seen'],
      }),
    ]);

    relay.push('order.paid', {
      merchantOrderId: first.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 11_000,
      tipAmount: 1_000,
      totalAmount: 12_000,
    });
    const paid = await waitForState(core, (s) => listed(s, first.rideId)?.status === 'paid', 5_000, 'listed as paid');
    expect(listed(paid, first.rideId)).toMatchObject({ outcomeAt: expect.any(String), paidTotal: 12_000, actions: ['seen'] });
    expect(paid.pendingRides).toBe(0);
    expect(paid.ride?.state).toBe('on_ride'); // the ride on screen is untouched

    await must(core, { name: 'markRideSeen', rideId: first.rideId });
    expect(core.getState().ridesNeedingAttention).toEqual([]);
    const again = await core.execute({ name: 'markRideSeen', rideId: first.rideId });
    expect(again).toMatchObject({ ok: false, error: { code: 'not_needing_attention' } });
  });

  it('a parked ride whose payment fails is listed failed with the reason; paid another way from the list records it and takes it off', async () => {
    const { relay, start, config } = await setup();
    const core = await start();
    const first = await parkAwaiting(core, relay, 's2', 9_000);
    // Its payment is under way: not something to mark paid another way.
    const early = await core.execute({ name: 'markPaidOtherwise', rideId: first.rideId });
    expect(early).toMatchObject({ ok: false, error: { code: 'cannot_mark_paid' } });

    relay.push('order.failed', { merchantOrderId: first.merchantOrderId, pspOrderId: 'psp-1', reason: 'payment_declined' });
    const failed = await waitForState(core, (s) => listed(s, first.rideId)?.status === 'failed', 5_000, 'listed as failed');
    expect(listed(failed, first.rideId)).toMatchObject({
      failure: { code: 'payment_failed' },
      outcomeAt: expect.any(String),
      actions: ['paid_otherwise', 'seen'],
    });

    await must(core, { name: 'markPaidOtherwise', rideId: first.rideId });
    const after = core.getState();
    expect(after.ridesNeedingAttention).toEqual([]);
    expect(after.ride?.state).toBe('on_ride');
    await core.stop();
    const store = KioskStore.open(config.dataDir!);
    try {
      expect(store.getRide(first.rideId)?.state).toBe('paid');
      expect(store.getPayment(first.rideId)).toMatchObject({ method: 'other', totalAmount: 9_000 });
    } finally {
      store.close();
    }
  });

  it('a ride left without any scan is listed open and can be marked paid another way; a ride dismissed on screen is not listed', async () => {
    const { relay, start } = await setup();
    const core = await start();
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 5_000 });
    await must(core, { name: 'endRide' });
    const ended = core.getState().ride!;
    expect(ended.state).toBe('ended');
    await must(core, { name: 'startRide' });
    expect(listed(core.getState(), ended.rideId)).toMatchObject({ status: 'open', outcomeAt: null, actions: ['paid_otherwise', 'seen'] });
    await must(core, { name: 'markPaidOtherwise', rideId: ended.rideId });
    expect(core.getState().ridesNeedingAttention).toEqual([]);

    // A ride finished and dismissed on screen never needs attention.
    relay.push('qr.session.started', sessionData('s3'));
    await waitForState(core, (s) => s.session?.sessionId === 's3');
    await must(core, { name: 'setFare', amountMinor: 4_000 });
    await must(core, { name: 'endRide' });
    const onScreen = (await waitForState(core, (s) => s.ride?.order === 'created')).ride!;
    relay.push('order.paid', {
      merchantOrderId: onScreen.merchantOrderId,
      pspOrderId: 'psp-x',
      currency: 'SEK',
      orderAmount: 4_000,
      tipAmount: 0,
      totalAmount: 4_000,
    });
    await waitForState(core, (s) => s.ride?.state === 'paid');
    await must(core, { name: 'dismiss' });
    await must(core, { name: 'startRide' });
    expect(core.getState().ridesNeedingAttention).toEqual([]);
  });

  it('a parked ride whose payment is never confirmed fails payment_unconfirmed, listed with the news; the list survives a restart', async () => {
    const dataDir = tempDir();
    const { relay, start } = await setup({ paymentSilenceMs: 300 }, dataDir);
    let core = await start();
    relay.push('qr.session.started', sessionData('s4', 1_500));
    await waitForState(core, (s) => s.session?.sessionId === 's4');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 7_000 });
    await must(core, { name: 'endRide' });
    const first = (await waitForState(core, (s) => s.ride?.order === 'created')).ride!;
    await must(core, { name: 'startRide' });
    const news = await waitForState(core, (s) => listed(s, first.rideId)?.status === 'failed', 10_000, 'unconfirmed after the silence');
    expect(listed(news, first.rideId)).toMatchObject({ failure: { code: 'payment_unconfirmed' }, outcomeAt: expect.any(String) });

    await core.stop();
    core = await start();
    expect(listed(core.getState(), first.rideId)).toMatchObject({ status: 'failed', failure: { code: 'payment_unconfirmed' } });
    // A late payment still lands, and is news again.
    relay.push('order.paid', {
      merchantOrderId: first.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 7_000,
      tipAmount: 0,
      totalAmount: 7_000,
    });
    await waitForState(core, (s) => listed(s, first.rideId)?.status === 'paid', 5_000, 'late payment listed');
  });
});

describe('order reports', () => {
  it('every order made at the PSP is reported to the relay once (order.created), with the PSP’s id', async () => {
    const { relay, start } = await setup();
    const core = await start();
    const first = await parkAwaiting(core, relay, 's5');
    const reports = await waitFor(
      () => {
        const found = relay.requests.filter((r) => r.event === 'order.created');
        return found.length > 0 ? found : null;
      },
      5_000,
      'order.created',
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]!.payload).toEqual({
      psp: 'hips',
      rideId: first.rideId,
      attempt: 1,
      merchantOrderId: first.merchantOrderId,
      pspOrderId: 'psp-1',
      createdAt: expect.any(String),
    });
  });

  it('a relay that cannot follow orders up (unsupported) is not asked again; one that is away is asked once it is back', async () => {
    const { relay, start, config } = await setup();
    relay.answer = (r) =>
      r.event === 'order.created' ? { ok: false, error: { code: 'unsupported', message: 'set HIPS_API_URL' } } : { ok: true, value: { pspReference: 'x' } };
    const core = await start();
    await parkAwaiting(core, relay, 's6');
    await waitFor(() => relay.requests.some((r) => r.event === 'order.created'), 5_000, 'the first report');
    await core.stop();
    const store = KioskStore.open(config.dataDir!);
    try {
      expect(store.unsentOrderReports(10)).toEqual([]);
      const [report] = store.db.prepare('SELECT refused_reason FROM order_reports').all() as { refused_reason: string }[];
      expect(report!.refused_reason).toContain('unsupported');
    } finally {
      store.close();
    }
    expect(relay.requests.filter((r) => r.event === 'order.created')).toHaveLength(1);
  });
});
