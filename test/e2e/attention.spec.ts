/**
 * Rides that need attention, through the preview in Debian Chromium with the real relay and
 * sandbox: the driver starts the next ride while the passenger is still paying; the earlier
 * ride's payment comes in afterwards (here with every webhook of it lost, so the relay learns it
 * by asking the PSP) and the driver is told at once and finds it in the list; a ride left whose
 * payment is declined is settled from the list as paid another way.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { formatMoney } from '../../protocol/money.js';
import { startService, type Service } from '../../scripts/lib/service.js';

const ADMIN_TOKEN = 'attention-e2e-admin-token-0123456789';
const CAB_ID = 'CAB-ATT-1';

const services: Service[] = [];
let sandboxUrl = '';
let kioskUrl = '';
let qrData = '';

async function http<T>(method: string, url: string, body?: unknown, auth?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = auth;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

test.beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'cabpay-attention-e2e-'));
  let merchantKey = '';
  const sandbox = await startService({
    name: 'sandbox',
    entry: 'backend-relay/sandbox/main.ts',
    env: { SANDBOX_PORT: '0', SANDBOX_DB: join(home, 'sandbox.db') },
    logFile: join(home, 'sandbox.log'),
    onLine: (line) => {
      if (line.includes('"listening"')) merchantKey = (JSON.parse(line) as { merchantKey: string }).merchantKey;
    },
  });
  services.push(sandbox);
  sandboxUrl = sandbox.url;
  const pemFile = join(home, 'sandbox.pem');
  writeFileSync(pemFile, await (await fetch(`${sandboxUrl}/sandbox/public-key.pem`)).text());
  const relay = await startService({
    name: 'relay',
    entry: 'backend-relay/main.ts',
    env: {
      RELAY_PORT: '0',
      RELAY_DB: join(home, 'relay.db'),
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      HIPS_PUBLIC_KEY_FILE: pemFile,
      RELAY_ACK_TIMEOUT_MS: '1000',
      RELAY_LOCALE: 'en',
      // The relay connects the cab's QR at Hips and asks Hips about orders after a second.
      HIPS_API_URL: sandboxUrl,
      HIPS_MERCHANT_KEY: merchantKey,
      RELAY_RECONCILE_AFTER_S: '1',
      RELAY_RECONCILE_EVERY_S: '1',
    },
    logFile: join(home, 'relay.log'),
  });
  services.push(relay);
  const cab = await http<{ deviceToken: string; qrContent: string }>(
    'PUT',
    `${relay.url}/admin/cabs/${CAB_ID}`,
    { psp: 'hips', qrCodes: ['ATTENTIONQR1'], plate: 'ATT 123', label: 'Attention cab' },
    `Bearer ${ADMIN_TOKEN}`,
  );
  qrData = cab.qrContent;
  const configFile = join(home, 'kiosk.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      relayUrl: relay.url,
      pspUrl: sandboxUrl,
      cabId: CAB_ID,
      deviceToken: cab.deviceToken,
      locale: 'en',
      currency: 'SEK',
      plate: 'ATT 123',
      qrContent: qrData,
      dataDir: join(home, 'kiosk'),
    }),
  );
  const preview = await startService({
    name: 'preview',
    entry: 'electron/preview/main.ts',
    env: { KIOSK_CONFIG: configFile, PREVIEW_PORT: '0' },
    logFile: join(home, 'preview.log'),
  });
  services.push(preview);
  kioskUrl = preview.url;
});

test.afterAll(async () => {
  for (const s of services.reverse()) await s.stop();
});

const normalize = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Scan, fare, end: the order is at Hips; then the driver takes the next fare. Returns the session. */
async function leaveRideWaiting(kiosk: Page, digits: string): Promise<string> {
  const { session_id: sessionId } = await http<{ session_id: string }>('POST', `${sandboxUrl}/sandbox/scan`, { qr_data: qrData });
  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('passenger-ready')).toBeVisible();
  for (const digit of digits) await kiosk.getByTestId(`key-${digit}`).click();
  await kiosk.getByTestId('end-ride').click();
  await expect
    .poll(async () => (await http<{ state: string }>('GET', `${sandboxUrl}/sandbox/sessions/${sessionId}`)).state, { timeout: 30_000 })
    .toBe('awaiting_payment');
  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('screen-on-ride')).toBeVisible();
  return sessionId;
}

test('a ride left while its passenger pays: when the payment comes (its webhooks lost), the driver is told and finds it paid in the list', async ({
  browser,
}) => {
  // Own context: axe-core's Playwright runner needs one.
  const kiosk = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await kiosk.goto(kioskUrl);
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();
  await expect(kiosk.getByTestId('attention-open')).toHaveCount(0);

  const sessionId = await leaveRideWaiting(kiosk, '24500');
  await expect(kiosk.getByTestId('pending-rides')).toHaveText('1');
  await expect(kiosk.getByTestId('attention-open')).toContainText('earlier ride awaiting payment');

  // Every webhook of this payment is lost: only the relay asking Hips can bring it.
  await http('POST', `${sandboxUrl}/sandbox/faults`, { dropPaymentWebhooks: 1 });
  await http('POST', `${sandboxUrl}/sandbox/sessions/${sessionId}/pay`, { tip_amount: 2_450 });

  const notice = kiosk.getByTestId('attention-notice');
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toHaveAttribute('data-outcome', 'paid');
  expect(normalize(await notice.textContent())).toContain(`has been paid: ${normalize(formatMoney(26_950, 'SEK', 'en'))}`);
  expect(await seriousViolations(kiosk)).toEqual([]);
  await expect(kiosk.getByTestId('screen-on-ride')).toBeVisible(); // the ride under way is untouched

  await kiosk.getByTestId('attention-notice').click();
  const detail = kiosk.getByTestId('attention-detail');
  await expect(detail).toBeVisible();
  await expect(detail.getByTestId('attention-status')).toHaveText('Paid');
  expect(normalize(await kiosk.getByTestId('attention-total').textContent())).toBe(normalize(formatMoney(26_950, 'SEK', 'en')));
  await expect(kiosk.getByTestId('attention-paid-otherwise')).toHaveCount(0);
  expect(await seriousViolations(kiosk)).toEqual([]);
  await kiosk.getByTestId('attention-seen').click();
  await expect(kiosk.getByTestId('attention-empty')).toBeVisible();
  await kiosk.getByTestId('attention-close').click();
  await expect(kiosk.getByTestId('attention-open')).toHaveCount(0);
});

test('a ride left whose payment is then declined: the driver is told, and records it paid another way from the list', async ({ browser }) => {
  const kiosk = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await kiosk.goto(kioskUrl);
  // The first test leaves its next ride on screen: cancel it.
  await expect(kiosk.locator('[data-testid^="screen-"]')).toBeVisible();
  if (await kiosk.getByTestId('screen-on-ride').isVisible()) {
    await kiosk.getByTestId('cancel-ride').click();
    await kiosk.getByTestId('confirm-cancel').click();
    await kiosk.getByTestId('dismiss').click();
  }
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();

  const sessionId = await leaveRideWaiting(kiosk, '9900');
  await http('POST', `${sandboxUrl}/sandbox/sessions/${sessionId}/pay`, { outcome: 'decline' });
  const notice = kiosk.getByTestId('attention-notice');
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toHaveAttribute('data-outcome', 'failed');

  // A tap on the news opens that ride.
  await notice.click();
  await expect(kiosk.getByTestId('attention-detail').getByTestId('attention-status')).toHaveText('Payment failed');
  await expect(kiosk.getByTestId('attention-failure')).toHaveAttribute('data-failure-code', 'payment_failed');
  await kiosk.getByTestId('attention-paid-otherwise').click();
  await expect(kiosk.getByTestId('attention-empty')).toBeVisible();
  const ledger = await http<{ payments: { status: string }[] }>('GET', `${sandboxUrl}/sandbox/ledger`);
  expect(ledger.payments.filter((p) => p.status === 'successful')).toHaveLength(1); // only the first ride was charged
});
