/**
 * The driver and passenger experience in the built renderer, driven by scripted snapshots: the receipt QR, the driver's own
 * language beside the passenger's, the PIN-guarded settings (the PIN goes to the core), and the
 * re-provision notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';
import { calls, chromiumPath, haveChromium, openKiosk, push, startHarness, type Harness } from '../../scripts/lib/browser-harness.js';
import { idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

if (!haveChromium) console.log(`Skipping the renderer browser tests: no Chromium at ${chromiumPath}.`);

const lines = [{ id: 'fare', kind: 'fare' as const, label: 'Taxiresa', amount: 31_800, vatRate: 6 }];
const snap = (overrides: Partial<KioskSnapshot> = {}) => idleSnapshot({ theme: 'day', ...overrides });

describe.skipIf(!haveChromium)('the experience in the kiosk UI', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('paid: shows a receipt QR that decodes to the receipt URL', async () => {
    const receiptUrl = 'https://relay.example.com/receipts/Abc123_-Def456Ghi789Jk';
    const payment = {
      rideId: ride('paid').rideId,
      method: 'psp' as const,
      pspOrderId: 'o-1',
      receiptUrl,
      orderAmount: 31_800,
      tipAmount: 3_180,
      totalAmount: 34_980,
      currency: 'SEK',
      paidAt: '2026-11-21T10:30:00.000Z',
    };
    const page = await openKiosk(harness, snap({ ride: ride('paid', { lines, orderAmount: 31_800 }), payment }));
    expect(decodeQrFromPng(await page.getByTestId('receipt-qr').screenshot())).toBe(receiptUrl);
    await push(page, snap({ ride: ride('paid', { lines, orderAmount: 31_800 }), payment: { ...payment, receiptUrl: null } }));
    await expect.poll(() => page.getByTestId('receipt-qr').count()).toBe(0);
    await page.close();
  });

  it("the driver's side keeps the driver's language while the passenger picks another", async () => {
    const page = await openKiosk(
      harness,
      snap({ locale: 'fi', driver: { locale: 'sv', brightness: 80, driverId: null, settings: 'locked', lockedUntil: null } }),
    );
    expect(await page.getByTestId('start-ride').textContent()).toBe('Starta resa');
    expect(await page.locator('.pane-passenger').innerText()).toContain('Skannaa');
    expect(await page.locator('.pane-driver').getAttribute('lang')).toBe('sv');
    expect(await page.locator('.pane-passenger').getAttribute('lang')).toBe('fi');
    await page.close();
  });

  it('settings: the PIN goes to the core; once unlocked, a save sends the parsed settings', async () => {
    const locked = snap({ locale: 'en' });
    const page = await openKiosk(harness, locked);
    await page.getByTestId('open-settings').click();
    expect(await page.getByTestId('pin-submit').isDisabled()).toBe(true);
    for (const d of '2468') await page.getByTestId(`pin-${d}`).click();
    await page.getByTestId('pin-submit').click();
    await expect.poll(() => calls(page)).toEqual([['unlockSettings', '2468']]);
    // The PIN never shows in clear text.
    expect(await page.getByTestId('settings-dialog').innerText()).not.toContain('2468');

    await push(page, { ...locked, driver: { ...locked.driver, settings: 'unlocked' } });
    await page.getByTestId('settings-extra-booking_fee-amount').fill('50,5');
    await page.getByTestId('settings-extra-booking_fee-vat').fill('25');
    await page.getByTestId('settings-extra-luggage-amount').fill('');
    await page.getByTestId('driver-locale-sv').click();
    await page.getByTestId('settings-driver-id').fill(' D-9 ');
    await page.getByTestId('settings-save').click();
    // Saved, then locked and closed: the settings never stay open.
    await expect.poll(async () => (await calls(page)).map((c) => c[0])).toEqual(['unlockSettings', 'saveDriverSettings', 'lockSettings']);
    const [, save] = await calls(page);
    expect(save).toEqual([
      'saveDriverSettings',
      {
        locale: 'sv',
        theme: 'day',
        brightness: 80,
        driverId: 'D-9',
        extras: [
          { kind: 'toll', amountMinor: 4_500, vatRate: 0 },
          { kind: 'airport_fee', amountMinor: 9_500, vatRate: 6 },
          { kind: 'booking_fee', amountMinor: 5_050, vatRate: 25 },
        ],
      },
    ]);
    await page.close();
  });

  it('settings: while locked out after wrong PINs, the pad is disabled and says how long is left, counting down', async () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const base = snap({ locale: 'en' });
    const lockedOut = { ...base, driver: { ...base.driver, settings: 'locked_out' as const, lockedUntil: '2026-11-21T10:05:00.000Z' } };
    const page = await openKiosk(harness, lockedOut, {}, { clockAt: now, timezoneId: 'UTC' });
    await page.clock.pauseAt(new Date('2026-11-21T10:00:30.000Z'));
    await page.getByTestId('open-settings').click();
    const notice = page.getByTestId('pin-locked-out');
    // 4 min 30 s left, rounded up.
    await expect.poll(() => notice.textContent()).toBe('Too many wrong PINs. Try again in 5 minutes, at 10:05 AM.');
    expect(await page.getByTestId('pin-1').isDisabled()).toBe(true);
    expect(await page.getByTestId('pin-submit').isDisabled()).toBe(true);
    await page.clock.runFor(4 * 60_000);
    await expect.poll(() => notice.textContent()).toBe('Too many wrong PINs. Try again in 30 seconds, at 10:05 AM.');
    // The core lifts the lock when it ends: the pad is usable again.
    await push(page, base);
    await expect.poll(() => notice.count()).toBe(0);
    expect(await page.getByTestId('pin-1').isDisabled()).toBe(false);
    await page.close();
  });

  it('settings: refuses a VAT rate out of range without calling the core', async () => {
    const unlocked = snap({ locale: 'en' });
    const page = await openKiosk(harness, { ...unlocked, driver: { ...unlocked.driver, settings: 'unlocked' } });
    await page.getByTestId('open-settings').click();
    await page.getByTestId('settings-extra-toll-vat').fill('250');
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByRole('alert').count()).toBe(1);
    expect(await calls(page)).toEqual([]);
    await page.close();
  });

  it('settings: without a configured PIN the dialog says so and offers no PIN pad', async () => {
    const base = snap({ locale: 'en' });
    const page = await openKiosk(harness, { ...base, driver: { ...base.driver, settings: 'unavailable' } });
    await page.getByTestId('open-settings').click();
    expect(await page.getByTestId('settings-unavailable').isVisible()).toBe(true);
    expect(await page.getByTestId('pin-submit').count()).toBe(0);
    await page.close();
  });

  it('a refused device token asks for the cab to be re-provisioned', async () => {
    const page = await openKiosk(
      harness,
      snap({ locale: 'en', connectivity: { relay: 'offline', offlineSince: new Date().toISOString(), problem: 'unauthorized' } }),
    );
    expect(await page.getByTestId('connectivity-problem').innerText()).toMatch(/re-provision this cab/);
    await page.close();
  });

  it('plain HTTP to the relay (the development setting) shows on the status line, and only then', async () => {
    const page = await openKiosk(harness, snap({ locale: 'en', connectivity: { relay: 'online', offlineSince: null, problem: null, insecure: true } }));
    expect(await page.getByTestId('connectivity').innerText()).toMatch(/Online\s*·\s*Unencrypted \(development\)/);
    await page.close();
    const secure = await openKiosk(harness, snap({ locale: 'en' }));
    expect(await secure.getByTestId('connectivity-insecure').count()).toBe(0);
    await secure.close();
  });
});
