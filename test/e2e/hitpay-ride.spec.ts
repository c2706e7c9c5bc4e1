/**
 * HitPay (PayNow) rides end to end: `npm start`'s stack, the HitPay cab's kiosk preview in Debian
 * Chromium, the passenger's banking app played by the sandbox's PayNow page. There is no static
 * QR: the tablet shows the relay's QR for this payment, with the amounts and a countdown, once
 * the tip is picked. A failed payment gets a new QR from the driver ("New QR"), and the old one
 * can no longer be paid.
 */
import { expect, test, type Page } from '@playwright/test';
import { formatMoney } from '../../protocol/money.js';
import { startDemoStack, type DemoCab, type DemoStack } from '../helpers/demo.js';
import { decodeQrFromPng } from '../../scripts/lib/qr.js';

let stack: DemoStack;
let cab: DemoCab;

// One stack for the file: each test plays its own ride on the HitPay cab.
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  // The relay's QR lives 61 s, while the sandbox is told "2 mins" (HitPay takes whole minutes):
  // the relay's expiry then cancels a request that is still pending at HitPay.
  stack = await startDemoStack({ HITPAY_QR_TTL_S: '61' });
  const found = stack.cabs.find((c) => c.psp === 'hitpay');
  if (!found) throw new Error(`npm start listed no HitPay cab: ${JSON.stringify(stack.cabs)}`);
  cab = found;
});
test.afterAll(async () => {
  await stack?.stop();
});

/** Intl puts no-break spaces in money; compare texts with plain ones. */
const normalize = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();
const sgd = (minor: number) => normalize(formatMoney(minor, 'SGD', 'en'));

async function moneyText(page: Page, testId: string): Promise<string> {
  return normalize(await page.getByTestId(testId).textContent());
}

interface HitpayLedger {
  payment_requests: Array<{ id: string; status: string; currency: string; amount_minor: number }>;
  payments: Array<{ id: string; payment_request_id: string; status: string; currency: string; amount_minor: number }>;
  totals: Record<string, { charged_minor: number }>;
}
async function hitpayLedger(): Promise<HitpayLedger> {
  return (await (await fetch(`${stack.sandboxUrl}/sandbox/hitpay/ledger`)).json()) as HitpayLedger;
}

/** The kiosk of the HitPay cab, on its idle screen (a previous test's paid ride dismissed). */
async function openKiosk(browser: import('@playwright/test').Browser): Promise<Page> {
  const kiosk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await kiosk.goto(cab.kioskUrl);
  await expect(kiosk.locator('[data-testid^="screen-"]')).toHaveCount(1);
  if (await kiosk.getByTestId('screen-paid').isVisible()) await kiosk.getByTestId('dismiss').click();
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();
  return kiosk;
}

/** Start a ride, key the fare, end it: the tip picker comes up on the passenger's side. */
async function rideTo(kiosk: Page, fare: number) {
  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('screen-on-ride')).toBeVisible();
  // Keyed in minor units, as on a taximeter.
  for (const digit of String(fare)) await kiosk.getByTestId(`key-${digit}`).click();
  await expect(kiosk.getByTestId('fare-display')).toHaveText(sgd(fare));
  await kiosk.getByTestId('end-ride').click();
  await expect(kiosk.getByTestId('tip-picker')).toBeVisible();
}

/** The passenger's banking app: decode the QR off the kiosk's screen. */
async function scanPaymentQr(kiosk: Page): Promise<string> {
  await expect(kiosk.getByTestId('dynamic-qr')).toBeVisible();
  const scanned = decodeQrFromPng(await kiosk.getByTestId('payment-qr').screenshot());
  expect(scanned).toMatch(new RegExp(`^${stack.sandboxUrl.replace(/[.]/g, '\\.')}/hitpay/paynow/[^/?#]+$`));
  return scanned!;
}

const requestIdOf = (paynowUrl: string) => decodeURIComponent(paynowUrl.slice(paynowUrl.lastIndexOf('/') + 1));

async function openPaynow(browser: import('@playwright/test').Browser, url: string): Promise<Page> {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(url);
  return phone;
}

test('idle: no QR, "Pay by QR at the end of the ride"; a ride with a tip is paid by the dynamic QR in SGD', async ({ browser }) => {
  expect(cab.currency).toBe('SGD');
  expect(cab.qrContent).toBeNull();
  const kiosk = await openKiosk(browser);
  await expect(kiosk.getByTestId('pay-at-end')).toContainText('Pay by QR at the end of the ride');
  await expect(kiosk.getByTestId('cab-qr')).toHaveCount(0);
  await expect(kiosk.getByTestId('payment-qr')).toHaveCount(0);
  // Nothing a camera could pay with. jsQR may frame an empty version-1 "code" ("") in blank space
  // between three text glyphs it takes for finder patterns (the letters here, not the icon); that
  // carries nothing. The note's icon itself must read as no code at all.
  expect(decodeQrFromPng(await kiosk.screenshot()) ?? '').toBe('');
  expect(decodeQrFromPng(await kiosk.locator('.pay-at-end-note').screenshot())).toBeNull();
  await kiosk.screenshot({ path: test.info().outputPath('hitpay-idle.png') });

  const fare = 3_550; // SGD 35.50
  await rideTo(kiosk, fare);
  await kiosk.getByTestId('tip-option-10').click();
  const tip = 355;
  expect(await moneyText(kiosk, 'tip-total')).toBe(sgd(fare + tip));
  await kiosk.getByTestId('tip-confirm').click();

  // The relay's QR, with what it is for and how long it is valid.
  const url = await scanPaymentQr(kiosk);
  expect(await moneyText(kiosk, 'pay-fare')).toBe(sgd(fare));
  expect(await moneyText(kiosk, 'pay-tip')).toBe(sgd(tip));
  expect(await moneyText(kiosk, 'pay-total')).toBe(sgd(fare + tip));
  await expect(kiosk.getByTestId('qr-countdown')).toHaveText(/^0[01]:[0-5]\d$/);
  await kiosk.screenshot({ path: test.info().outputPath('hitpay-dynamic-qr.png') });

  const phone = await openPaynow(browser, url);
  await expect(phone.getByTestId('amount')).toHaveText(`SGD ${((fare + tip) / 100).toFixed(2)}`);
  await phone.getByTestId('pay-button').click();
  await expect(phone.getByTestId('status')).toHaveAttribute('data-status', 'completed');

  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  expect(await moneyText(kiosk, 'paid-fare')).toBe(sgd(fare));
  expect(await moneyText(kiosk, 'paid-tip')).toBe(sgd(tip));
  expect(await moneyText(kiosk, 'paid-total')).toBe(sgd(fare + tip));
  expect(await moneyText(kiosk, 'paid-total')).toBe('SGD 39.05');

  const ledger = await hitpayLedger();
  const id = requestIdOf(url);
  expect(ledger.payment_requests.find((r) => r.id === id)).toMatchObject({ status: 'completed', currency: 'SGD', amount_minor: fare + tip });
  expect(ledger.payments.filter((p) => p.payment_request_id === id)).toEqual([
    expect.objectContaining({ status: 'succeeded', currency: 'SGD', amount_minor: fare + tip }),
  ]);
  await phone.close();
  await kiosk.close();
});

test('a declined payment: "New QR" shows a different QR, which is paid; the first can no longer be paid', async ({ browser }) => {
  const kiosk = await openKiosk(browser);
  const fare = 2_000; // SGD 20.00
  await rideTo(kiosk, fare);
  await kiosk.getByTestId('tip-none').click();
  await kiosk.getByTestId('tip-confirm').click();
  const first = await scanPaymentQr(kiosk);
  expect(await moneyText(kiosk, 'pay-tip')).toBe(sgd(0));
  expect(await moneyText(kiosk, 'pay-total')).toBe(sgd(fare));

  const phone = await openPaynow(browser, first);
  await phone.getByTestId('decline-button').click();
  await expect(phone.getByTestId('status')).toHaveAttribute('data-status', 'failed');

  await expect(kiosk.getByTestId('screen-failed')).toBeVisible();
  await expect(kiosk.getByTestId('failure-reason')).toHaveAttribute('data-failure-code', 'payment_rejected');
  await expect(kiosk.getByTestId('failure-reason')).toContainText('declined the payment in their banking app');
  // Nothing left to scan: the old QR is gone from the passenger's side.
  await expect(kiosk.getByTestId('payment-not-completed')).toBeVisible();
  await expect(kiosk.getByTestId('payment-qr')).toHaveCount(0);
  await expect(kiosk.getByTestId('retry-payment')).toContainText('New QR');
  await kiosk.screenshot({ path: test.info().outputPath('hitpay-failed.png') });

  await kiosk.getByTestId('retry-payment').click();
  const second = await scanPaymentQr(kiosk);
  expect(second).not.toBe(first);
  expect(await moneyText(kiosk, 'pay-total')).toBe(sgd(fare));

  // The first request cannot be paid any more: at the sandbox, and on its page.
  const again = await fetch(`${stack.sandboxUrl}/sandbox/hitpay/payment-requests/${encodeURIComponent(requestIdOf(first))}/pay`, { method: 'POST' });
  expect(again.status).toBe(409);
  await phone.reload();
  await expect(phone.getByTestId('pay-button')).toBeHidden();

  await phone.goto(second);
  await phone.getByTestId('pay-button').click();
  await expect(phone.getByTestId('status')).toHaveAttribute('data-status', 'completed');
  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  expect(await moneyText(kiosk, 'paid-fare')).toBe(sgd(fare));
  expect(await moneyText(kiosk, 'paid-tip')).toBe(sgd(0));
  expect(await moneyText(kiosk, 'paid-total')).toBe(sgd(fare));

  const ledger = await hitpayLedger();
  expect(ledger.payment_requests.find((r) => r.id === requestIdOf(first))).toMatchObject({ status: 'failed' });
  expect(ledger.payment_requests.find((r) => r.id === requestIdOf(second))).toMatchObject({ status: 'completed', amount_minor: fare });
  expect(ledger.payments.filter((p) => p.payment_request_id === requestIdOf(first))).toEqual([expect.objectContaining({ status: 'failed' })]);
  await phone.close();
  await kiosk.close();
});

test('an expired QR: the relay cancels the pending request at HitPay; "New QR" is paid', async ({ browser }) => {
  test.setTimeout(180_000);
  const kiosk = await openKiosk(browser);
  const fare = 1_200; // SGD 12.00
  await rideTo(kiosk, fare);
  await kiosk.getByTestId('tip-option-5').click();
  const tip = 60;
  await kiosk.getByTestId('tip-confirm').click();
  const first = await scanPaymentQr(kiosk);

  // Nobody pays: at 0 the tablet says so, then the relay fails the ride and cancels the request.
  await expect(kiosk.getByTestId('qr-expired')).toBeVisible({ timeout: 75_000 });
  await expect(kiosk.getByTestId('screen-failed')).toBeVisible({ timeout: 30_000 });
  await expect(kiosk.getByTestId('failure-reason')).toHaveAttribute('data-failure-code', 'payment_expired');
  expect((await hitpayLedger()).payment_requests.find((r) => r.id === requestIdOf(first))).toMatchObject({ status: 'canceled' });

  await kiosk.getByTestId('retry-payment').click();
  const second = await scanPaymentQr(kiosk);
  expect(second).not.toBe(first);
  expect(await moneyText(kiosk, 'pay-total')).toBe(sgd(fare + tip));

  const phone = await openPaynow(browser, first);
  await expect(phone.getByTestId('status')).toHaveAttribute('data-status', 'canceled');
  await expect(phone.getByTestId('pay-button')).toBeHidden();
  await phone.goto(second);
  await phone.getByTestId('pay-button').click();
  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  expect(await moneyText(kiosk, 'paid-total')).toBe(sgd(fare + tip));
  expect((await hitpayLedger()).payment_requests.find((r) => r.id === requestIdOf(second))).toMatchObject({ status: 'completed', amount_minor: fare + tip });
  await phone.close();
  await kiosk.close();
});
