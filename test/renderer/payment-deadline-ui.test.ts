/**
 * The deadline of a relay-made payment on the driver's screen: while it runs, when it ends and
 * what the driver can do then; once it passed, retry, paid another way and cancel, all on a
 * 1280×800 screen. Scripted snapshots in the built renderer.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KioskSnapshot, RideView } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { calls, chromiumPath, haveChromium, openKiosk, plain, push, startHarness, type Harness } from '../../scripts/lib/browser-harness.js';
import { cabFor, idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

if (!haveChromium) console.log(`Skipping the payment deadline UI tests: no Chromium at ${chromiumPath}.`);

const NOW = new Date('2026-11-21T10:30:00.000Z');
const SHOTS = path.resolve(import.meta.dirname, '../../test-results/payment-deadline');

function snap(psp: PspName, rideView: RideView, overrides: Partial<KioskSnapshot> = {}): KioskSnapshot {
  const currency = psp === 'hitpay' ? 'SGD' : 'NOK';
  return idleSnapshot({ cab: cabFor(psp), currency, theme: 'day', locale: 'en', ride: rideView, ...overrides });
}
const hitpayRide = (overrides: Partial<RideView> = {}, state: RideView['state'] = 'awaiting_payment') =>
  ride(state, {
    lines: [{ id: 'fare', kind: 'fare', label: 'Taxi', amount: 2_500, vatRate: 9 }],
    orderAmount: 2_500,
    currency: 'SGD',
    tipAmount: 250,
    order: 'created',
    ...overrides,
  });
const vippsRide = (overrides: Partial<RideView> = {}, state: RideView['state'] = 'awaiting_payment') =>
  ride(state, {
    lines: [{ id: 'fare', kind: 'fare', label: 'Taxi', amount: 24_500, vatRate: 12 }],
    orderAmount: 24_500,
    currency: 'NOK',
    tipAmount: 0,
    order: 'created',
    ...overrides,
  });

/** Every element with this test id lies fully inside the 1280×800 viewport. */
async function onScreen(page: import('@playwright/test').Page, testId: string): Promise<void> {
  const box = await page.getByTestId(testId).boundingBox();
  expect(box, testId).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(1280);
  expect(box!.y + box!.height).toBeLessThanOrEqual(800);
}

describe.skipIf(!haveChromium)('the payment deadline in the kiosk UI', () => {
  let harness: Harness;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    harness = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('while a HitPay request waits with no QR yet, the driver sees when it ends and what comes then, counting down', async () => {
    const expiresAt = new Date(NOW.getTime() + 4 * 60_000 + 12_000).toISOString();
    const page = await openKiosk(harness, snap('hitpay', hitpayRide({ paymentExpiresAt: expiresAt })), {}, { clockAt: NOW, timezoneId: 'Asia/Singapore' });
    const deadline = page.getByTestId('payment-deadline');
    // The page's clock runs on from NOW, so the countdown may have moved a second.
    expect(plain(await deadline.textContent())).toMatch(
      /^If nobody pays, the payment request ends in 04:1[0-2] \(at 06:34 PM\)\. Then you can try again, take payment another way or cancel the ride\.$/,
    );
    await page.clock.runFor(60_000);
    await expect.poll(async () => plain(await deadline.textContent())).toMatch(/ends in 03:1\d/);
    await onScreen(page, 'payment-deadline');
    await page.screenshot({ path: path.join(SHOTS, 'hitpay-waiting-1280x800.png') });
    // In every language.
    for (const [locale, words] of [
      ['sv', 'Betalar ingen'],
      ['nb', 'Betaler ingen'],
      ['da', 'Betaler ingen'],
      ['fi', 'Jos kukaan ei maksa'],
    ] as const) {
      await push(page, snap('hitpay', hitpayRide({ paymentExpiresAt: expiresAt }), { locale }));
      await expect.poll(async () => plain(await deadline.textContent())).toContain(words);
      await onScreen(page, 'payment-deadline');
    }
    await page.close();
  });

  it('a Vipps payment in the passenger’s app shows its deadline beside the status', async () => {
    const expiresAt = new Date(NOW.getTime() + 5 * 60_000).toISOString();
    const page = await openKiosk(
      harness,
      snap('vipps', vippsRide({ paymentExpiresAt: expiresAt }), { locale: 'nb' }),
      {},
      { clockAt: NOW, timezoneId: 'Europe/Oslo' },
    );
    expect(await page.getByTestId('payment-status').isVisible()).toBe(true);
    expect(plain(await page.getByTestId('payment-deadline').textContent())).toMatch(/om 0[45]:\d\d \(kl\. 11:35\)/);
    await onScreen(page, 'payment-deadline');
    await page.screenshot({ path: path.join(SHOTS, 'vipps-waiting-1280x800.png') });
    await page.close();
  });

  it('past the deadline: retry, paid another way and cancel (asked first), all on screen', async () => {
    const failure = { code: 'payment_expired', message: 'Nobody paid before the payment request ran out.' };
    const page = await openKiosk(harness, snap('hitpay', hitpayRide({ failure, paymentExpiresAt: NOW.toISOString() }, 'failed')), {}, { clockAt: NOW });
    for (const id of ['failure-reason', 'retry-payment', 'mark-paid-otherwise', 'cancel-ride']) await onScreen(page, id);
    await page.screenshot({ path: path.join(SHOTS, 'hitpay-expired-1280x800.png') });
    await page.getByTestId('cancel-ride').click();
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => calls(page)).toEqual([['cancelRide']]);
    await page.close();
  });

  it('a Hips order that failed while still at the PSP offers no cancel (the core refuses it)', async () => {
    const page = await openKiosk(
      harness,
      idleSnapshot({ ride: ride('failed', { orderAmount: 100, order: 'created', failure: { code: 'payment_unconfirmed', message: 'x' } }) }),
    );
    expect(await page.getByTestId('mark-paid-otherwise').isVisible()).toBe(true);
    expect(await page.getByTestId('cancel-ride').count()).toBe(0);
    await page.close();
  });
});
