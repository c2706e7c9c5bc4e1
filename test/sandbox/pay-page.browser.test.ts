/**
 * The phone page in real Chromium at 390×844 (Debian's /usr/bin/chromium).
 * Skipped, with the reason printed, where no Chromium is installed.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, oneTimeKey, orderBody, startReceiver, testSandbox, waitFor, type Receiver } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`Skipping the phone-page browser tests: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH).`);

let browser: Browser;
let sb: Sandbox;
let relay: Receiver;
let page: Page;

describe.skipIf(!haveChromium)('phone page in Chromium', () => {
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    relay = await startReceiver();
    sb = await testSandbox();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US', isMobile: true, hasTouch: true });
    page = await context.newPage();
  });
  afterEach(async () => {
    await page.context().close();
    await sb.close();
    await relay.close();
  });

  const text = (id: string) => page.getByTestId(id).innerText();

  it('scans from the QR link, shows the itemized fare and the tip cap, and pays with a tip', async () => {
    const qr = await connectedQr(sb, relay);
    await page.goto(qr.qr_data); // the camera opens the QR URL; it redirects to /pay
    await expect.poll(() => text('scan-state')).toMatch(/Connected/);
    expect(await text('cab-plate')).toBe(qr.qr_code); // no plate in this QR's data: its code
    const sessionId = relay.received[0]!.body.session_id as string;

    const created = await call(sb.url, 'POST', '/v2/orders', {
      auth: `Bearer ${oneTimeKey(relay, sessionId)}`,
      body: orderBody(sessionId, relay),
    });
    expect(created.status).toBe(201);
    await expect.poll(() => text('scan-state'), { timeout: 5000 }).toMatch(/Check the fare/);
    expect(await text('order-amount')).toContain('260.00');
    expect(await text('order-items')).toContain('Luggage');
    expect(await text('tip-hint')).toContain('Tip optional, up to 20% of SEK');
    expect(await text('tip-hint')).toContain('260.00');

    await page.getByTestId('tip-custom').fill('52.01');
    expect(await page.getByTestId('pay-button').isDisabled()).toBe(true);
    expect(await text('pay-error')).toContain('52.00');

    await page.getByTestId('tip-10').click();
    expect(await text('pay-total')).toContain('286.00');
    const box = await page.getByTestId('pay-button').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await page.getByTestId('pay-button').click();

    await expect.poll(() => text('scan-state')).toMatch(/Paid/);
    expect(await text('paid-total')).toContain('286.00');
    const hook = await waitFor('payment hook', () => relay.received.find((h) => h.body.event === 'payment.successful'));
    expect(hook.body.resource).toMatchObject({ order_amount: 26_000, tip_amount: 2_600, amount: 28_600 });

    // A reload shows the paid session again instead of scanning anew.
    await page.reload();
    await expect.poll(() => text('scan-state')).toMatch(/Paid/);
    expect(await text('paid-total')).toContain('286.00');
    expect(relay.received.filter((h) => h.body.request_type === 'start_qr_session')).toHaveLength(1);
  });

  it('shows a hostile plate and line names as text: no markup of theirs runs', async () => {
    const qr = await connectedQr(sb, relay);
    // A plate is at most 20 characters.
    const plate = '<svg/onload=__p=1>';
    await page.goto(`${qr.qr_data}?dynamic=${encodeURIComponent(JSON.stringify({ plate }))}`);
    await expect.poll(() => text('scan-state')).toMatch(/Connected/);
    expect(await text('cab-plate')).toBe(plate);
    const sessionId = relay.received[0]!.body.session_id as string;
    const lineName = '<script>window.__pwned=2</script><img src=y onerror="window.__pwned=3">';
    const created = await call(sb.url, 'POST', '/v2/orders', {
      auth: `Bearer ${oneTimeKey(relay, sessionId)}`,
      body: orderBody(sessionId, relay, {
        cart: { items: [{ name: lineName, quantity: 1, unit_price: 24_000, vat_amount: 1_358, type: 'service' }] },
      }),
    });
    expect(created.status).toBe(201);
    await expect.poll(() => text('order-items'), { timeout: 5000 }).toContain(lineName);
    // Nothing they wrote ran, and no element of theirs is in the page (only its own script).
    expect(
      await page.evaluate(`({
        pwned: globalThis.__pwned ?? globalThis.__p ?? null,
        markup: document.querySelectorAll('img, svg').length,
        scripts: document.scripts.length,
      })`),
    ).toEqual({ pwned: null, markup: 0, scripts: 1 });
  });

  it("shows the merchant's down text at once when the start hook is refused", async () => {
    relay.setResponder(() => ({ status: 412, body: { down_response_text: 'Cab 7 is off duty.' } }));
    const qr = await connectedQr(sb, relay);
    await page.goto(`${sb.url}/pay?qr=${encodeURIComponent(qr.qr_data)}`);
    await expect.poll(() => text('down-text')).toBe('Cab 7 is off duty.');
    expect(await page.getByTestId('down-text').isVisible()).toBe(true);
    expect(await page.getByTestId('order-section').isVisible()).toBe(false);
  });
});
