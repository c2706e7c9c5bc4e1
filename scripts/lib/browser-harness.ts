/**
 * Builds the real renderer bundle into a temp dir, serves it on an ephemeral loopback port and
 * opens it in Debian's Chromium with a scripted `window.cabpay` that records every command and
 * pushes whatever snapshot the caller sets (the renderer tests, the screenshot script). The UI cannot tell it from the core.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { build } from 'vite';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Harness {
  url: string;
  /** Where the bundle was built. */
  outDir: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-renderer-'));
  await build({
    configFile: path.join(repoRoot, 'renderer/vite.config.ts'),
    build: { outDir, emptyOutDir: true },
    logLevel: 'silent',
  });
  const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };
  const server = http.createServer((req, res) => {
    const wanted = path.join(outDir, path.normalize(new URL(req.url ?? '/', 'http://x').pathname));
    const file = wanted.startsWith(outDir) && existsSync(wanted) && statSync(wanted).isFile() ? wanted : path.join(outDir, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    outDir,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

export type Refusals = Partial<Record<string, string>>;

/** Opens the kiosk at 1280×800 with a scripted bridge holding `snapshot`. */
export async function openKiosk(
  harness: Harness,
  snapshot: KioskSnapshot,
  refusals: Refusals = {},
  options: { clockAt?: Date; timezoneId?: string } = {},
): Promise<Page> {
  const page = await harness.browser.newPage({
    viewport: { width: 1280, height: 800 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
  });
  // A controllable clock, for what the UI derives from time (offline duration, auto theme).
  if (options.clockAt) await page.clock.install({ time: options.clockAt });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  // Under tsx (scripts/screenshots.ts) esbuild names functions with a `__name` helper that the
  // serialized init script would otherwise lack.
  await page.addInitScript('globalThis.__name = globalThis.__name || ((fn) => fn);');
  await page.addInitScript(
    ({ initial, refuse }) => {
      type Snap = typeof initial;
      let current: Snap = initial;
      const listeners = new Set<(s: Snap) => void>();
      const w = globalThis as unknown as Record<string, unknown>;
      const calls: unknown[][] = [];
      w.__calls = calls;
      w.__push = (next: Snap) => {
        current = next;
        listeners.forEach((l) => l(current));
      };
      const command =
        (name: string) =>
        async (...args: unknown[]) => {
          calls.push([name, ...args]);
          const message = refuse[name];
          if (message) return { ok: false, error: { code: 'refused', message } };
          return { ok: true, value: null };
        };
      const names = [
        'startRide',
        'setFare',
        'addExtra',
        'removeExtra',
        'endRide',
        'cancelRide',
        'dismiss',
        'markPaidOtherwise',
        'setLocale',
        'setTheme',
        'unlockSettings',
        'lockSettings',
        'saveDriverSettings',
        'chooseTip',
        'retryPayment',
        'refundRide',
        'markRideSeen',
      ];
      w.cabpay = {
        ...Object.fromEntries(names.map((n) => [n, command(n)])),
        getState: async () => current,
        onState: (listener: (s: Snap) => void) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
    },
    { initial: snapshot, refuse: refusals },
  );
  await page.goto(harness.url);
  await page.locator('[data-testid^="screen-"]').first().waitFor();
  if (errors.length) throw new Error(`The page threw: ${errors.join('; ')}`);
  return page;
}

export async function calls(page: Page): Promise<unknown[][]> {
  return page.evaluate(() => (globalThis as unknown as { __calls: unknown[][] }).__calls);
}

export async function push(page: Page, snapshot: KioskSnapshot): Promise<void> {
  await page.evaluate((s) => (globalThis as unknown as { __push(s: unknown): void }).__push(s), snapshot);
}

/** Intl uses no-break spaces; compare money texts with plain ones. */
export const plain = (text: string | null) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ');

/** The theme and language the document root carries. */
export async function rootThemeAndLang(page: Page): Promise<[string, string]> {
  return page.evaluate('[document.documentElement.dataset.theme, document.documentElement.lang]');
}
