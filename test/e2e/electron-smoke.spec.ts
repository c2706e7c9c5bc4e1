/**
 * Launches the real Electron kiosk where a binary exists: the QR shows, and the
 * renderer has no Node (`require`, `process`) but does have `window.cabpay`. Skipped, with the
 * reason printed, where electron was installed without its binary.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../scripts/lib/electron-binary.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

const binary = findElectronBinary();

test('the Electron kiosk shows the QR and keeps Node out of the renderer', async () => {
  if (!binary.path) console.log(`electron-smoke: skipped, ${binary.reason}`);
  test.skip(!binary.path, binary.reason);

  execFileSync('npx', ['electron-vite', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-electron-'));
  const config = path.join(dir, 'kiosk.json');
  writeFileSync(
    config,
    JSON.stringify({
      // No relay runs: the kiosk must still come up offline and show the cab's static QR.
      relayUrl: 'http://127.0.0.1:9',
      pspUrl: 'http://127.0.0.1:9',
      cabId: 'cab-smoke',
      deviceToken: 's'.repeat(32),
      plate: 'SMK 001',
      qrContent: 'https://qr.example/cab-smoke',
      dataDir: path.join(dir, 'data'),
    }),
  );
  const app = await electron.launch({
    executablePath: binary.path!,
    args: [repoRoot, '--no-sandbox', `--user-data-dir=${path.join(dir, 'user-data')}`],
    env: { ...process.env, KIOSK_CONFIG: config, CABPAY_WINDOWED: '1' },
  });
  try {
    const page = await app.firstWindow();
    await expect(page.getByTestId('cab-qr')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('cab-plate')).toContainText('SMK 001');
    // Runs in the page; globalThis is its window (the node-side typecheck has no DOM types).
    const globals = await page.evaluate(() => {
      const page = globalThis as unknown as { require?: unknown; process?: unknown; cabpay?: object };
      return { require: typeof page.require, process: typeof page.process, cabpay: Object.keys(page.cabpay ?? {}).sort() };
    });
    expect(globals.require).toBe('undefined');
    expect(globals.process).toBe('undefined');
    expect(globals.cabpay).toContain('startRide');
    expect(page.url()).toBe('app://cabpay/index.html');
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
