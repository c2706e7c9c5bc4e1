/**
 * The built renderer in Debian's Chromium through the real preview entry and the real kiosk
 * core: the UI comes up under the host's CSP without a single violation, and window.cabpay
 * works over the bridge. Skipped, with the reason printed, without Chromium or a built UI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dist = path.join(repoRoot, 'renderer/dist');
const missing = [
  [existsSync(chromiumPath), `no Chromium at ${chromiumPath} (apt-get install -y chromium)`],
  [existsSync(path.join(dist, 'index.html')), 'renderer/dist is not built (npm run build:renderer)'],
  [existsSync(path.join(repoRoot, 'electron/core/index.ts')), 'electron/core/index.ts does not exist yet'],
]
  .filter(([ok]) => !ok)
  .map(([, why]) => why as string);
if (missing.length) console.log(`preview-browser: skipped, ${missing.join('; ')}`);

let child: ChildProcess | undefined;
let browser: Browser | undefined;
let dir: string | undefined;
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startPreview(): Promise<string> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-preview-browser-'));
  const config = path.join(dir, 'kiosk.json');
  writeFileSync(
    config,
    JSON.stringify({
      relayUrl: 'http://127.0.0.1:9',
      pspUrl: 'http://127.0.0.1:9',
      cabId: 'cab-55',
      deviceToken: 'b'.repeat(32),
      plate: 'BRW 555',
      qrContent: 'https://qr.example/cab-55',
      dataDir: path.join(dir, 'data'),
      locale: 'en',
    }),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', 'electron/preview/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, KIOSK_CONFIG: config, PREVIEW_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"msg":"listening".*?"url":"(http:\/\/127\.0\.0\.1:\d+)"|"url":"(http:\/\/127\.0\.0\.1:\d+)".*?"msg":"listening"/.exec(out);
      if (match) resolve((match[1] ?? match[2])!);
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`preview exited with ${code}:\n${out}`)));
  });
}

describe.skipIf(missing.length > 0)('preview in Chromium', () => {
  it('shows the idle screen with no CSP violation and drives the core through window.cabpay', async () => {
    const url = await startPreview();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
    });
    await page.addInitScript(() => {
      // Runs in the page (no DOM types on the node side of the typecheck).
      type Violation = { violatedDirective: string; blockedURI: string };
      const doc = (globalThis as unknown as { document: { addEventListener(type: string, fn: (e: Violation) => void): void } }).document;
      doc.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(url);
    await page.getByTestId('screen-idle').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.getByTestId('cab-plate').textContent()).toContain('BRW 555');

    const result = await page.evaluate(async () => {
      const api = (globalThis as unknown as { cabpay: { setTheme(t: string): Promise<unknown>; getState(): Promise<{ theme: string }> } }).cabpay;
      const outcome = await api.setTheme('night');
      return { outcome, theme: (await api.getState()).theme };
    });
    expect(result).toEqual({ outcome: { ok: true, value: null }, theme: 'night' });
    expect(violations).toEqual([]);
  });
});
