/**
 * Walks the kiosk through every screen with real state changes (the real core, relay, sandbox
 * and phone page; offline by cutting the network, "re-provision" by revoking the device token),
 * stopping at each scene for the caller: the UI tests check it, the screenshot script shoots it.
 */
import type { Browser, Page } from '@playwright/test';
import { EXPERIENCE_PIN, type ExperienceStack } from './experience-stack.js';

export type SceneName =
  | 'idle'
  | 'settings-pin'
  | 'settings'
  | 'passenger-ready'
  | 'on-ride'
  | 'cancel-confirm'
  | 'awaiting-payment'
  | 'phone-awaiting'
  | 'paid'
  | 'phone-paid'
  | 'ended'
  | 'failed'
  | 'canceled'
  | 'offline'
  | 'unauthorized';

export interface Scene {
  name: SceneName;
  /** The page to look at: the kiosk or the passenger's phone. */
  page: Page;
  kind: 'kiosk' | 'phone';
}

export interface WalkOptions {
  theme: 'day' | 'night';
  /** Ends with the device token revoked (the cab cannot reconnect afterwards). */
  revokeAtEnd?: boolean;
  /** Extra VAT rate set for the booking fee in the driver settings (two rates on one receipt). */
  bookingFeeVat?: number;
}

const KIOSK_VIEWPORT = { width: 1280, height: 800 };
const PHONE_VIEWPORT = { width: 390, height: 844 };

async function until(page: Page, testId: string, timeoutMs = 20_000): Promise<void> {
  await page.getByTestId(testId).first().waitFor({ state: 'visible', timeout: timeoutMs });
}

async function typeDigits(page: Page, prefix: string, digits: string): Promise<void> {
  for (const d of digits) await page.getByTestId(`${prefix}-${d}`).click();
}

/** day → night → auto by the header's toggle; stop at the wanted fixed theme. */
async function setTheme(page: Page, theme: 'day' | 'night'): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const current = await page.locator('html').getAttribute('data-theme');
    const label = (await page.getByTestId('theme-toggle').getAttribute('aria-label')) ?? '';
    if (current === theme && !/auto/i.test(label)) return;
    await page.getByTestId('theme-toggle').click();
    await page.waitForTimeout(150);
  }
  const current = await page.locator('html').getAttribute('data-theme');
  if (current !== theme) throw new Error(`could not switch the kiosk to the ${theme} theme (it shows ${current})`);
}

export async function walkKiosk(browser: Browser, stack: ExperienceStack, options: WalkOptions, visit: (scene: Scene) => Promise<void>): Promise<void> {
  // Own contexts per page (axe-core's Playwright runner needs them).
  const kioskContext = await browser.newContext({ viewport: KIOSK_VIEWPORT });
  const kiosk = await kioskContext.newPage();
  const at = (name: SceneName) => visit({ name, page: kiosk, kind: 'kiosk' });
  try {
    await kiosk.goto(stack.kioskUrl);
    await until(kiosk, 'screen-idle');
    await setTheme(kiosk, options.theme);
    await kiosk.getByTestId('offline-banner').waitFor({ state: 'detached', timeout: 20_000 });
    await at('idle');

    // Driver settings behind the PIN.
    await kiosk.getByTestId('open-settings').click();
    await until(kiosk, 'pin-submit');
    await typeDigits(kiosk, 'pin', EXPERIENCE_PIN.slice(0, 2));
    await at('settings-pin');
    await typeDigits(kiosk, 'pin', EXPERIENCE_PIN.slice(2));
    await kiosk.getByTestId('pin-submit').click();
    await until(kiosk, 'settings-save');
    if (options.bookingFeeVat !== undefined) {
      await kiosk.getByTestId('settings-extra-booking_fee-vat').fill(String(options.bookingFeeVat));
    }
    await kiosk.getByTestId('settings-driver-id').fill('D-4711');
    await at('settings');
    await kiosk.getByTestId('settings-save').click(); // saves, locks and closes
    await kiosk.getByTestId('settings-dialog').waitFor({ state: 'detached' });

    // A ride paid on the passenger's phone, with extras and a tip.
    const phoneContext = await browser.newContext({ viewport: PHONE_VIEWPORT, isMobile: true, hasTouch: true });
    const phone = await phoneContext.newPage();
    try {
      // The passenger scans as they get in: "passenger ready" before the ride starts.
      await phone.goto(`${stack.sandboxUrl}/pay?qr=${encodeURIComponent(stack.qrData)}`);
      await until(kiosk, 'passenger-ready');
      await at('passenger-ready');
      await kiosk.getByTestId('start-ride').click();
      await until(kiosk, 'screen-on-ride');
      await until(kiosk, 'passenger-ready');
      await typeDigits(kiosk, 'key', '31800');
      for (const kind of ['toll', 'airport_fee', 'booking_fee']) await kiosk.getByTestId(`extra-${kind}`).click();
      await kiosk.getByTestId('order-line').nth(2).waitFor();
      await at('on-ride');
      await kiosk.getByTestId('cancel-ride').click();
      await until(kiosk, 'confirm-cancel');
      await at('cancel-confirm');
      await kiosk.getByRole('alertdialog').getByRole('button').first().click(); // "No, keep the ride"
      await kiosk.getByTestId('end-ride').click();
      await until(kiosk, 'screen-awaiting-payment');
      await until(phone, 'pay-button');
      await at('awaiting-payment');
      await phone.getByTestId('tip-10').click();
      await visit({ name: 'phone-awaiting', page: phone, kind: 'phone' });
      await phone.getByTestId('pay-button').click();
      await until(kiosk, 'screen-paid');
      await until(kiosk, 'receipt-qr');
      await until(phone, 'paid-total');
      await at('paid');
      await visit({ name: 'phone-paid', page: phone, kind: 'phone' });
    } finally {
      await phoneContext.close();
    }

    // Ended without a scan, then a scan that the passenger cancels: the failed screen.
    await kiosk.getByTestId('start-ride').click();
    await until(kiosk, 'screen-on-ride');
    await typeDigits(kiosk, 'key', '12500');
    await kiosk.getByTestId('end-ride').click();
    await until(kiosk, 'screen-ended');
    await at('ended');
    const session = await stack.phone.scan();
    await until(kiosk, 'screen-awaiting-payment');
    await waitForOrder(stack, session);
    await stack.phone.cancel(session);
    await until(kiosk, 'screen-failed');
    await at('failed');

    // Nothing blocks the next ride: start it from the failed screen, then cancel it.
    await kiosk.getByTestId('start-ride').click();
    await until(kiosk, 'screen-on-ride');
    await kiosk.getByTestId('cancel-ride').click();
    await kiosk.getByTestId('confirm-cancel').click();
    await until(kiosk, 'screen-canceled');
    await at('canceled');
    await kiosk.getByTestId('dismiss').click();
    await until(kiosk, 'screen-idle');

    // Into a tunnel: the relay link is cut.
    stack.setOffline(true);
    await until(kiosk, 'offline-banner', 30_000);
    await at('offline');
    stack.setOffline(false);
    await kiosk.getByTestId('offline-banner').waitFor({ state: 'detached', timeout: 60_000 });

    if (options.revokeAtEnd) {
      await stack.revokeDeviceToken();
      await until(kiosk, 'connectivity-problem', 60_000);
      await at('unauthorized');
    }
  } finally {
    await kioskContext.close();
  }
}

/** The kiosk's order has reached the sandbox (so a cancel hits a session that has an order). */
async function waitForOrder(stack: ExperienceStack, sessionId: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${stack.sandboxUrl}/sandbox/sessions/${sessionId}`);
    const body = (await res.json()) as { state?: string };
    if (body.state === 'awaiting_payment') return;
    if (Date.now() > until) throw new Error(`the order never reached the sandbox (session ${sessionId} is ${body.state})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
