/**
 * The receipt page in real Chromium under its own CSP: the hashed style and print script run,
 * nothing is blocked, and nothing else could run. Skipped, with the reason printed, where no
 * Chromium is installed.
 */
import { chromium, type Browser } from '@playwright/test';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newReceiptToken } from '../../electron/core/receipts.js';
import { addCab, connectTablet, hipsPaid, makeSigner, startInProcess, tempDir, waitForConnect, type Signer, type TestTablet } from '../relay/helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`Skipping the receipt-page browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH).`);

let browser: Browser;
let relay: Awaited<ReturnType<typeof startInProcess>>;
let tablet: TestTablet;
let signer: Signer;

describe.skipIf(!haveChromium)('receipt page in Chromium', () => {
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const dir = tempDir('cabpay-receipt-browser-');
    signer = await makeSigner(dir);
    relay = await startInProcess(dir, signer);
    tablet = connectTablet(relay.url, 'cab-b', await addCab(relay.url, 'cab-b'));
    await waitForConnect(tablet);
  });
  afterAll(async () => {
    tablet?.close();
    await relay?.app.close();
    await browser?.close();
  });

  it('applies its style and prints from the button, with no CSP violation', async () => {
    const rideId = 'ride-browser-1';
    const token = newReceiptToken();
    // The relay takes a card/app receipt only for a payment it recorded paid.
    await hipsPaid(relay.url, signer, 'cab-b', rideId, { pspOrderId: 'ord-1', orderAmount: 10_000, tipAmount: 0, currency: 'SEK' });
    const ack = await tablet.socket.timeout(5_000).emitWithAck('receipt.publish', {
      rideId,
      merchantOrderId: `cab-b.${rideId}`,
      token,
      // Markup from the tablet is text on the page, never code.
      driverId: '<img src=x onerror=alert(1)>',
      startedAt: '2026-11-21T17:05:00.000Z',
      endedAt: '2026-11-21T17:31:00.000Z',
      paidAt: '2026-11-21T17:32:00.000Z',
      currency: 'SEK',
      lines: [{ id: 'fare', kind: 'fare', label: '<script>alert(2)</script>', amount: 10_000, vatRate: 6 }],
      orderAmount: 10_000,
      tipAmount: 0,
      totalAmount: 10_000,
      method: 'psp',
      psp: 'hips',
      pspReference: 'ord-1',
      locale: 'en',
    });
    expect(ack).toMatchObject({ ok: true });

    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('dialog', (d) => {
      violations.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    // Chromium's print dialog stands in: count the calls instead.
    await page.addInitScript({ content: 'window.printed = 0; window.print = () => { window.printed++; };' });
    const res = await page.goto(`${relay.url}/receipts/${token}`);
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(238, 240, 242)');
    await page.getByRole('button', { name: 'Print' }).click();
    await expect.poll(() => page.evaluate('window.printed')).toBe(1);
    await expect(page.getByTestId('receipt-driver').textContent()).resolves.toBe('<img src=x onerror=alert(1)>');
    expect(violations).toEqual([]);
    await page.close();
  });
});
