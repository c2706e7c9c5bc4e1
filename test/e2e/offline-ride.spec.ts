/**
 * A ride that ends while the tablet is offline, through the preview in Debian Chromium: the
 * offline banner shows the queued order and "pending" (never "paid"); the order goes out when
 * the connection returns; a payment made while the tablet is offline again is shown as paid,
 * with fare, tip and total, once it is back. The tablet's network is a TCP proxy the test cuts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { formatMoney, maxTip } from '../../protocol/money.js';
import { CuttableProxy } from '../../scripts/chaos/proxy.js';
import { startService, type Service } from '../../scripts/lib/service.js';

const ADMIN_TOKEN = 'offline-e2e-admin-token-0123456789';
const CAB_ID = 'CAB-OFF-1';

const services: Service[] = [];
const proxies: CuttableProxy[] = [];
let sandboxUrl = '';
let kioskUrl = '';
let qrData = '';
let offline: (cut: boolean) => void = () => {};

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
  const home = mkdtempSync(join(tmpdir(), 'cabpay-offline-e2e-'));
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
    },
    logFile: join(home, 'relay.log'),
  });
  services.push(relay);

  const qr = await http<{ code_token: string; qr_data: string }>('POST', `${sandboxUrl}/v2/qrs`, { qr_code: 'OFFLINEQR1', allow_tip: true }, merchantKey);
  await http(
    'PATCH',
    `${sandboxUrl}/v2/qrs/${qr.code_token}`,
    {
      qr_start_webhook_url: `${relay.url}/webhooks/hips/qr`,
      allow_tip: true,
      order_timeout_seconds: 3600,
      payment_timeout_seconds: 900,
      status: 'online',
    },
    merchantKey,
  );
  qrData = qr.qr_data;
  const { deviceToken } = await http<{ deviceToken: string }>(
    'PUT',
    `${relay.url}/admin/cabs/${CAB_ID}`,
    { psp: 'hips', qrCodes: ['OFFLINEQR1'], plate: 'OFF 123', label: 'Offline cab' },
    `Bearer ${ADMIN_TOKEN}`,
  );

  // The tablet reaches the relay and the PSP only through these.
  const relayProxy = await CuttableProxy.start(relay.url);
  const pspProxy = await CuttableProxy.start(sandboxUrl);
  proxies.push(relayProxy, pspProxy);
  offline = (cut) => {
    for (const p of proxies) cut ? p.cutOff() : p.restore();
  };
  const configFile = join(home, 'kiosk.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      relayUrl: relayProxy.url,
      pspUrl: pspProxy.url,
      orderWebhookUrl: `${relay.url}/webhooks/hips/orders`,
      cabId: CAB_ID,
      deviceToken,
      locale: 'en',
      currency: 'SEK',
      plate: 'OFF 123',
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
  for (const p of proxies) await p.close();
  for (const s of services.reverse()) await s.stop();
});

const normalize = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();
const money = (minor: number) => normalize(formatMoney(minor, 'SEK', 'en'));

async function typeFare(page: Page, digits: string) {
  for (const digit of digits) await page.getByTestId(`key-${digit}`).click();
}

test('a ride ending offline: banner with the queued order and "pending", then the paid confirmation once back online', async ({ browser }) => {
  const kiosk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await kiosk.goto(kioskUrl);
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();
  await expect(kiosk.getByTestId('offline-banner')).toHaveCount(0);

  // The passenger scans while the cab still has a connection.
  const { session_id: sessionId } = await http<{ session_id: string }>('POST', `${sandboxUrl}/sandbox/scan`, { qr_data: qrData });
  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('passenger-ready')).toBeVisible();
  const fare = 18_000;
  await typeFare(kiosk, '18000');

  // Into the tunnel: the ride ends with no connection.
  offline(true);
  const banner = kiosk.getByTestId('offline-banner');
  await expect(banner).toBeVisible();
  await kiosk.getByTestId('end-ride').click();
  await expect(kiosk.getByTestId('screen-awaiting-payment')).toBeVisible();
  await expect(banner.getByTestId('outbox-depth')).toHaveText('1');
  await expect(banner).toContainText(/payment queued/i);
  await expect(banner).toContainText(/pending/i);
  await expect(banner).not.toContainText(/\bpaid\b/i);
  await expect(kiosk.getByTestId('screen-paid')).toHaveCount(0);
  // Nothing reached the PSP while offline.
  expect((await http<{ state: string }>('GET', `${sandboxUrl}/sandbox/sessions/${sessionId}`)).state).toBe('waiting_for_order');

  // Out of the tunnel: the queued order goes out by itself and the banner leaves.
  offline(false);
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await expect
    .poll(async () => (await http<{ state: string }>('GET', `${sandboxUrl}/sandbox/sessions/${sessionId}`)).state, { timeout: 30_000 })
    .toBe('awaiting_payment');

  // The passenger pays while the tablet is offline again: still only "pending" on screen.
  offline(true);
  await expect(banner).toBeVisible();
  const tip = maxTip(fare);
  await http('POST', `${sandboxUrl}/sandbox/sessions/${sessionId}/pay`, { tip_amount: tip });
  await kiosk.waitForTimeout(1_500); // the PSP's hook has reached the relay by now; the tablet must not show it yet
  await expect(kiosk.getByTestId('screen-paid')).toHaveCount(0);
  await expect(banner).not.toContainText(/\bpaid\b/i);
  await expect(banner.getByTestId('outbox-depth')).toHaveText('0');

  // Back online: the relay replays the payment and the tablet shows fare + tip = total.
  offline(false);
  await expect(kiosk.getByTestId('screen-paid')).toBeVisible({ timeout: 30_000 });
  await expect(banner).toHaveCount(0);
  expect(normalize(await kiosk.getByTestId('paid-fare').textContent())).toBe(money(fare));
  expect(normalize(await kiosk.getByTestId('paid-tip').textContent())).toBe(money(tip));
  expect(normalize(await kiosk.getByTestId('paid-total').textContent())).toBe(money(fare + tip));

  const ledger = await http<{ orders: { merchant_order_id: string; status: string }[]; payments: { amount: number; tip_amount: number }[] }>(
    'GET',
    `${sandboxUrl}/sandbox/ledger`,
  );
  expect(ledger.orders).toHaveLength(1);
  expect(ledger.payments).toEqual([expect.objectContaining({ amount: fare + tip, tip_amount: tip })]);
});

test('a definitive 4xx while offline: the reason and the driver\'s options, never "paid"; paid another way', async ({ browser }) => {
  const kiosk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await kiosk.goto(kioskUrl);
  // The previous ride's confirmation may still be up; wait for the first snapshot before deciding.
  await expect(kiosk.getByTestId('screen-idle').or(kiosk.getByTestId('screen-paid'))).toBeVisible();
  if (await kiosk.getByTestId('screen-paid').isVisible()) await kiosk.getByTestId('dismiss').click();
  await expect(kiosk.getByTestId('screen-idle')).toBeVisible();

  const { session_id: sessionId } = await http<{ session_id: string }>('POST', `${sandboxUrl}/sandbox/scan`, { qr_data: qrData });
  await kiosk.getByTestId('start-ride').click();
  await expect(kiosk.getByTestId('passenger-ready')).toBeVisible();
  await typeFare(kiosk, '9900');

  offline(true);
  const banner = kiosk.getByTestId('offline-banner');
  await expect(banner).toBeVisible();
  await kiosk.getByTestId('end-ride').click();
  await expect(kiosk.getByTestId('screen-awaiting-payment')).toBeVisible();
  await expect(banner.getByTestId('outbox-depth')).toHaveText('1');

  // The passenger gives up on the phone; the tablet, still cut off from the relay, cannot know.
  await http('POST', `${sandboxUrl}/sandbox/sessions/${sessionId}/cancel`);
  // The PSP comes back first: the queued order meets a session that is over (409, definitive).
  proxies[1]!.restore();
  await expect(kiosk.getByTestId('screen-failed')).toBeVisible({ timeout: 45_000 });
  await expect(kiosk.getByTestId('failure-reason')).toContainText(/no longer waiting for an order.*scan the QR again/i);
  await expect(kiosk.getByText('Ask the passenger to scan again', { exact: true })).toBeVisible();
  await expect(kiosk.getByTestId('mark-paid-otherwise')).toBeVisible();
  await expect(banner.getByTestId('outbox-depth')).toHaveText('0');
  await expect(banner).not.toContainText(/\bpaid\b/i);

  offline(false);
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await kiosk.getByTestId('mark-paid-otherwise').click();
  await expect(kiosk.getByTestId('screen-paid')).toBeVisible();
  const ledger = await http<{ orders: { merchant_order_id: string }[]; payments: unknown[] }>('GET', `${sandboxUrl}/sandbox/ledger`);
  expect(ledger.payments).toHaveLength(1); // only the first test's ride was charged
});
