/**
 * A Vipps MobilePay ride end to end: `npm start`'s stack, the Vipps cab's kiosk preview in Debian
 * Chromium, the passenger on the sandbox's Vipps app page. The passenger checks in by scanning
 * the cab's static QR, picks the tip on the tablet, approves the pushed payment in the app; the
 * relay captures it. Then the driver refunds part of it from the PIN-protected settings.
 */
import { expect, test, type Page } from '@playwright/test';
import { formatMoney } from '../../protocol/money.js';
import { startDemoStack, type DemoCab, type DemoStack } from '../helpers/demo.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';

let stack: DemoStack;
let cab: DemoCab;

test.beforeAll(async () => {
  stack = await startDemoStack();
  const found = stack.cabs.find((c) => c.psp === 'vipps');
  if (!found) throw new Error(`npm start listed no Vipps cab: ${JSON.stringify(stack.cabs)}`);
  cab = found;
});
test.afterAll(async () => {
  await stack?.stop();
});

const PIN = process.env.CABPAY_DEMO_PIN ?? '2468';
/** Intl puts no-break spaces in money; compare texts with plain ones. */
const normalize = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();
const nok = (minor: number) => normalize(formatMoney(minor, 'NOK', 'nb'));

async function press(page: Page, prefix: string, digits: string) {
  for (const digit of digits) await page.getByTestId(`${prefix}${digit}`).click();
}

async function moneyText(page: Page, testId: string): Promise<string> {
  return normalize(await page.getByTestId(testId).textContent());
}

interface VippsLedger {
  payments: Array<{ reference: string; state: string; currency: string; amount: number; authorized: number; captured: number; refunded: number }>;
}
async function vippsLedger(): Promise<VippsLedger> {
  return (await (await fetch(`${stack.sandboxUrl}/sandbox/vipps/ledger`)).json()) as VippsLedger;
}

test('a Vipps ride: check-in by QR, tip on the tablet, approve in the app, paid in NOK; then a partial refund', async ({ browser }) => {
  expect(cab.currency).toBe('NOK');
  expect(cab.locale).toBe('nb');
  expect(cab.qrContent).toBeTruthy();

  const kiosk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await kiosk.goto(cab.kioskUrl);
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();
  await expect(kiosk.getByTestId('cab-id')).toHaveText(cab.cabId);
  // The QR is a Vipps check-in: only the Vipps app reads it, and the caption says so.
  await expect(kiosk.getByTestId('scan-caption')).toContainText('Vipps MobilePay');

  // The passenger's camera: the cab's static QR off the kiosk's screen.
  const scanned = decodeQrFromPng(await kiosk.getByTestId('cab-qr').screenshot());
  expect(scanned).toBe(cab.qrContent);

  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('screen-on-ride')).toBeVisible();

  // The passenger scans with the phone: the QR's URL leads into the Vipps app page, which checks in.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'nb-NO' });
  const checkIn = phone.waitForResponse((res) => res.url().endsWith('/sandbox/vipps/checkin') && res.request().method() === 'POST');
  await phone.goto(scanned!);
  const { customerToken } = (await (await checkIn).json()) as { customerToken: string };
  expect(customerToken).toBeTruthy();
  await expect(phone.getByTestId('app-state')).toHaveAttribute('data-state', 'waiting');
  // The relay tells the tablet: the passenger's check-in is bound to this ride.
  await expect(kiosk.getByTestId('passenger-ready')).toBeVisible();

  const fare = 25_000; // 250,00 kr
  await press(kiosk, 'key-', '25000');
  await expect(kiosk.getByTestId('fare-display')).toHaveText(new RegExp(nok(fare).replace(/\s/g, '\\s')));
  await kiosk.getByTestId('end-ride').click();

  // The tip is picked on the tablet; nothing goes to the app before it is confirmed.
  await expect(kiosk.getByTestId('tip-picker')).toBeVisible();
  const tip = 2_500;
  expect(await moneyText(kiosk, 'tip-amount-10')).toBe(nok(tip));
  await kiosk.getByTestId('tip-option-10').click();
  expect(await moneyText(kiosk, 'tip-chosen')).toBe(nok(tip));
  expect(await moneyText(kiosk, 'tip-total')).toBe(nok(fare + tip));
  await kiosk.screenshot({ path: test.info().outputPath('vipps-tip-picker.png') });
  const pushes = (await (await fetch(`${stack.sandboxUrl}/sandbox/vipps/pushes?customerToken=${encodeURIComponent(customerToken)}`)).json()) as {
    payments: unknown[];
  };
  expect(pushes.payments).toEqual([]);
  await kiosk.getByTestId('tip-confirm').click();

  // The app gets the push for fare + tip; the tablet says to approve it there.
  await expect(kiosk.getByTestId('screen-awaiting-payment')).toBeVisible();
  await expect(phone.getByTestId('app-state')).toHaveAttribute('data-state', 'pushed');
  const shown = await phone.getByTestId('push-amount').textContent();
  expect(shown!.replace(/\D/g, '')).toBe(String(fare + tip));
  expect(shown).toMatch(/kr|NOK/);
  expect(await moneyText(kiosk, 'pay-total')).toBe(nok(fare + tip));
  await kiosk.screenshot({ path: test.info().outputPath('vipps-approve-in-app.png') });
  const { payments: pushed } = (await (await fetch(`${stack.sandboxUrl}/sandbox/vipps/pushes?customerToken=${encodeURIComponent(customerToken)}`)).json()) as {
    payments: Array<{ reference: string; amount: { value: number; currency: string } }>;
  };
  expect(pushed).toHaveLength(1);
  expect(pushed[0]!.amount).toEqual({ value: fare + tip, currency: 'NOK' });
  const reference = pushed[0]!.reference;

  await phone.getByTestId('approve-button').click();
  await expect(phone.getByTestId('app-state')).toHaveAttribute('data-state', 'approved');

  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  expect(await moneyText(kiosk, 'paid-fare')).toBe(nok(fare));
  expect(await moneyText(kiosk, 'paid-tip')).toBe(nok(tip));
  expect(await moneyText(kiosk, 'paid-total')).toBe(nok(fare + tip));
  // nb formatting: a decimal comma and "kr", e.g. "275,00 kr".
  expect(await moneyText(kiosk, 'paid-total')).toMatch(/^(kr )?275,00( kr)?$/);
  await kiosk.screenshot({ path: test.info().outputPath('vipps-paid.png') });

  // Vipps's own ledger: authorized and captured fare + tip for this reference.
  await expect
    .poll(async () => (await vippsLedger()).payments.find((p) => p.reference === reference))
    .toMatchObject({ currency: 'NOK', amount: fare + tip, authorized: fare + tip, captured: fare + tip, refunded: 0 });

  // The driver refunds part of it from the PIN-protected settings.
  await kiosk.getByTestId('open-settings').click();
  await press(kiosk, 'pin-', PIN);
  await kiosk.getByTestId('pin-submit').click();
  await kiosk.getByTestId('settings-tab-refunds').click();
  const row = kiosk.locator('[data-testid^="refund-row-"]');
  await expect(row).toHaveCount(1);
  const rideId = (await row.getAttribute('data-testid'))!.slice('refund-row-'.length);
  expect(await moneyText(kiosk, `refund-refunded-${rideId}`)).toBe(nok(0));

  const refund = 5_000; // 50,00 kr
  await kiosk.getByTestId(`refund-partial-${rideId}`).click();
  await press(kiosk, 'refund-key-', '5000');
  expect(await moneyText(kiosk, 'refund-amount')).toBe(nok(refund));
  await kiosk.getByTestId('refund-submit').click();
  await kiosk.getByTestId('refund-confirm').click();

  await expect(kiosk.getByTestId(`refund-state-${rideId}`)).toHaveAttribute('data-state', 'refunded');
  expect(await moneyText(kiosk, `refund-refunded-${rideId}`)).toBe(nok(refund));
  await kiosk.screenshot({ path: test.info().outputPath('vipps-refunded.png') });
  await expect
    .poll(async () => (await vippsLedger()).payments.find((p) => p.reference === reference))
    .toMatchObject({ captured: fare + tip, refunded: refund });
  const ledger = await vippsLedger();
  expect(ledger.payments).toHaveLength(1);
});
