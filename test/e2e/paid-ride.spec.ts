/**
 * The walking skeleton, end to end: `npm start`'s stack on ephemeral ports, the kiosk in Debian
 * Chromium through the preview host, the passenger on the sandbox's phone page.
 */
import { expect, test, type Page } from '@playwright/test';
import { formatMoney, maxTip } from '../../protocol/money.js';
import { startDemoStack, type DemoStack } from '../helpers/demo.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';

let stack: DemoStack;

test.beforeAll(async () => {
  stack = await startDemoStack();
});
test.afterAll(async () => {
  await stack?.stop();
});

const normalize = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();
const money = (minor: number) => normalize(formatMoney(minor, 'SEK', 'sv'));

async function typeFare(page: Page, digits: string) {
  for (const digit of digits) await page.getByTestId(`key-${digit}`).click();
}

test('a ride paid by QR with a tip shows fare, tip and total', async ({ browser }) => {
  const kiosk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await kiosk.goto(stack.kioskUrl);
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();
  await expect(kiosk.getByTestId('cab-plate')).toContainText('ABC 123');

  // The passenger's camera: read the QR off the kiosk's screen.
  const qrPng = await kiosk.getByTestId('cab-qr').screenshot();
  const scanned = decodeQrFromPng(qrPng);
  expect(scanned).toBe(stack.qrData);

  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('screen-on-ride')).toBeVisible();

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(`${stack.sandboxUrl}/pay?qr=${encodeURIComponent(scanned!)}`);
  await expect(kiosk.getByTestId('passenger-ready')).toBeVisible();

  const fare = 25_000; // 250,00 kr
  await typeFare(kiosk, '25000');
  await expect(kiosk.getByTestId('fare-display')).toHaveText(new RegExp(money(fare).replace(/\s/g, '\\s')));
  await kiosk.getByTestId('end-ride').click();
  await expect(kiosk.getByTestId('screen-awaiting-payment')).toBeVisible();

  // The passenger sees the amount and adds a 10% tip.
  await expect(phone.getByTestId('order-amount')).toBeVisible();
  await phone.getByTestId('tip-10').click();
  await phone.getByTestId('pay-button').click();
  const tip = Math.floor((fare * 10) / 100);
  expect(tip).toBeLessThanOrEqual(maxTip(fare));

  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  expect(normalize(await kiosk.getByTestId('paid-fare').textContent())).toBe(money(fare));
  expect(normalize(await kiosk.getByTestId('paid-tip').textContent())).toBe(money(tip));
  expect(normalize(await kiosk.getByTestId('paid-total').textContent())).toBe(money(fare + tip));

  // The PSP's own ledger agrees.
  const ledger = (await (await fetch(`${stack.sandboxUrl}/sandbox/ledger`)).json()) as { payments: Array<Record<string, unknown>> };
  expect(ledger.payments).toHaveLength(1);
  expect(ledger.payments[0]).toMatchObject({ amount: fare + tip, tip_amount: tip });
});
