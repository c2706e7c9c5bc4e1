/**
 * Vipps MobilePay and HitPay in the built renderer, driven by scripted snapshots: the tip picker,
 * the dynamic QR with its countdown, retry after a failed relay-made payment, the idle screen
 * without a static QR, and refunds in the PIN-protected settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KioskSnapshot, RideView } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';
import { calls, chromiumPath, haveChromium, openKiosk, plain, push, startHarness, type Harness } from '../../scripts/lib/browser-harness.js';
import { cabFor, idleSnapshot, recentPayment, ride } from '../../scripts/lib/renderer-fixtures.js';

if (!haveChromium) console.log(`Skipping the renderer browser tests: no Chromium at ${chromiumPath}.`);

const now = new Date('2026-11-21T10:30:00.000Z');
const PAYNOW =
  '00020101021226490009SG.PAYNOW010120213201234567X0301004082026112153037025406' + '27.505802SG5914CABPAY TAXI 426009SINGAPORE62170513CAB42RIDE00016304ABCD';

function snap(psp: PspName, rideView: RideView | null, overrides: Partial<KioskSnapshot> = {}): KioskSnapshot {
  const currency = psp === 'hitpay' ? 'SGD' : psp === 'vipps' ? 'NOK' : 'SEK';
  return idleSnapshot({ cab: cabFor(psp), currency, theme: 'day', locale: psp === 'vipps' ? 'nb' : 'en', ride: rideView, ...overrides });
}
const vippsRide = (overrides: Partial<RideView> = {}, state: RideView['state'] = 'ended') =>
  ride(state, { lines: [{ id: 'fare', kind: 'fare', label: 'Taxi', amount: 24_500, vatRate: 12 }], orderAmount: 24_500, currency: 'NOK', ...overrides });
const hitpayRide = (overrides: Partial<RideView> = {}, state: RideView['state'] = 'awaiting_payment') =>
  ride(state, {
    lines: [{ id: 'fare', kind: 'fare', label: 'Taxi', amount: 2_500, vatRate: 9 }],
    orderAmount: 2_500,
    currency: 'SGD',
    tipAmount: 250,
    order: 'created',
    ...overrides,
  });
/** Whether a camera finds any QR at all in a PNG, even one holding nothing (jsQR's data ""). */
function anyQrIn(png: Buffer): boolean {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height) !== null;
}
const smallButtons = (page: import('@playwright/test').Page) =>
  page.$$eval('button', (buttons) =>
    buttons
      .map((b) => ({ text: b.textContent || b.getAttribute('aria-label'), rect: b.getBoundingClientRect() }))
      .filter(({ rect }) => rect.width > 0 && (rect.width < 64 || rect.height < 64))
      .map(({ text, rect }) => `${text} ${Math.round(rect.width)}×${Math.round(rect.height)}`),
  );

describe.skipIf(!haveChromium)('Vipps MobilePay and HitPay in the kiosk UI', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('HitPay idle and on ride: no QR, the cab identity and "pay by QR at the end"', async () => {
    const page = await openKiosk(harness, snap('hitpay', null));
    expect(await page.getByTestId('cab-qr').count()).toBe(0);
    expect(await page.getByTestId('pay-at-end').innerText()).toContain('Pay by QR at the end of the ride');
    expect(await page.getByTestId('pay-at-end').innerText()).toContain('PayNow');
    expect(await page.getByTestId('cab-plate').textContent()).toBe('ABC 123');
    // Nothing a camera could pay with on the whole screen (jsQR may frame an empty code between
    // text glyphs it takes for finder patterns; that carries nothing).
    expect(decodeQrFromPng(await page.screenshot()) ?? '').toBe('');
    // The note's icon reads as no code at all, also with a camera held close (drawn QR-sized).
    expect(anyQrIn(await page.locator('.pay-at-end-note').screenshot())).toBe(false);
    for (const size of [120, 240, 360]) {
      await page.locator('.pay-at-end-note svg').evaluate((svg, px) => svg.setAttribute('style', `width:${px}px;height:${px}px`), size);
      expect(anyQrIn(await page.locator('.pay-at-end-note').screenshot()), `icon at ${size} px`).toBe(false);
    }
    await page.locator('.pay-at-end-note svg').evaluate((svg) => svg.removeAttribute('style'));
    await push(page, snap('hitpay', ride('on_ride', { currency: 'SGD' })));
    expect(await page.getByTestId('pay-at-end').innerText()).toContain('Pay by QR at the end of the ride');
    await page.close();
  });

  it('Vipps idle: the static QR, captioned with the app that reads it', async () => {
    const page = await openKiosk(harness, snap('vipps', null, { locale: 'en' }));
    expect(await page.getByTestId('scan-caption').textContent()).toBe('Scan with the Vipps MobilePay app');
    expect(decodeQrFromPng(await page.getByTestId('cab-qr').screenshot())).toBe(cabFor('vipps').qrContent);
    await page.close();
  });

  it('tip picker: presets show their amounts on the stated base, the total follows, the choice is sent once confirmed', async () => {
    const page = await openKiosk(harness, snap('vipps', vippsRide()));
    expect(plain(await page.getByTestId('tip-base').textContent())).toBe('Tips beregnes av 245,00 kr');
    expect(plain(await page.getByTestId('tip-amount-5').textContent())).toBe('12,25 kr');
    expect(plain(await page.getByTestId('tip-amount-10').textContent())).toBe('24,50 kr');
    expect(plain(await page.getByTestId('tip-amount-15').textContent())).toBe('36,75 kr');
    expect(plain(await page.getByTestId('tip-amount-20').textContent())).toBe('49,00 kr');
    expect(await page.getByTestId('tip-confirm').isDisabled()).toBe(true);
    expect(await smallButtons(page)).toEqual([]);
    await page.getByTestId('tip-option-10').click();
    expect(plain(await page.getByTestId('tip-total').textContent())).toBe('269,50 kr');
    expect(plain(await page.getByTestId('tip-confirm').textContent())).toBe('Betal 269,50 kr');
    expect(await calls(page)).toEqual([]);
    await page.getByTestId('tip-confirm').click();
    await expect.poll(() => calls(page)).toEqual([['chooseTip', 2_450]]);
    await page.close();
  });

  it('tip picker: "No tip" sends 0', async () => {
    const page = await openKiosk(harness, snap('vipps', vippsRide()));
    await page.getByTestId('tip-none').click();
    expect(plain(await page.getByTestId('tip-total').textContent())).toBe('245,00 kr');
    await page.getByTestId('tip-confirm').click();
    await expect.poll(() => calls(page)).toEqual([['chooseTip', 0]]);
    await page.close();
  });

  it('tip picker: a custom amount over 20 % is refused with the cap named; at the cap it goes', async () => {
    const page = await openKiosk(harness, snap('vipps', vippsRide()));
    await page.getByTestId('tip-custom').click();
    for (const key of ['5', '0', '0', '0']) await page.getByTestId(`tip-key-${key}`).click();
    expect(plain(await page.getByTestId('tip-custom-amount').textContent())).toBe('50,00 kr');
    expect(plain(await page.getByTestId('tip-over-cap').textContent())).toContain('49,00 kr');
    expect(await page.getByTestId('tip-confirm').isDisabled()).toBe(true);
    await page.getByTestId('tip-confirm').click({ force: true });
    expect(await calls(page)).toEqual([]);
    await page.getByTestId('tip-key-clear').click();
    for (const key of ['4', '9', '0', '0']) await page.getByTestId(`tip-key-${key}`).click();
    expect(await page.getByTestId('tip-over-cap').count()).toBe(0);
    expect(plain(await page.getByTestId('tip-total').textContent())).toBe('294,00 kr');
    await page.getByTestId('tip-confirm').click();
    await expect.poll(() => calls(page)).toEqual([['chooseTip', 4_900]]);
    await page.close();
  });

  it('Vipps after the tip: scan the static QR to pay the total, then approve in the app', async () => {
    const page = await openKiosk(harness, snap('vipps', vippsRide({ tipAmount: 2_450 }), { locale: 'en' }));
    expect(plain(await page.locator('.scan-heading').textContent())).toBe('Scan the QR with the Vipps MobilePay app to pay NOK 269.50');
    expect(await page.getByTestId('cab-qr').isVisible()).toBe(true);
    await push(page, snap('vipps', vippsRide({ tipAmount: 2_450, order: 'created' }, 'awaiting_payment'), { locale: 'en' }));
    expect(await page.locator('.pane-passenger').innerText()).toContain('Approve the payment in your app');
    expect(plain(await page.getByTestId('order-amount').textContent())).toBe('NOK 245.00');
    expect(plain(await page.getByTestId('pay-tip').textContent())).toBe('NOK 24.50');
    expect(plain(await page.getByTestId('pay-total').textContent())).toBe('NOK 269.50');
    // What the passenger approves dominates: the total is drawn well above the fare and the tip.
    const fontPx = (id: string) => page.getByTestId(id).evaluate((el) => parseFloat(el.ownerDocument.defaultView!.getComputedStyle(el).fontSize));
    const total = await fontPx('pay-total');
    expect(total).toBeGreaterThanOrEqual(1.5 * (await fontPx('order-amount')));
    expect(total).toBeGreaterThanOrEqual(1.5 * (await fontPx('pay-tip')));
    await page.close();
  });

  it('HitPay: "Preparing the QR…" while queued, then a large QR that decodes, with fare, tip and total', async () => {
    const queued = snap('hitpay', hitpayRide({ order: 'queued' }, 'ended'), {
      connectivity: { relay: 'offline', offlineSince: new Date(now.getTime() - 60_000).toISOString(), problem: null },
      outboxDepth: 1,
    });
    const page = await openKiosk(harness, queued, {}, { clockAt: now });
    expect(await page.getByTestId('qr-preparing').innerText()).toContain('Preparing the QR…');
    expect(await page.getByTestId('offline-banner').isVisible()).toBe(true);
    await push(page, snap('hitpay', hitpayRide({ paymentQr: { qrData: PAYNOW, amount: 2_750, currency: 'SGD', expiresAt: '2026-11-21T10:35:00.000Z' } })));
    const qr = page.getByTestId('payment-qr');
    await qr.waitFor();
    expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(400);
    expect(decodeQrFromPng(await qr.screenshot())).toBe(PAYNOW);
    expect(await page.getByTestId('dynamic-qr').innerText()).toContain('Scan with your banking app (PayNow)');
    expect(plain(await page.getByTestId('pay-fare').textContent())).toBe('SGD 25.00');
    expect(plain(await page.getByTestId('pay-tip').textContent())).toBe('SGD 2.50');
    expect(plain(await page.getByTestId('pay-total').textContent())).toBe('SGD 27.50');
    // The page's clock runs from `now`; a few seconds may pass while the page loads.
    expect(await page.getByTestId('qr-countdown').textContent()).toMatch(/^0[45]:[0-5]\d$/);
    await page.close();
  });

  it('HitPay: the countdown ticks down to "QR expired", and the QR is gone', async () => {
    const shown = snap('hitpay', hitpayRide({ paymentQr: { qrData: PAYNOW, amount: 2_750, currency: 'SGD', expiresAt: '2026-11-21T10:31:25.000Z' } }));
    const page = await openKiosk(harness, shown, {}, { clockAt: now });
    // Stop the page's clock 20 s after `now` (well after the page has loaded): 65 s are left.
    await page.clock.pauseAt(new Date(now.getTime() + 20_000));
    expect(await page.getByTestId('qr-countdown').textContent()).toBe('01:05');
    await page.clock.runFor(10_000);
    expect(await page.getByTestId('qr-countdown').textContent()).toBe('00:55');
    await page.clock.runFor(60_000);
    await page.getByTestId('qr-expired').waitFor();
    expect(await page.getByTestId('payment-qr').count()).toBe(0);
    expect(await page.getByTestId('qr-expired').innerText()).toContain('QR expired');
    expect(await page.getByTestId('payment-status').innerText()).toContain('expired');
    await page.close();
  });

  it('retry: an expired HitPay payment offers "New QR", which asks the core for a fresh request', async () => {
    const failure = { code: 'payment_expired', message: 'The payment request expired.' };
    const page = await openKiosk(harness, snap('hitpay', hitpayRide({ failure }, 'failed')));
    expect(await page.getByTestId('failure-reason').getAttribute('data-failure-code')).toBe('payment_expired');
    expect(await page.getByTestId('failure-reason').textContent()).toContain('Nobody paid');
    expect(await page.getByTestId('retry-payment').innerText()).toContain('New QR');
    expect(await page.getByTestId('cab-qr').count()).toBe(0);
    expect(await page.getByTestId('mark-paid-otherwise').isVisible()).toBe(true);
    expect(await smallButtons(page)).toEqual([]);
    await page.getByTestId('retry-payment').click();
    await expect.poll(() => calls(page)).toEqual([['retryPayment']]);
    await page.close();
  });

  it('a declined payment names the app the passenger declined in: the banking app with a dynamic QR, their app otherwise', async () => {
    const failure = { code: 'payment_rejected', message: 'declined' };
    const page = await openKiosk(harness, snap('hitpay', hitpayRide({ failure }, 'failed')));
    expect(await page.getByTestId('failure-reason').textContent()).toBe(
      'The passenger declined the payment in their banking app. Try again, or take payment another way.',
    );
    await push(page, snap('hitpay', hitpayRide({ failure }, 'failed'), { locale: 'fi' }));
    await expect.poll(() => page.getByTestId('failure-reason').textContent()).toContain('pankkisovelluksessaan');
    await push(page, snap('vipps', vippsRide({ tipAmount: 0, failure }, 'failed'), { locale: 'en' }));
    await expect
      .poll(() => page.getByTestId('failure-reason').textContent())
      .toBe('The passenger declined the payment in their app. Try again, or take payment another way.');
    await page.close();
  });

  it('retry: Vipps says "Send again"; an expired check-in asks for a new scan instead', async () => {
    const page = await openKiosk(
      harness,
      snap('vipps', vippsRide({ tipAmount: 0, failure: { code: 'payment_rejected', message: 'x' } }, 'failed'), { locale: 'en' }),
    );
    expect(await page.getByTestId('retry-payment').innerText()).toContain('Send again');
    // The passenger is told the same thing the driver's button does, not to scan again.
    expect(await page.getByTestId('cab-qr').count()).toBe(0);
    expect(await page.getByTestId('payment-not-completed').textContent()).toContain('The driver can send the payment to your app again.');
    await push(page, snap('vipps', vippsRide({ tipAmount: 0, failure: { code: 'customer_token_expired', message: 'x' } }, 'failed'), { locale: 'en' }));
    await expect.poll(() => page.getByTestId('retry-payment').count()).toBe(0);
    expect(await page.getByTestId('failure-reason').textContent()).toContain('Ask the passenger to scan the QR again');
    expect(await page.getByTestId('cab-qr').isVisible()).toBe(true);
    // Hips keeps its own failure screen: no retry button.
    await push(page, snap('hips', ride('failed', { orderAmount: 100, failure: { code: 'payment_expired', message: 'x' } })));
    await expect.poll(() => page.getByTestId('retry-payment').count()).toBe(0);
    await page.close();
  });

  it('refunds: full after a confirmation, partial with the keypad up to what is refundable, none when nothing is left', async () => {
    const a = recentPayment();
    const b = recentPayment({
      rideId: 'r-b',
      merchantOrderId: 'cab-42.r-b',
      totalAmount: 10_000,
      refundedAmount: 10_000,
      refundableAmount: 0,
      refund: { refundId: 'f-1', amount: 10_000, state: 'refunded', failure: null, requestedAt: '2026-11-21T09:50:00.000Z' },
    });
    const c = recentPayment({
      rideId: 'r-c',
      merchantOrderId: 'cab-42.r-c',
      refund: {
        refundId: 'f-2',
        amount: 5_000,
        state: 'failed',
        failure: { code: 'refund_refused', message: 'refused' },
        requestedAt: '2026-11-21T09:55:00.000Z',
      },
    });
    const base = snap('vipps', null, { locale: 'en', recentPayments: [a, b, c] });
    const page = await openKiosk(harness, { ...base, driver: { ...base.driver, settings: 'unlocked' } });
    await page.getByTestId('open-settings').click();
    await page.getByTestId('settings-tab-refunds').click();
    expect(await page.getByTestId(`refund-full-${b.rideId}`).isDisabled()).toBe(true);
    expect(await page.getByTestId(`refund-partial-${b.rideId}`).isDisabled()).toBe(true);
    expect(plain(await page.getByTestId(`refund-state-${b.rideId}`).textContent())).toBe('Refunded NOK 100.00');
    expect(await page.getByTestId(`refund-state-${c.rideId}`).textContent()).toContain('The payment service refused the refund');

    await page.getByTestId(`refund-full-${a.rideId}`).click();
    expect(await calls(page)).toEqual([]);
    await page.getByTestId('refund-confirm').click();
    await expect.poll(() => calls(page)).toEqual([['refundRide', a.rideId, 29_400]]);

    await page.getByTestId(`refund-partial-${c.rideId}`).click();
    for (const key of ['3', '0', '0', '0', '0']) await page.getByTestId(`refund-key-${key}`).click();
    expect(plain(await page.getByTestId('refund-over').textContent())).toContain('NOK 294.00');
    expect(await page.getByTestId('refund-submit').isDisabled()).toBe(true);
    await page.getByTestId('refund-key-back').click();
    expect(plain(await page.getByTestId('refund-amount').textContent())).toBe('NOK 30.00');
    await page.getByTestId('refund-submit').click();
    await page.getByTestId('refund-confirm').click();
    await expect.poll(async () => (await calls(page)).at(-1)).toEqual(['refundRide', c.rideId, 3_000]);

    // The core queues it; offline it waits for the connection.
    const queued = {
      ...c,
      refundableAmount: 26_400,
      refund: { refundId: 'f-3', amount: 3_000, state: 'queued' as const, failure: null, requestedAt: '2026-11-21T10:31:00.000Z' },
    };
    await push(page, {
      ...base,
      driver: { ...base.driver, settings: 'unlocked' },
      recentPayments: [a, b, queued],
      connectivity: { relay: 'offline', offlineSince: now.toISOString(), problem: null },
    });
    await expect.poll(async () => plain(await page.getByTestId(`refund-state-${c.rideId}`).textContent())).toBe('Refund of NOK 30.00 waiting for connection');
    await page.close();
  });
});
