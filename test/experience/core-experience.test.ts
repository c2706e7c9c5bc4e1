/**
 * The kiosk core's driver and passenger experience against the real relay (in process):
 * receipts made with the paid state and published (also after being offline), the PIN lock
 * around the driver settings, fleet extras with their VAT, and the passenger language reset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { hashPin, PIN_MAX_FAILURES } from '../../electron/core/pin.js';
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import { quietLogger, testConfig, waitForState } from '../core/helpers.js';
import { addCab, makeSigner, startInProcess, tempDir } from '../relay/helpers.js';

const PIN = '4711';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(options: { relayUp?: boolean } = {}) {
  const dir = tempDir('cabpay-exp-');
  const signer = await makeSigner(dir);
  let relay = await startInProcess(dir, signer, { fleetName: 'Exp Taxi AB', fleetOrgNumber: '556000-1234' });
  const token = await addCab(relay.url, 'CAB-7');
  const port = Number(new URL(relay.url).port);
  if (options.relayUp === false) await relay.app.close();
  const config = testConfig({ relayUrl: relay.url, pspUrl: 'http://127.0.0.1:9', deviceToken: token, locale: 'sv' });
  const core = createKioskCore(config, { logger: quietLogger, driver: { driverPinHash: hashPin(PIN), latitude: 59.33, longitude: 18.07 } });
  await core.start();
  cleanups.push(async () => {
    await core.stop();
    await relay.app.close();
  });
  return {
    core,
    relayUrl: () => relay.url,
    async restartRelay() {
      relay = await startInProcess(dir, signer, { port, fleetName: 'Exp Taxi AB', fleetOrgNumber: '556000-1234' });
    },
  };
}

async function must(core: KioskCore, command: KioskCommand) {
  const result = await core.execute(command);
  expect(result, JSON.stringify(command)).toEqual({ ok: true, value: null });
}

async function paidOtherwise(core: KioskCore, fare: number) {
  await must(core, { name: 'startRide' });
  await must(core, { name: 'setFare', amountMinor: fare });
  await must(core, { name: 'addExtra', extra: { kind: 'booking_fee', amountMinor: 5_000 } });
  await must(core, { name: 'endRide' });
  await must(core, { name: 'markPaidOtherwise' });
  return core.getState();
}

describe('receipts from the kiosk core', () => {
  it('knows the receipt URL at once and the relay serves it once published', async () => {
    const { core, relayUrl } = await setUp();
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    const paid = await paidOtherwise(core, 31_800);
    expect(paid.payment).toMatchObject({ method: 'other', pspOrderId: '' });
    const url = paid.payment!.receiptUrl!;
    expect(url).toMatch(new RegExp(`^${relayUrl()}/receipts/[A-Za-z0-9_-]{22}$`));
    const page = await pollOk(url);
    expect(page).toContain('Exp Taxi AB');
    expect(page).toContain('556000-1234');
    expect(page.replace(/\s/g, ' ')).toContain('368,00 kr');
  });

  it('makes the receipt while offline and publishes it when the relay is back', async () => {
    const env = await setUp({ relayUp: false });
    await waitForState(env.core, (s) => s.connectivity.relay === 'offline');
    const paid = await paidOtherwise(env.core, 20_000);
    const url = paid.payment!.receiptUrl!;
    expect(url).toContain('/receipts/');
    await env.restartRelay();
    await waitForState(env.core, (s) => s.connectivity.relay === 'online', 20_000);
    expect(await pollOk(url, 20_000)).toContain('Exp Taxi AB');
  });
});

describe('driver settings behind the PIN', () => {
  it('refuses saves while locked, opens with the right PIN, and applies the fleet extras with their VAT', async () => {
    const { core } = await setUp();
    expect(core.getState().driver.settings).toBe('locked');
    const settings = {
      locale: 'en' as const,
      theme: 'night' as const,
      brightness: 40,
      driverId: 'D-12',
      extras: [{ kind: 'booking_fee' as const, amountMinor: 5_000, vatRate: 25 }],
    };
    expect(await core.execute({ name: 'saveDriverSettings', settings })).toMatchObject({ ok: false, error: { code: 'settings_locked' } });
    expect(await core.execute({ name: 'unlockSettings', pin: '0000' })).toMatchObject({ ok: false, error: { code: 'pin_wrong' } });
    await must(core, { name: 'unlockSettings', pin: PIN });
    expect(core.getState().driver.settings).toBe('unlocked');
    await must(core, { name: 'saveDriverSettings', settings });
    const s = core.getState();
    expect(s.driver).toMatchObject({ locale: 'en', brightness: 40, driverId: 'D-12' });
    expect(s.theme).toBe('night');
    expect(s.extras).toEqual(settings.extras);
    await must(core, { name: 'lockSettings' });
    expect(core.getState().driver.settings).toBe('locked');

    await must(core, { name: 'startRide' });
    await must(core, { name: 'addExtra', extra: { kind: 'booking_fee', amountMinor: 5_000 } });
    expect(core.getState().ride!.lines.find((l) => l.kind === 'booking_fee')?.vatRate).toBe(25);
  });

  it(`locks out after ${PIN_MAX_FAILURES} wrong PINs, even for the right one`, async () => {
    const { core } = await setUp();
    for (let i = 0; i < PIN_MAX_FAILURES; i++) await core.execute({ name: 'unlockSettings', pin: '9999' });
    expect(core.getState().driver.settings).toBe('locked_out');
    expect(core.getState().driver.lockedUntil).not.toBeNull();
    expect(await core.execute({ name: 'unlockSettings', pin: PIN })).toMatchObject({ ok: false, error: { code: 'pin_locked_out' } });
  });

  it("returns the passenger's language to the fleet default after the ride", async () => {
    const { core } = await setUp();
    await must(core, { name: 'setLocale', locale: 'fi' });
    await paidOtherwise(core, 10_000);
    expect(core.getState().locale).toBe('fi');
    await must(core, { name: 'dismiss' });
    expect(core.getState().locale).toBe('sv');
  });
});

async function pollOk(url: string, timeoutMs = 10_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url).catch(() => null);
    if (res?.ok) return res.text();
    if (Date.now() > until) throw new Error(`${url} did not answer 200 in time (last ${res?.status ?? 'no answer'})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
