/** The core against a loopback Socket.IO relay and a loopback PSP: a whole ride, and its edges. */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { KioskConfig } from '../../electron/core/config.js';
import { KioskStore } from '../../electron/core/store.js';
import { quietLogger, sessionData, TestPsp, TestRelay, testConfig, waitFor, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function peers(): Promise<{ relay: TestRelay; psp: TestPsp }> {
  const relay = await new TestRelay().start();
  const psp = await new TestPsp().start();
  cleanups.push(
    () => relay.stop(),
    () => psp.stop(),
  );
  return { relay, psp };
}

async function startCore(config: KioskConfig, random = () => 0.5): Promise<KioskCore> {
  const core = createKioskCore(config, { logger: quietLogger, random });
  cleanups.push(() => core.stop());
  await core.start();
  return core;
}

async function must(core: KioskCore, command: Parameters<KioskCore['execute']>[0]): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.message}`);
}

describe('kiosk core, end to end over loopback', () => {
  it('runs a paid ride with a tip: session, fare and extra, order at the PSP, payment shown, dismiss', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    const core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
    expect(relay.handshakes[0]).toEqual({ cabId: 'CAB-7', token: config.deviceToken, lastSeq: 0 });

    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready', 5_000, 'passenger ready');

    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 24_000 });
    await must(core, { name: 'addExtra', extra: { kind: 'toll', amountMinor: 1_000 } });
    await must(core, { name: 'endRide' });
    const ride = core.getState().ride!;
    expect(ride.merchantOrderId).toBe(`CAB-7.${ride.rideId}`);
    expect(ride.orderAmount).toBe(25_000);

    const created = await waitForState(core, (s) => s.ride?.order === 'created', 5_000, 'order created');
    expect(created.ride?.state).toBe('awaiting_payment');
    expect(created.outboxDepth).toBe(0);
    expect(psp.calls).toHaveLength(1);
    const call = psp.calls[0]!;
    expect(call.headers.authorization).toBe('Bearer otk-s1');
    expect(call.headers['idempotency-key']).toBe(ride.rideId);
    expect(call.body).toMatchObject({
      order_id: ride.merchantOrderId,
      qr_session_id: 's1',
      fulfill: true,
      hooks: { webhook_url: `${relay.url}/webhooks/hips/orders` },
      cart: {
        items: [
          { type: 'service', unit_price: 24_000 },
          { type: 'fee', unit_price: 1_000, vat: 0 },
        ],
      },
    });

    relay.push('order.paid', {
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 25_000,
      tipAmount: 5_000,
      totalAmount: 30_000,
    });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    expect(paid.payment).toMatchObject({ rideId: ride.rideId, orderAmount: 25_000, tipAmount: 5_000, totalAmount: 30_000, pspOrderId: 'psp-1' });
    await waitFor(() => relay.statuses.some((s) => s.rideState === 'paid'), 5_000, 'tablet:status paid');

    await must(core, { name: 'dismiss' });
    expect(core.getState()).toMatchObject({ ride: null, session: null, payment: null });
  });

  it('applies relay events idempotently: a duplicate and a replayed seq are acked without effect, a gap is not acked', async () => {
    const { relay, psp } = await peers();
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));
    await waitForState(core, (s) => s.connectivity.relay === 'online');

    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 10_000 });
    await must(core, { name: 'endRide' });
    const ride = core.getState().ride!;
    expect(ride.state).toBe('ended');

    const first = relay.push('qr.session.started', sessionData('s1'));
    await waitFor(() => relay.acks.find((a) => a.seq === 1), 5_000, 'ack 1');
    expect(relay.acks[0]?.answer).toEqual({ ok: true, value: { applied: true } });
    await waitForState(core, (s) => s.ride?.order === 'created');

    // The same event again (same id and seq): acked, no second order.
    expect(await relay.redeliver(first)).toEqual({ ok: true, value: { applied: false } });
    // A different id with an old seq: already past it.
    expect(await relay.redeliver({ ...first, id: 'another-id' })).toEqual({ ok: true, value: { applied: false } });
    expect(psp.calls).toHaveLength(1);

    // A gap: seq 3 before seq 2 is left unacked.
    const paid = { merchantOrderId: ride.merchantOrderId, pspOrderId: 'psp-1', currency: 'SEK', orderAmount: 10_000, tipAmount: 0, totalAmount: 10_000 };
    const gap = { seq: 3, id: 'evt-3', type: 'order.paid', occurredAt: new Date().toISOString(), data: paid };
    expect(await relay.sendRaw(gap, 400)).toBeNull();
    expect(core.getState().ride?.state).toBe('awaiting_payment');

    // Invalid payloads are refused with a reason.
    expect(await relay.sendRaw({ seq: 2, id: 'x', type: 'order.paid', occurredAt: 'yesterday', data: {} })).toMatchObject({
      ok: false,
      error: { code: 'invalid_event' },
    });

    relay.push('order.paid', paid); // seq 2
    await waitForState(core, (s) => s.ride?.state === 'paid');
    expect(await relay.sendRaw({ ...gap, id: 'evt-3b' }, 2_000)).toEqual({ ok: true, value: { applied: true } });
  });

  it('on log.start moves lastSeq up to just before firstSeq, never down, and refuses a malformed one', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    let core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    const gap = { seq: 41, id: 'evt-41', type: 'qr.session.started', occurredAt: new Date().toISOString(), data: sessionData('s41') };
    expect(await relay.sendRaw(gap, 400)).toBeNull(); // a gap, as before

    expect(await relay.sendRaw({ firstSeq: 41 }, 2_000, 'log.start')).toEqual({ ok: true, value: { lastSeq: 40 } });
    expect(await relay.sendRaw(gap, 2_000)).toEqual({ ok: true, value: { applied: true } });
    await waitForState(core, (s) => s.session?.sessionId === 's41');
    // A log.start behind the tablet changes nothing; a malformed one is refused with the reason.
    expect(await relay.sendRaw({ firstSeq: 5 }, 2_000, 'log.start')).toEqual({ ok: true, value: { lastSeq: 41 } });
    expect(await relay.sendRaw({ firstSeq: 0 }, 2_000, 'log.start')).toMatchObject({ ok: false, error: { code: 'invalid_log_start' } });
    expect(await relay.sendRaw({ firstSeq: '42' }, 2_000, 'log.start')).toMatchObject({ ok: false, error: { code: 'invalid_log_start' } });

    await core.stop();
    core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    expect(relay.handshakes.at(-1)).toMatchObject({ lastSeq: 41 });
  });

  it('replays events missed while the tablet was off, from its stored lastSeq', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    let core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    relay.push('qr.session.started', sessionData('s1'));
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 18_000 });
    await waitForState(core, (s) => s.session?.sessionId === 's1');
    await must(core, { name: 'endRide' });
    await waitForState(core, (s) => s.ride?.order === 'created');
    const ride = core.getState().ride!;
    await core.stop();

    // Paid while the tablet was off.
    relay.push('order.paid', {
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 18_000,
      tipAmount: 3_600,
      totalAmount: 21_600,
    });
    core = await startCore(config);
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 10_000, 'paid after replay');
    expect(paid.payment?.totalAmount).toBe(21_600);
    expect(relay.handshakes.at(-1)).toMatchObject({ lastSeq: 1 });
  });

  it('keeps the outbox across a restart and delivers it with the same Idempotency-Key', async () => {
    const { relay, psp } = await peers();
    psp.fallback = { status: 503 };
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    let core = await startCore(config, () => 0.05);
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 9_900 });
    await must(core, { name: 'endRide' });
    expect(core.getState()).toMatchObject({ outboxDepth: 1, ride: { state: 'awaiting_payment', order: 'queued' } });
    await waitFor(() => psp.calls.length >= 2, 10_000, 'two failed tries');
    await core.stop();

    psp.fallback = { status: 201 };
    const before = psp.calls.length;
    core = await startCore(config, () => 0.05);
    expect(core.getState()).toMatchObject({ ride: { state: 'awaiting_payment' } });
    const done = await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'delivered after restart');
    expect(done.outboxDepth).toBe(0);
    expect(psp.calls.length).toBeGreaterThan(before);
    const keys = new Set(psp.calls.map((c) => c.headers['idempotency-key']));
    expect([...keys]).toEqual([done.ride!.rideId]);
  });

  it('resumes after a restart with the same snapshot, settings included', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    let core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    await must(core, { name: 'setLocale', locale: 'sv' });
    await must(core, { name: 'setTheme', theme: 'night' });
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session !== null);
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 30_000 });
    await must(core, { name: 'addExtra', extra: { kind: 'luggage', amountMinor: 2_000 } });
    await must(core, { name: 'endRide' });
    const before = await waitForState(core, (s) => s.ride?.order === 'created');
    await core.stop();

    core = await startCore(config);
    const after = await waitForState(core, (s) => s.connectivity.relay === 'online');
    const { connectivity: _a, ...restBefore } = before;
    const { connectivity: _b, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
    expect(after).toMatchObject({ locale: 'sv', theme: 'night' });
    expect(after.ride?.lines.map((l) => l.label)).toEqual(['Taxiresa', 'Bagage']);
  });

  it('lets the driver start the next ride while the earlier payment is pending; the payment lands on the earlier ride', async () => {
    const { relay, psp } = await peers();
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 11_000 });
    await must(core, { name: 'endRide' });
    const first = (await waitForState(core, (s) => s.ride?.order === 'created')).ride!;

    await must(core, { name: 'startRide' });
    const second = core.getState();
    expect(second).toMatchObject({ pendingRides: 1, ride: { state: 'on_ride' }, session: null });
    expect(second.ride?.rideId).not.toBe(first.rideId);

    relay.push('order.paid', {
      merchantOrderId: first.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 11_000,
      tipAmount: 0,
      totalAmount: 11_000,
    });
    const after = await waitForState(core, (s) => s.pendingRides === 0, 5_000, 'earlier ride paid');
    expect(after.ride?.rideId).toBe(second.ride?.rideId);
    expect(after.ride?.state).toBe('on_ride');
  });

  it('an expired scan fails the ride with session_expired and a new scan re-sends automatically', async () => {
    const { relay, psp } = await peers();
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    relay.push('qr.session.started', sessionData('s-old', 1_000));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 7_000 });
    await waitForState(core, (s) => s.session?.state === 'expired', 5_000, 'session expired by the clock');
    await must(core, { name: 'endRide' });
    expect(core.getState().ride).toMatchObject({
      state: 'ended',
      failure: { code: 'session_expired', message: 'The passenger scanned too long ago. Ask them to scan the QR again.' },
    });
    expect(psp.calls).toHaveLength(0);

    relay.push('qr.session.started', sessionData('s-new'));
    const s = await waitForState(core, (x) => x.ride?.order === 'created', 5_000, 'order after rescan');
    expect(s.ride?.failure).toBeNull();
    expect(psp.calls.map((c) => (c.body as { qr_session_id: string }).qr_session_id)).toEqual(['s-new']);
  });

  it('a session that dies while its order waits in the outbox is never sent to; the retry uses <rideId>.2', async () => {
    const { relay, psp } = await peers();
    psp.fallback = { status: 503 };
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }), () => 0.3);
    relay.push('qr.session.started', sessionData('s1', 1_500));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 5_000 });
    await must(core, { name: 'endRide' });
    const failed = await waitForState(core, (s) => s.ride?.state === 'failed', 10_000, 'failed on expiry');
    expect(failed).toMatchObject({ outboxDepth: 0, ride: { failure: { code: 'session_expired' } } });
    const callsAtExpiry = psp.calls.length;

    psp.fallback = { status: 201 };
    relay.push('qr.session.started', sessionData('s2'));
    const s = await waitForState(core, (x) => x.ride?.order === 'created', 10_000, 'fresh attempt created');
    expect(psp.calls.slice(callsAtExpiry).map((c) => c.headers['idempotency-key'])).toEqual([`${s.ride!.rideId}.2`]);
    expect(psp.calls.slice(0, callsAtExpiry).every((c) => c.headers['idempotency-key'] === s.ride!.rideId)).toBe(true);
  });

  it('a definitive 4xx fails the ride with the reason; the driver can mark it paid another way', async () => {
    const { relay, psp } = await peers();
    psp.script = [{ status: 409, body: { error: { type: 'conflict', message: 'session already has an order' } } }];
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url }));
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 5_000 });
    await must(core, { name: 'endRide' });
    const failed = await waitForState(core, (s) => s.ride?.state === 'failed');
    expect(failed.ride?.failure?.code).toBe('session_not_waiting');
    expect(failed.ride?.failure?.message).toContain('Ask the passenger to scan the QR again');
    await must(core, { name: 'markPaidOtherwise' });
    expect(core.getState()).toMatchObject({ ride: { state: 'paid' }, payment: { totalAmount: 5_000, tipAmount: 0 } });
  });

  it('drains the outbox as soon as the relay connection returns', async () => {
    const { relay, psp } = await peers();
    psp.fallback = { status: 503 };
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    const core = await startCore(config, () => 0.99); // long backoff waits
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 5_000 });
    await must(core, { name: 'endRide' });
    // Tries at about 0, 1, 3 and 7 s; the next would wait ~8 s more.
    await waitFor(() => psp.calls.length >= 4, 20_000, 'four tries');

    const port = relay.port;
    await relay.stop();
    const offline = await waitForState(core, (s) => s.connectivity.relay === 'offline', 5_000, 'offline');
    expect(offline.connectivity.offlineSince).not.toBeNull();
    psp.fallback = { status: 201 };
    // When the backoff alone would try next (read through a second connection; WAL allows it).
    const peek = KioskStore.open(config.dataDir!);
    const backoffUntil = Date.parse(peek.outboxHead()!.nextAttemptAt);
    peek.close();
    const again = await new TestRelay().start(port);
    cleanups.push(() => again.stop());
    const done = await waitForState(core, (s) => s.ride?.order === 'created' && s.connectivity.relay === 'online', 30_000, 'drained on reconnect');
    expect(done.connectivity.offlineSince).toBeNull();
    // The successful try came from the reconnect, not from the backoff timer.
    expect(psp.calls.at(-1)!.at).toBeLessThan(backoffUntil);
  });

  it('keeps offlineSince across restarts until the relay is reached again', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    let core = await startCore(config);
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    expect(core.getState().connectivity.offlineSince).toBeNull();
    const port = relay.port;
    await relay.stop();
    const away = (await waitForState(core, (s) => s.connectivity.relay === 'offline')).connectivity.offlineSince;
    expect(away).not.toBeNull();
    await core.stop();

    core = await startCore(config);
    expect(core.getState().connectivity).toEqual({ relay: 'connecting', offlineSince: away, problem: null });
    const stillAway = await waitForState(core, (s) => s.connectivity.relay === 'offline', 10_000, 'offline after restart');
    expect(stillAway.connectivity.offlineSince).toBe(away);

    const again = await new TestRelay().start(port);
    cleanups.push(() => again.stop());
    const back = await waitForState(core, (s) => s.connectivity.relay === 'online', 15_000, 'back online');
    expect(back.connectivity.offlineSince).toBeNull();
  });

  it('records a refund against the paid ride', async () => {
    const { relay, psp } = await peers();
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });
    const core = await startCore(config);
    relay.push('qr.session.started', sessionData('s1'));
    await waitForState(core, (s) => s.session?.state === 'ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 8_000 });
    await must(core, { name: 'endRide' });
    const ride = (await waitForState(core, (s) => s.ride?.order === 'created')).ride!;
    relay.push('order.paid', {
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: 'psp-1',
      currency: 'SEK',
      orderAmount: 8_000,
      tipAmount: 0,
      totalAmount: 8_000,
    });
    await waitForState(core, (s) => s.ride?.state === 'paid');
    relay.push('order.refunded', { merchantOrderId: ride.merchantOrderId, amount: 3_000, currency: 'SEK' });
    await waitFor(() => relay.acks.some((a) => a.seq === 3), 5_000, 'refund acked');
    await core.stop();
    const store = KioskStore.open(config.dataDir!);
    expect(store.getPayment(ride.rideId)).toMatchObject({ totalAmount: 8_000, refundedAmount: 3_000 });
    store.close();
  });

  it('shows a refused device token as offline, and keeps retrying', async () => {
    const { relay, psp } = await peers();
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: psp.url, deviceToken: 'wrong-token-0123456789' }));
    const s = await waitForState(core, (x) => x.connectivity.relay === 'offline', 5_000, 'offline');
    expect(s.connectivity.offlineSince).toMatch(/^\d{4}-\d\d-\d\dT/);
    await waitFor(() => relay.handshakes.length >= 2, 10_000, 'a second attempt');
    expect(relay.connectedCount()).toBe(0);
  });

  it('refuses to start without a dataDir, and rejects malformed commands with a reason', async () => {
    const config = testConfig({ relayUrl: 'http://127.0.0.1:9', pspUrl: 'http://127.0.0.1:9' });
    const { dataDir: _unused, ...noDir } = config;
    await expect(createKioskCore(noDir as KioskConfig, { logger: quietLogger }).start()).rejects.toThrow(/dataDir/);

    const core = await startCore(config);
    const bad = await core.execute({ name: 'setFare', amountMinor: -5 } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_command' } });
    await Promise.all([core.stop(), core.stop()]); // safe to call twice, even at once
    await core.stop();
    expect(await core.execute({ name: 'startRide' })).toMatchObject({ ok: false, error: { code: 'not_started' } });
    await core.start();
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_command' } });
    expect(await core.execute({ name: 'endRide' })).toMatchObject({ ok: false, error: { code: 'no_ride' } });
  });
});
