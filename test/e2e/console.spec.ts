/**
 * The fleet console in Debian Chromium against a real relay process, as an operator uses it: log
 * in with a one-time password and change it, find a cab, open its page, rotate its token (the new
 * token then connects a tablet), and watch a cab come online without reloading; an admin disables
 * and deletes a cab through confirm dialogs, a viewer is offered neither. A label that is a
 * script is shown as text; axe finds nothing serious or critical on any page; the page breaks no
 * rule of its Content-Security-Policy.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startService, repoRoot, type Service } from '../../scripts/lib/service.js';

const ADMIN_TOKEN = 'console-e2e-admin-token-0123456789';
const NEW_PASSWORD = 'night shift dispatch 2026';
const SCRIPT_LABEL = '<script>window.__pwned=1</script>';
const IMG_LABEL = '<img src=x onerror=window.__pwned=2>';

let relay: Service;
const tablets: Socket[] = [];
let oneTimePassword = '';
const cabTokens = new Map<string, string>();

async function http<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A tablet's connection with its device token; resolves once the relay accepted it. */
function connectTablet(cabId: string, token: string): Promise<Socket> {
  const socket = ioClient(`${relay.url}/cab`, { transports: ['websocket'], auth: { cabId, token, lastSeq: 0 }, reconnection: false, forceNew: true });
  tablets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A page that records CSP violations, script dialogs and page errors. */
async function watchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (process.env.CONSOLE_E2E_DEBUG) console.log(`[browser ${m.type()}] ${m.text()}`);
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { page, problems };
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  execFileSync('npx', ['vite', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
  const home = mkdtempSync(join(tmpdir(), 'cabpay-console-e2e-'));
  const pemFile = join(home, 'hips.pem');
  writeFileSync(pemFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
  relay = await startService({
    name: 'relay',
    entry: 'backend-relay/main.ts',
    env: { RELAY_PORT: '0', RELAY_DB: join(home, 'relay.db'), RELAY_ADMIN_TOKEN: ADMIN_TOKEN, HIPS_PUBLIC_KEY_FILE: pemFile, RELAY_LOCALE: 'en' },
    logFile: join(home, 'relay.log'),
  });
  const cabs = [
    { cabId: 'CAB-101', label: 'Airport shuttle', plate: 'ABC 101' },
    { cabId: 'CAB-102', label: 'City centre', plate: 'ABC 102' },
    { cabId: 'CAB-666', label: SCRIPT_LABEL, plate: 'XSS 666' },
    { cabId: 'CAB-667', label: IMG_LABEL, plate: 'XSS 667' },
  ];
  for (const cab of cabs) {
    const res = await http<{ deviceToken: string }>('PUT', `${relay.url}/admin/cabs/${cab.cabId}`, {
      psp: 'hips',
      qrCodes: [`QR-${cab.cabId}`],
      plate: cab.plate,
      label: cab.label,
    });
    cabTokens.set(cab.cabId, res.deviceToken);
  }
  oneTimePassword = (await http<{ oneTimePassword: string }>('POST', `${relay.url}/admin/operators`, { name: 'dispatcher', role: 'operator' })).oneTimePassword;
});

test.afterAll(async () => {
  for (const t of tablets) t.close();
  await relay?.stop();
});

test.describe.configure({ mode: 'serial' });

test('an operator logs in, changes the one-time password, finds a cab, opens it and rotates its token', async ({ browser }) => {
  const { page, problems } = await watchedPage(browser);
  const res = await page.goto(`${relay.url}/console/`);
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.getByRole('heading', { name: 'Log in to the fleet console' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  await page.getByLabel('Operator name').fill('dispatcher');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('wrong operator name or password');

  await page.getByLabel('Password').fill(oneTimePassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Choose your password' })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('One-time password').fill(oneTimePassword);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set password and continue' }).click();

  await expect(page.getByRole('heading', { name: 'Cabs' })).toBeVisible();
  await expect(page.locator('tbody tr')).toHaveCount(4);
  await expect(page.getByRole('status').filter({ hasText: 'Live' }), problems.join('\n')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('Search cabs').fill('airport');
  await expect(page.locator('tbody tr')).toHaveCount(1);
  await page.getByRole('link', { name: /CAB-101/ }).click();

  await expect(page.getByRole('heading', { name: /CAB-101/ })).toBeVisible();
  await expect(page.getByText('Airport shuttle')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Rotate token' }).click();
  const confirm = page.getByRole('dialog', { name: 'Rotate the device token of CAB-101?' });
  await expect(confirm).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await confirm.getByRole('button', { name: 'Rotate token' }).click();
  const shown = page.getByRole('dialog', { name: 'New device token' });
  const token = (await shown.getByLabel('New device token').textContent())?.trim() ?? '';
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await shown.getByRole('button', { name: 'I have copied it' }).click();
  await expect(page.getByText('The token was rotated')).toBeVisible();

  // The old token is refused; the one shown connects, and the page shows the cab online.
  await expect(connectTablet('CAB-101', cabTokens.get('CAB-101')!)).rejects.toThrow();
  await connectTablet('CAB-101', token);
  await expect(page.locator('.page-head .badge')).toHaveText('Online');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.locator('tbody tr').filter({ hasText: 'Rotate device token' })).toContainText('CAB-101');
  await expect(page.locator('tbody tr').filter({ hasText: 'Change password' })).toHaveCount(1);
  expect(await seriousViolations(page)).toEqual([]);
  expect(problems).toEqual([]);
  await page.context().close();
});

test('a cab coming online shows up live, without a reload', async ({ browser }) => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(`${relay.url}/console/`);
  await page.getByLabel('Operator name').fill('dispatcher');
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  const row = page.locator('tr[data-cab="CAB-102"]');
  await expect(row.locator('.badge')).toHaveText('Offline');
  await expect(page.getByRole('status').filter({ hasText: 'Live' })).toBeVisible();
  const tablet = await connectTablet('CAB-102', cabTokens.get('CAB-102')!);
  await expect(row.locator('.badge')).toHaveText('Online');
  await page.getByRole('button', { name: /^Online/ }).click();
  await expect(page.locator('tbody tr')).toHaveCount(2);
  tablet.close();
  await expect(page.locator('tbody tr')).toHaveCount(1);
  expect(problems).toEqual([]);
  await page.context().close();
});

test('a cab label that is a script or an image tag is shown as text and never runs', async ({ browser }) => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(`${relay.url}/console/`);
  await page.getByLabel('Operator name').fill('dispatcher');
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('tr[data-cab="CAB-666"] .sub')).toHaveText(SCRIPT_LABEL);
  await expect(page.locator('tr[data-cab="CAB-667"] .sub')).toHaveText(IMG_LABEL);
  await page.getByRole('link', { name: /CAB-667/ }).click();
  await expect(page.locator('.details dd').first()).toHaveText(IMG_LABEL);
  await page.getByRole('link', { name: 'Print QR codes' }).click();
  await expect(page.getByRole('img', { name: 'QR code QR-CAB-667' })).toBeVisible();
  await expect(page.locator('.qr-cab')).toContainText(IMG_LABEL);
  expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('script:not([src])').count()).toBe(0);
  expect(await seriousViolations(page)).toEqual([]);
  expect(problems).toEqual([]);
  await page.context().close();
});

test('an admin disables a cab and deletes it, each after a confirm dialog; a viewer is offered neither', async ({ browser }) => {
  const adminPassword = (await http<{ oneTimePassword: string }>('POST', `${relay.url}/admin/operators`, { name: 'fleet-admin', role: 'admin' }))
    .oneTimePassword;
  const viewerPassword = (await http<{ oneTimePassword: string }>('POST', `${relay.url}/admin/operators`, { name: 'night-viewer', role: 'viewer' }))
    .oneTimePassword;
  const logIn = async (page: Page, name: string, oneTime: string) => {
    await page.goto(`${relay.url}/console/#/cabs/CAB-102`);
    await page.getByLabel('Operator name').fill(name);
    await page.getByLabel('Password').fill(oneTime);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('One-time password').fill(oneTime);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    await expect(page.getByRole('heading', { name: /CAB-102/ })).toBeVisible();
  };

  const viewer = await watchedPage(browser);
  await logIn(viewer.page, 'night-viewer', viewerPassword);
  await expect(viewer.page.getByRole('link', { name: 'Print QR codes' })).toBeVisible();
  for (const action of ['Rotate token', 'Disable', 'Delete']) await expect(viewer.page.getByRole('button', { name: action })).toHaveCount(0);
  await expect(viewer.page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  expect(viewer.problems).toEqual([]);
  await viewer.page.context().close();

  const { page, problems } = await watchedPage(browser);
  await logIn(page, 'fleet-admin', adminPassword);
  await page.getByRole('button', { name: 'Disable' }).click();
  const disable = page.getByRole('dialog', { name: 'Disable CAB-102?' });
  await disable.getByRole('button', { name: 'Disable cab' }).click();
  await expect(page.locator('.page-head .badge')).toHaveText('Disabled');
  await expect(page.getByRole('button', { name: 'Enable' })).toBeVisible();

  await page.getByRole('button', { name: 'Delete' }).click();
  const remove = page.getByRole('dialog', { name: 'Delete CAB-102?' });
  await expect(remove.getByRole('button', { name: 'Delete cab' })).toBeDisabled();
  expect(await seriousViolations(page)).toEqual([]);
  await remove.getByRole('textbox').fill('CAB-10');
  await expect(remove.getByRole('button', { name: 'Delete cab' })).toBeDisabled();
  await remove.getByRole('textbox').fill('CAB-102');
  await remove.getByRole('button', { name: 'Delete cab' }).click();
  await expect(page.getByRole('heading', { name: 'Cabs', exact: true })).toBeVisible();
  await expect(page.locator('tr[data-cab="CAB-102"]')).toHaveCount(0);
  expect((await http<{ cabs: { cabId: string }[] }>('GET', `${relay.url}/admin/cabs`)).cabs.map((c) => c.cabId)).not.toContain('CAB-102');
  expect(problems).toEqual([]);
  await page.context().close();
});
