/**
 * `npm run screenshots`: renders every kiosk screen in the day and the night theme at 1280×800,
 * the passenger's phone page at 390×844 and the digital receipt, through the real preview,
 * relay and sandbox, and writes the PNGs to docs/screenshots/.
 *
 * Env: CHROMIUM_PATH (default /usr/bin/chromium), SCREENSHOTS_DIR (default docs/screenshots),
 * CABPAY_SKIP_BUILD=1 to reuse an already built renderer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { pino } from 'pino';
import { startExperienceStack } from './lib/experience-stack.js';
import { walkKiosk } from './lib/kiosk-walk.js';
import { repoRoot } from './lib/service.js';

const log = pino({ name: 'screenshots' });
const outDir = resolve(repoRoot, process.env.SCREENSHOTS_DIR ?? 'docs/screenshots');

async function main(): Promise<void> {
  if (process.env.CABPAY_SKIP_BUILD !== '1') {
    const built = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('the renderer build failed; fix it and run again');
  }
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--font-render-hinting=none'],
  });
  const written: string[] = [];
  try {
    for (const theme of ['day', 'night'] as const) {
      const stack = await startExperienceStack({ locale: 'sv' });
      try {
        await walkKiosk(browser, stack, { theme, revokeAtEnd: true, bookingFeeVat: 25 }, async (scene) => {
          if (scene.kind === 'phone' && theme === 'night') return; // the phone page follows the phone, not the cab
          const file = join(outDir, scene.kind === 'phone' ? `${scene.name}.png` : `${scene.name}-${theme}.png`);
          await scene.page.waitForTimeout(250); // let the last snapshot paint
          await scene.page.screenshot({ path: file });
          written.push(file);
          if (scene.name === 'paid' && theme === 'day') {
            // The receipt the QR opens, on a phone and printable.
            const url = await receiptUrlOf(scene.page);
            const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
            const receipt = await context.newPage();
            await receipt.goto(url);
            const path = join(outDir, 'receipt.png');
            await receipt.screenshot({ path, fullPage: true });
            written.push(path);
            await context.close();
          }
        });
      } finally {
        await stack.stop();
      }
    }
  } finally {
    await browser.close();
  }
  log.info({ count: written.length, dir: outDir }, 'screenshots written');
}

/** Reads the receipt QR as a camera would. */
async function receiptUrlOf(page: import('@playwright/test').Page): Promise<string> {
  const { decodeQrFromPng } = await import('../test/helpers/qr.js');
  const url = decodeQrFromPng(await page.getByTestId('receipt-qr').screenshot());
  if (!url) throw new Error('the receipt QR on the paid screen could not be read');
  return url;
}

main().catch((err: unknown) => {
  log.fatal({ err }, (err as Error).message);
  process.exit(1);
});
