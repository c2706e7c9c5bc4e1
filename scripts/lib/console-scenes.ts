/**
 * The fleet console's pages for `npm run screenshots`, at 1440×900, against a real relay in this
 * process: a small fleet with tablets online and offline, signed Hips webhooks in one cab's log,
 * an operator who logs in, changes the one-time password and walks the pages.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { io as ioClient, type Socket } from 'socket.io-client';
import { SOCKET_EVENTS } from '../../protocol/relay-protocol.js';
import { admin, hookBody, makeSigner, orderHook, postJson, qrHook, startInProcess, tempDir } from './relay-harness.js';
import { repoRoot } from './service.js';

const FLEET = [
  { cabId: 'STH-1042', label: 'Airport shuttle', plate: 'KLM 482', status: { appVersion: '1.8.2', rideState: 'on_ride', outboxDepth: 0 } },
  { cabId: 'STH-1043', label: 'Södermalm nights', plate: 'RTX 118', status: { appVersion: '1.8.2', rideState: 'idle', outboxDepth: 0 } },
  { cabId: 'STH-1051', label: 'Central station rank', plate: 'BJO 730', status: { appVersion: '1.8.1', rideState: 'awaiting_payment', outboxDepth: 2 } },
  { cabId: 'STH-1077', label: 'Kista business park', plate: 'NPE 291', status: { appVersion: '1.8.2', rideState: 'idle', outboxDepth: 0 } },
  { cabId: 'STH-1090', label: 'Wheelchair van', plate: 'HCP 003', status: null },
  { cabId: 'STH-1102', label: 'Arlanda express rank', plate: 'ARN 550', status: null },
  { cabId: 'STH-1115', label: 'Spare (workshop)', plate: 'WRK 001', status: null, disabled: true },
] as const;

export async function renderConsoleScenes(browser: Browser, outDir: string): Promise<string[]> {
  const built = spawnSync('npx', ['vite', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the console build failed; fix it and run again');
  const dir = tempDir('cabpay-console-shots-');
  const signer = await makeSigner(dir);
  const { app, url } = await startInProcess(dir, signer, { locale: 'en' });
  const tablets: Socket[] = [];
  const written: string[] = [];
  try {
    for (const cab of FLEET) {
      const res = await admin(url, 'PUT', `/admin/cabs/${cab.cabId}`, {
        psp: 'hips',
        qrCodes: [`${cab.cabId}-A`, `${cab.cabId}-B`],
        plate: cab.plate,
        label: cab.label,
        enabled: !('disabled' in cab),
      });
      if (cab.status) {
        const socket = ioClient(`${url}/cab`, {
          transports: ['websocket'],
          auth: { cabId: cab.cabId, token: res.body.deviceToken, lastSeq: 0 },
          forceNew: true,
        });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        // Applies whatever the relay sends, as a tablet does; the one with a full outbox lags behind.
        if (cab.status.outboxDepth === 0) {
          socket.on(SOCKET_EVENTS.relayEvent, (_event: unknown, ack: (r: unknown) => void) => ack({ ok: true, value: { applied: true } }));
          socket.on(SOCKET_EVENTS.logStart, (_start: unknown, ack: (r: unknown) => void) => ack({ ok: true, value: { lastSeq: 0 } }));
        }
        await socket.emitWithAck(SOCKET_EVENTS.tabletStatus, cab.status);
        tablets.push(socket);
      }
    }
    // A day of one cab's payments, as Hips tells the relay.
    for (const [i, amount] of [31500, 24800, 41200].entries()) {
      await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qrHook('STH-1042-A')));
      const event = i === 1 ? 'payment.failed' : 'payment.successful';
      await postJson(
        url,
        '/webhooks/hips/orders',
        await hookBody(signer, orderHook(`STH-1042.ride-${i + 1}`, { amount, order_amount: amount - 2000, tip_amount: 2000 }, event)),
      );
    }
    const oneTime = (await admin(url, 'POST', '/admin/operators', { name: 'maria', role: 'admin' })).body.oneTimePassword as string;
    await admin(url, 'POST', '/admin/operators', { name: 'night-desk', role: 'viewer' });

    // A wrong password, refused and logged.
    await fetch(`${url}/console/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ name: 'maria', password: 'summer2026' }),
    });

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const shot = async (name: string) => {
      await page.waitForTimeout(300); // let the last render paint
      const file = join(outDir, `console-${name}.png`);
      await page.screenshot({ path: file });
      written.push(file);
    };
    await page.goto(`${url}/console/`);
    await page.getByLabel('Operator name').fill('maria');
    await shot('login');
    await page.getByLabel('Password').fill(oneTime);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('One-time password').fill(oneTime);
    await shot('change-password');
    await page.getByLabel('New password', { exact: true }).fill('a long private passphrase');
    await page.getByLabel('New password again').fill('a long private passphrase');
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    await page.locator('tr[data-cab="STH-1042"] .badge').filter({ hasText: 'Online' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await shot('fleet');
    await page.getByRole('link', { name: /STH-1042/ }).click();
    await page.getByRole('heading', { name: 'Recent events' }).waitFor();
    await shot('cab');
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await page
      .getByRole('dialog', { name: /Rotate the device token/ })
      .getByRole('button', { name: 'Rotate token' })
      .click();
    await page.getByRole('dialog', { name: 'New device token' }).waitFor();
    await shot('token');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('link', { name: 'Print QR codes' }).click();
    await page.getByRole('img', { name: /QR code STH-1042-B/ }).waitFor();
    await shot('qr');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'Rotate device token' }).waitFor();
    await shot('audit');
    await context.close();
  } finally {
    for (const t of tablets) t.close();
    await app.close();
  }
  return written;
}
