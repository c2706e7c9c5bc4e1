/**
 * The built renderer in Chromium, driven through a scripted window.cabpay: the screens the
 * snapshots call for, the test ids the e2e tests rely on, the commands the controls send,
 * and the QR a phone would scan. Skipped, with the reason printed, where Chromium is missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KioskSnapshot, SessionView } from '../../protocol/kiosk-api.js';
import type { OrderLine } from '../../protocol/relay-protocol.js';
import { calls, chromiumPath, haveChromium, openKiosk, plain, push, rootThemeAndLang, startHarness, type Harness } from '../../scripts/lib/browser-harness.js';
import { cabFor, idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

if (!haveChromium) console.log(`Skipping the renderer browser tests: no Chromium at ${chromiumPath} (apt-get install -y chromium).`);

const lines: OrderLine[] = [
  { id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 34250, vatRate: 6 },
  { id: 'extra-1', kind: 'toll', label: 'Vägtull', amount: 4500, vatRate: 0 },
  { id: 'extra-2', kind: 'luggage', label: 'Bagage', amount: 2000, vatRate: 6 },
];
const session = (state: SessionView['state']): SessionView => ({
  sessionId: 's-1',
  psp: 'hips',
  allowTip: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  expiresAt: '2026-11-21T10:15:00.000Z',
  state,
});
const sv = (overrides: Partial<KioskSnapshot> = {}) =>
  idleSnapshot({ locale: 'sv', theme: 'day', cab: cabFor('hips', { qrContent: 'https://hips.example/qr/m-8841/cab-42' }), ...overrides });

describe.skipIf(!haveChromium)('the kiosk UI in Chromium', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('keeps the bundle small: at most 250 KB of gzipped JavaScript', () => {
    const assets = path.join(harness.outDir, 'assets');
    const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(assets, f))).length, 0);
    expect(gzipped).toBeLessThanOrEqual(250 * 1024);
  });

  it('idle: a scannable QR of at least 360 px with the cab id and plate as text', async () => {
    const page = await openKiosk(harness, sv({ session: session('ready') }));
    await expect(page.getByTestId('screen-idle').isVisible()).resolves.toBe(true);
    expect(await page.getByTestId('cab-id').textContent()).toBe('cab-42');
    expect(await page.getByTestId('cab-plate').textContent()).toBe('ABC 123');
    expect(await page.getByTestId('passenger-ready').isVisible()).toBe(true);
    const qr = page.getByTestId('cab-qr');
    const box = await qr.boundingBox();
    expect(box!.width).toBeGreaterThanOrEqual(360);
    const png = PNG.sync.read(await qr.screenshot());
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe('https://hips.example/qr/m-8841/cab-42');
    await page.getByTestId('start-ride').click();
    expect(await calls(page)).toEqual([['startRide']]);
    await page.close();
  });

  it('on ride: the keypad enters minor units, extras go to the core, End ride sends the fare first', async () => {
    const page = await openKiosk(harness, sv({ ride: ride('on_ride') }));
    expect(await page.getByTestId('end-ride').isDisabled()).toBe(true);
    for (const key of ['1', '2', '3', '5', '0']) await page.getByTestId(`key-${key}`).click();
    expect(plain(await page.getByTestId('fare-display').textContent())).toBe('123,50 kr');
    await page.getByTestId('key-back').click();
    expect(plain(await page.getByTestId('fare-display').textContent())).toBe('12,35 kr');
    await page.getByTestId('key-0').click();
    await page.getByTestId('extra-toll').click();
    // The core answers with the extra as an order line; the running total includes it.
    await push(page, sv({ ride: ride('on_ride', { lines: [lines[1]!] }) }));
    expect(await page.getByTestId('order-line').count()).toBe(1);
    expect(plain(await page.getByTestId('running-total').textContent())).toBe('168,50 kr');
    await page.getByTestId('end-ride').click();
    await expect.poll(() => calls(page)).toEqual([['addExtra', { kind: 'toll', amountMinor: 4500, label: 'Vägavgift' }], ['setFare', 12350], ['endRide']]);
    await page.close();
  });

  it('on ride: cancel asks first, and only the confirmation cancels', async () => {
    const page = await openKiosk(harness, sv({ ride: ride('on_ride') }));
    await page.getByTestId('cancel-ride').click();
    expect(await calls(page)).toEqual([]);
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => calls(page)).toEqual([['cancelRide']]);
    expect(await page.getByTestId('confirm-cancel').count()).toBe(0);
    await page.close();
  });

  it('awaiting payment: itemized lines, the order amount and the tip rule on the passenger side', async () => {
    const page = await openKiosk(harness, sv({ ride: ride('awaiting_payment', { lines, orderAmount: 40750, order: 'created' }), session: session('in_use') }));
    expect(await page.getByTestId('screen-awaiting-payment').isVisible()).toBe(true);
    expect(await page.getByTestId('order-line').count()).toBe(3);
    expect(plain(await page.getByTestId('order-amount').textContent())).toBe('407,50 kr');
    expect(plain(await page.getByTestId('tip-note').textContent())).toBe('Dricks valfritt, upp till 20 % av 407,50 kr');
    // maxTip(40750) = floor(40750 * 20 / 100) = 8150.
    expect(plain(await page.getByTestId('max-tip').textContent())).toBe('81,50 kr');
    expect(await page.getByTestId('start-ride').isVisible()).toBe(true);
    await page.close();
  });

  it('a refused relay event about the ride warns the driver in their language; the passenger side is unchanged', async () => {
    const awaiting = ride('awaiting_payment', { lines, orderAmount: 40750, order: 'created' });
    const base = sv({ ride: awaiting, session: session('in_use') });
    const page = await openKiosk(harness, base);
    expect(await page.getByTestId('refused-event').count()).toBe(0);
    const passengerBefore = await page.locator('.pane-passenger').innerHTML();

    const refusedEvent = { type: 'order.paid' as const, reason: 'paid in USD, but the ride is in SEK', at: '2026-11-21T10:20:00.000Z' };
    await push(page, { ...base, ride: { ...awaiting, refusedEvent } });
    const warning = page.locator('.pane-driver').getByTestId('refused-event');
    await expect.poll(() => warning.count()).toBe(1);
    expect(await warning.getAttribute('data-event-type')).toBe('order.paid');
    expect(await warning.getAttribute('role')).toBe('alert');
    expect(await warning.textContent()).toContain('Kontrollera resan');
    expect(await warning.textContent()).toContain('resan är betald först när skärmen visar Betald');
    // Only the driver sees it: the passenger's side is as it was, and holds no warning.
    expect(await page.locator('.pane-passenger').getByTestId('refused-event').count()).toBe(0);
    expect(await page.locator('.pane-passenger').innerHTML()).toBe(passengerBefore);
    // The core's English reason is for the log, not the screen.
    expect(await page.getByText(refusedEvent.reason).count()).toBe(0);

    // A refused payment QR, with the driver's own language (Finnish) beside the passenger's Swedish.
    await push(page, {
      ...base,
      driver: { ...base.driver, locale: 'fi' },
      ride: { ...awaiting, refusedEvent: { ...refusedEvent, type: 'payment.qr' } },
    });
    await expect.poll(() => warning.getAttribute('data-event-type')).toBe('payment.qr');
    expect(await warning.textContent()).toContain('Tarkista kyyti');
    expect(await warning.textContent()).toContain('anna matkustajan maksaa vain tämän näytön QR-koodilla');
    await page.close();
  });

  it('paid: fare, tip and total as formatted amounts only', async () => {
    const payment = {
      rideId: ride('paid').rideId,
      pspOrderId: 'p-1',
      orderAmount: 40750,
      tipAmount: 6000,
      totalAmount: 46750,
      currency: 'SEK',
      paidAt: '2026-11-21T10:30:00.000Z',
      method: 'psp' as const,
      receiptUrl: 'https://relay.example/receipts/AAAAAAAAAAAAAAAAAAAAAA',
    };
    const page = await openKiosk(harness, sv({ ride: ride('paid', { lines, orderAmount: 40750 }), payment }));
    expect(plain(await page.getByTestId('paid-fare').textContent())).toBe('407,50 kr');
    expect(plain(await page.getByTestId('paid-tip').textContent())).toBe('60,00 kr');
    expect(plain(await page.getByTestId('paid-total').textContent())).toBe('467,50 kr');
    await page.getByTestId('dismiss').click();
    await expect.poll(() => calls(page)).toEqual([['dismiss']]);
    await page.close();
  });

  it('failed: the reason, the QR to scan again, and "paid another way"', async () => {
    const failure = { code: 'payment_failed', message: 'The payment did not go through (card declined).' };
    const page = await openKiosk(harness, sv({ ride: ride('failed', { lines, orderAmount: 40750, failure }) }));
    // The core's code is worded by the renderer, in the screen's language (Swedish here).
    await expect.poll(() => page.getByTestId('failure-reason').textContent()).toContain('Betalningen gick inte igenom');
    expect(await page.getByTestId('failure-reason').getAttribute('data-failure-code')).toBe('payment_failed');
    expect(await page.getByText(failure.message).count()).toBe(0);
    expect(await page.getByTestId('cab-qr').isVisible()).toBe(true);
    await page.getByTestId('mark-paid-otherwise').click();
    await expect.poll(() => calls(page)).toEqual([['markPaidOtherwise']]);
    await page.close();
  });

  it('every ride state has its screen, and every control is a 64 px touch target', async () => {
    const page = await openKiosk(harness, sv());
    const cases: Array<[KioskSnapshot, string]> = [
      [sv(), 'screen-idle'],
      [sv({ ride: ride('on_ride') }), 'screen-on-ride'],
      [sv({ ride: ride('ended', { lines, orderAmount: 40750 }) }), 'screen-ended'],
      [sv({ ride: ride('awaiting_payment', { lines, orderAmount: 40750, order: 'queued' }) }), 'screen-awaiting-payment'],
      [sv({ ride: ride('paid', { lines, orderAmount: 40750 }) }), 'screen-paid'],
      [sv({ ride: ride('failed', { lines, orderAmount: 40750 }) }), 'screen-failed'],
      [sv({ ride: ride('canceled') }), 'screen-canceled'],
    ];
    for (const [snapshot, testId] of cases) {
      await push(page, snapshot);
      await page.getByTestId(testId).waitFor();
      expect(await page.locator('[data-testid^="screen-"]').count(), testId).toBe(1);
      const small = await page.$$eval('button', (buttons) =>
        buttons
          .map((b) => ({ text: b.textContent || b.getAttribute('aria-label'), rect: b.getBoundingClientRect() }))
          .filter(({ rect }) => rect.width < 64 || rect.height < 64)
          .map(({ text, rect }) => `${text} ${Math.round(rect.width)}×${Math.round(rect.height)}`),
      );
      expect(small, testId).toEqual([]);
    }
    await page.close();
  });

  it('offline: a banner with the queued count and a running duration, gone when back online', async () => {
    const now = new Date('2026-11-21T12:00:00.000Z');
    const offline = sv({
      connectivity: { relay: 'offline', offlineSince: new Date(now.getTime() - 7 * 60_000).toISOString(), problem: null },
      outboxDepth: 2,
      ride: ride('awaiting_payment', { lines, orderAmount: 40750, order: 'queued' }),
    });
    const page = await openKiosk(harness, offline, {}, { clockAt: now });
    expect(await page.getByTestId('offline-banner').textContent()).toContain('Frånkopplad i 7 minuter');
    await page.clock.runFor(60_000);
    expect(await page.getByTestId('offline-banner').textContent()).toContain('Frånkopplad i 8 minuter');
    expect(await page.getByTestId('outbox-depth').textContent()).toBe('2');
    expect(await page.getByText('Betald', { exact: true }).count()).toBe(0);
    await push(page, { ...offline, connectivity: { relay: 'online', offlineSince: null, problem: null }, outboxDepth: 0 });
    await page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await page.close();
  });

  it('language and theme: one tap sends the command, the pushed snapshot re-renders', async () => {
    const page = await openKiosk(harness, sv({ theme: 'night' }));
    expect(await rootThemeAndLang(page)).toEqual(['night', 'sv']);
    expect(await page.getByTestId('start-ride').textContent()).toBe('Starta resa');
    await page.getByTestId('locale-en').click();
    await page.getByTestId('theme-toggle').click();
    await expect
      .poll(() => calls(page))
      .toEqual([
        ['setLocale', 'en'],
        ['setTheme', 'auto'],
      ]);
    await push(page, sv({ locale: 'en', theme: 'day' }));
    expect(await page.getByTestId('start-ride').textContent()).toBe('Start ride');
    expect(await rootThemeAndLang(page)).toEqual(['day', 'en']);
    await page.close();
  });

  it('auto theme: day until 19:00 local time, then night, without a reload', async () => {
    // 18:30 in Stockholm (UTC+1 in November).
    const page = await openKiosk(harness, sv({ theme: 'auto' }), {}, { clockAt: new Date('2026-11-21T17:30:00.000Z'), timezoneId: 'Europe/Stockholm' });
    expect((await rootThemeAndLang(page))[0]).toBe('day');
    await page.clock.runFor(31 * 60_000);
    expect((await rootThemeAndLang(page))[0]).toBe('night');
    await page.close();
  });

  it('a refused command shows the core’s message in a toast', async () => {
    const message = 'A ride is already running. End or cancel it before starting a new one.';
    const page = await openKiosk(harness, sv(), { startRide: message });
    await page.getByTestId('start-ride').click();
    expect(await page.getByTestId('error-toast').textContent()).toBe(message);
    await page.close();
  });
});
