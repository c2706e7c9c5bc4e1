/**
 * A relay-made payment the relay acked and then heard nothing about: the ride times out at the
 * deadline the ack gave, after a short grace for the relay's own word (kept across a restart), and the driver may then retry, cancel or take
 * payment another way. The real core (temp dataDir) against a loopback Socket.IO relay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskConfig } from '../../electron/core/config.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { RELAY_DEADLINE_GRACE_MS } from '../../electron/core/ride-machine.js';
import { quietLogger, TestRelay, testConfig, waitFor, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The relay acks every payment.request with a deadline `deadlineMs` from now, and then says nothing. */
async function silentRelay(deadlineMs: number): Promise<TestRelay> {
  const relay = await new TestRelay().start(0);
  relay.answer = (r) =>
    r.event === 'payment.request'
      ? {
          ok: true,
          value: { pspReference: `pr-${String(r.payload.rideId)}-${String(r.payload.attempt)}`, expiresAt: new Date(Date.now() + deadlineMs).toISOString() },
        }
      : { ok: true, value: { tracked: true } };
  cleanups.push(() => relay.stop());
  return relay;
}

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

/** A HitPay ride whose payment request the relay holds: it waits for a passenger who never pays. */
async function awaitingRide(core: KioskCore): Promise<string> {
  await must(core, { name: 'startRide' });
  await must(core, { name: 'setFare', amountMinor: 2_000 });
  await must(core, { name: 'endRide' });
  await must(core, { name: 'chooseTip', tipAmountMinor: 0 });
  const held = await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'payment request held by the relay');
  return held.ride!.rideId;
}

const timedOut = (core: KioskCore) => waitForState(core, (s) => s.ride?.state === 'failed', 30_000, 'the ride timed out at its deadline');
/** Two deadlines with their grace, a restart and the rides around them. */
const SLOW = { timeout: 120_000 };

describe('the deadline of a relay-made payment', SLOW, () => {
  it('the ride times out at the ack’s deadline, after a restart too; then retry and cancel are allowed', async () => {
    const relay = await silentRelay(2_500);
    const config = testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'hitpay', currency: 'SGD', qrContent: null });
    const first = await startCore(config);
    const rideId = await awaitingRide(first);
    const waiting = first.getState().ride!;
    expect(waiting).toMatchObject({ state: 'awaiting_payment', paymentExpiresAt: expect.any(String) });
    const deadline = Date.parse(waiting.paymentExpiresAt!);
    // Before the deadline the payment may still be paid: nothing else is allowed.
    expect(await first.execute({ name: 'cancelRide' })).toMatchObject({ ok: false, error: { code: 'cannot_cancel' } });
    expect(await first.execute({ name: 'retryPayment' })).toMatchObject({ ok: false, error: { code: 'nothing_to_retry' } });
    expect(await first.execute({ name: 'markPaidOtherwise' })).toMatchObject({ ok: false, error: { code: 'cannot_mark_paid' } });

    // The tablet restarts before the deadline: the deadline is in its database.
    await first.stop();
    const core = await startCore(config);
    expect(core.getState().ride).toMatchObject({ rideId, state: 'awaiting_payment', paymentExpiresAt: waiting.paymentExpiresAt });
    const failed = await timedOut(core);
    // The relay's own payment_expired had its grace first.
    expect(Date.now()).toBeGreaterThanOrEqual(deadline + RELAY_DEADLINE_GRACE_MS);
    expect(failed.ride).toMatchObject({ rideId, failure: { code: 'payment_expired' } });

    await must(core, { name: 'retryPayment' });
    await waitFor(() => relay.requests.filter((r) => r.event === 'payment.request' && r.payload.attempt === 2).length === 1, 10_000, 'attempt 2');
    await waitForState(core, (s) => s.ride?.order === 'created' && s.ride.state === 'awaiting_payment', 10_000, 'attempt 2 held');
    await timedOut(core);
    await must(core, { name: 'cancelRide' });
    expect(core.getState().ride).toMatchObject({ rideId, state: 'canceled' });
  });

  it('after the deadline the driver may mark it paid another way; a late payment from the relay still counts', async () => {
    const relay = await silentRelay(1_500);
    const core = await startCore(testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'hitpay', currency: 'SGD', qrContent: null }));
    const rideId = await awaitingRide(core);
    await timedOut(core);
    await must(core, { name: 'markPaidOtherwise' });
    expect(core.getState().ride).toMatchObject({ rideId, state: 'paid' });
    expect(core.getState().payment).toMatchObject({ method: 'other' });

    await must(core, { name: 'dismiss' });
    const next = await awaitingRide(core);
    await timedOut(core);
    relay.push('order.paid', { merchantOrderId: `CAB-7.${next}`, pspOrderId: 'late-1', currency: 'SGD', orderAmount: 2_000, tipAmount: 0, totalAmount: 2_000 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 10_000, 'late payment applied');
    expect(paid.payment).toMatchObject({ rideId: next, method: 'psp', pspOrderId: 'late-1' });
  });
});
