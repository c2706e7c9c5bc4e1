/**
 * The receipt names the PSP that took the payment. A HitPay payment has no scan session, so the
 * PSP comes from the cab's config; a ride paid another way names none. Real core (temp dataDir)
 * against a loopback /cab relay; the receipt is read back from the kiosk's own database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import type { KioskConfig } from '../../electron/core/config.js';
import { KioskStore } from '../../electron/core/store.js';
import { receiptPayload } from '../../protocol/receipt.js';
import { quietLogger, TestRelay, testConfig, waitFor, waitForState } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function hitpayCore(): Promise<{ core: KioskCore; relay: TestRelay; config: KioskConfig }> {
  const relay = await new TestRelay().start(0);
  cleanups.push(() => relay.stop());
  const config = testConfig({ relayUrl: relay.url, pspUrl: relay.url, psp: 'hitpay', currency: 'SGD', qrContent: null });
  const core = createKioskCore(config, { logger: quietLogger, random: () => 0.5, backoff: { baseMs: 20, capMs: 200 } });
  // stop() is idempotent: the tests stop the core early to read its database.
  cleanups.push(() => core.stop());
  await core.start();
  await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'online');
  return { core, relay, config };
}

async function must(core: KioskCore, command: Parameters<KioskCore['execute']>[0]): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.message}`);
}

/** The receipt as the kiosk stored it (read after the core has closed its database). */
function storedReceipt(config: KioskConfig, rideId: string) {
  const store = KioskStore.open(config.dataDir!);
  try {
    const receipt = store.getReceipt(rideId);
    if (!receipt) throw new Error(`no receipt stored for ride ${rideId}`);
    return receiptPayload.parse(JSON.parse(receipt.payloadJson));
  } finally {
    store.close();
  }
}

describe('receipt PSP', () => {
  it('a HitPay payment (no scan session) names hitpay, from the cab config', async () => {
    const { core, relay, config } = await hitpayCore();
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 2_000 });
    await must(core, { name: 'endRide' });
    const rideId = core.getState().ride!.rideId;
    await must(core, { name: 'chooseTip', tipAmountMinor: 200 });
    await waitFor(() => relay.requests.some((r) => r.event === 'payment.request'), 5_000, 'payment.request');
    relay.push('order.paid', {
      merchantOrderId: `CAB-7.${rideId}`,
      pspOrderId: 'hp-pay-1',
      currency: 'SGD',
      orderAmount: 2_000,
      tipAmount: 200,
      totalAmount: 2_200,
    });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    expect(paid.session).toBeNull();
    await core.stop();

    expect(storedReceipt(config, rideId)).toMatchObject({
      method: 'psp',
      psp: 'hitpay',
      pspReference: 'hp-pay-1',
      currency: 'SGD',
      totalAmount: 2_200,
      tipAmount: 200,
    });
  });

  it('a ride paid another way names no PSP, even on a HitPay cab', async () => {
    const { core, config } = await hitpayCore();
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 1_500 });
    await must(core, { name: 'endRide' });
    const rideId = core.getState().ride!.rideId;
    await must(core, { name: 'markPaidOtherwise' });
    await waitForState(core, (s) => s.ride?.state === 'paid', 5_000, 'paid');
    await core.stop();

    expect(storedReceipt(config, rideId)).toMatchObject({ method: 'other', psp: null, totalAmount: 1_500 });
  });
});
