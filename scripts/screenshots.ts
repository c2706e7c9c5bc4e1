/**
 * `npm run screenshots`: renders every kiosk screen in the day and the night theme at 1280×800,
 * the passenger's phone page at 390×844 and the digital receipt, through the real preview,
 * relay and sandbox, and writes the PNGs to docs/screenshots/.
 *
 * The Vipps MobilePay and HitPay screens come from scripted snapshots (`pspScenes` below)
 * through the renderer tests' harness, so they need no PSP sandbox.
 *
 * The fleet console's pages (console-*.png, 1440×900) come from a relay in this process with a
 * small fleet (scripts/lib/console-scenes.ts).
 *
 * Env: CHROMIUM_PATH (default /usr/bin/chromium), SCREENSHOTS_DIR (default docs/screenshots),
 * CABPAY_SKIP_BUILD=1 to reuse an already built renderer, CABPAY_SCREENSHOTS=stack|scenes|console|all
 * (default all) to render only the walk through the real stack, only the scripted scenes or only the console.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { pino } from 'pino';
import { startExperienceStack } from './lib/experience-stack.js';
import { renderConsoleScenes } from './lib/console-scenes.js';
import { walkKiosk } from './lib/kiosk-walk.js';
import type { Page } from '@playwright/test';
import type { KioskSnapshot, RideView } from '../protocol/kiosk-api.js';
import { openKiosk, push, startHarness } from './lib/browser-harness.js';
import { attentionRide, cabFor, idleSnapshot, recentPayment, ride } from './lib/renderer-fixtures.js';
import { repoRoot } from './lib/service.js';

const log = pino({ name: 'screenshots' });
const outDir = resolve(repoRoot, process.env.SCREENSHOTS_DIR ?? 'docs/screenshots');

async function main(): Promise<void> {
  const which = process.env.CABPAY_SCREENSHOTS ?? 'all';
  if (process.env.CABPAY_SKIP_BUILD !== '1' && which !== 'console') {
    const built = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('the renderer build failed; fix it and run again');
  }
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--font-render-hinting=none',
    ],
  });
  const written: string[] = [];
  if (which === 'all' || which === 'console') {
    try {
      written.push(...(await renderConsoleScenes(browser, outDir)));
    } catch (err) {
      await browser.close();
      throw err;
    }
  }
  if (which === 'all' || which === 'scenes') written.push(...(await renderPspScenes(outDir)));
  if (which === 'scenes' || which === 'console') {
    await browser.close();
    log.info({ count: written.length, dir: outDir }, 'screenshots written');
    return;
  }
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
  const { decodeQrFromPng } = await import('./lib/qr.js');
  const url = decodeQrFromPng(await page.getByTestId('receipt-qr').screenshot());
  if (!url) throw new Error('the receipt QR on the paid screen could not be read');
  return url;
}

/** A clock for the scenes with a countdown: the page's time stops at `at`. */
const sceneNow = new Date('2026-11-21T10:30:00.000Z');

interface Scene {
  name: string;
  snapshot: KioskSnapshot;
  /** Taps (or a pushed snapshot) before the picture (a chosen tip, the refunds tab, news). */
  act?: (page: Page, theme: 'day' | 'night') => Promise<void>;
  clock?: boolean;
}

function pspScenes(): Scene[] {
  const fare = (amount: number, vatRate: number) => [{ id: 'fare', kind: 'fare' as const, label: 'Taxi', amount, vatRate }];
  const vipps = (r: RideView | null, extra: Partial<KioskSnapshot> = {}) =>
    idleSnapshot({ cab: cabFor('vipps', { cabId: 'cab-12', label: 'Taxi 12', plate: 'EL 12345' }), currency: 'NOK', locale: 'nb', ride: r, ...extra });
  const hitpay = (r: RideView | null, extra: Partial<KioskSnapshot> = {}) =>
    idleSnapshot({
      cab: cabFor('hitpay', { cabId: 'cab-7', label: 'Taxi 7', plate: 'SHA 1234 X' }),
      currency: 'SGD',
      locale: 'en',
      ride: r,
      extras: [],
      ...extra,
    });
  const vippsRide = (o: Partial<RideView> = {}, state: RideView['state'] = 'ended') =>
    ride(state, { lines: fare(24_500, 12), orderAmount: 24_500, currency: 'NOK', endedAt: '2026-11-21T10:29:00.000Z', ...o });
  const hitpayRide = (o: Partial<RideView> = {}, state: RideView['state'] = 'awaiting_payment') =>
    ride(state, { lines: fare(2_480, 9), orderAmount: 2_480, currency: 'SGD', tipAmount: 248, order: 'created', endedAt: '2026-11-21T10:29:00.000Z', ...o });
  const paynow =
    '00020101021226490009SG.PAYNOW010120213201234567X03010040820261121530370254052728' + '5802SG5914CABPAY TAXI  76009SINGAPORE62170513CAB7RIDE000016304A1B2';
  const base = vipps(null, { locale: 'en' });
  const unlocked = { ...base.driver, settings: 'unlocked' as const };
  // Rides the driver left for the next fare (Hips, Swedish): one paid since, one failed, one still waiting.
  const hipsLines = [
    { id: 'fare', kind: 'fare' as const, label: 'Taxiresa', amount: 31_500, vatRate: 6 },
    { id: 'toll', kind: 'toll' as const, label: 'Vägtull', amount: 4_500, vatRate: 0 },
  ];
  const left = [
    attentionRide({
      rideId: 'a-1',
      status: 'paid',
      startedAt: '2026-11-21T10:02:00.000Z',
      parkedAt: '2026-11-21T10:21:00.000Z',
      outcomeAt: '2026-11-21T10:24:00.000Z',
      failure: null,
      paidTotal: 39_600,
      lines: hipsLines,
      orderAmount: 36_000,
      actions: ['seen'],
    }),
    attentionRide({
      rideId: 'a-2',
      status: 'failed',
      startedAt: '2026-11-21T09:31:00.000Z',
      failure: { code: 'payment_failed', message: 'The payment did not go through (payment_declined).' },
    }),
    attentionRide({
      rideId: 'a-3',
      status: 'unconfirmed',
      startedAt: '2026-11-21T09:02:00.000Z',
      failure: null,
      outcomeAt: null,
      orderAmount: 18_900,
      lines: [{ id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 18_900, vatRate: 6 }],
      actions: ['seen'],
    }),
  ];
  const hipsOnRide = (list: typeof left) =>
    idleSnapshot({
      locale: 'sv',
      cab: cabFor('hips', { qrContent: 'https://hips.example/qr/m-8841/cab-42' }),
      ride: ride('on_ride', { lines: [{ id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 12_000, vatRate: 6 }], orderAmount: 12_000 }),
      ridesNeedingAttention: list,
    });
  return [
    { name: 'attention-list', snapshot: hipsOnRide(left), act: (page) => page.getByTestId('attention-open').click() },
    {
      name: 'attention-detail',
      snapshot: hipsOnRide(left),
      act: async (page) => {
        await page.getByTestId('attention-open').click();
        await page.getByTestId('attention-row-a-2').click();
      },
    },
    {
      name: 'attention-notice',
      snapshot: hipsOnRide([{ ...left[0]!, status: 'unconfirmed', outcomeAt: null, paidTotal: null }, left[2]!]),
      // The payment of a ride the driver left comes in while the next ride is under way.
      act: (page, theme) => push(page, { ...hipsOnRide([left[0]!, left[2]!]), theme }),
    },
    { name: 'hitpay-idle', snapshot: hitpay(null) },
    { name: 'vipps-idle', snapshot: vipps(null) },
    { name: 'tip-picker', snapshot: vipps(vippsRide()), act: (page) => page.getByTestId('tip-option-10').click() },
    {
      name: 'tip-custom',
      snapshot: vipps(vippsRide()),
      act: async (page) => {
        await page.getByTestId('tip-custom').click();
        for (const key of ['5', '5', '0', '0']) await page.getByTestId(`tip-key-${key}`).click();
      },
    },
    { name: 'vipps-scan-total', snapshot: vipps(vippsRide({ tipAmount: 2_450 })) },
    { name: 'vipps-approve', snapshot: vipps(vippsRide({ tipAmount: 2_450, order: 'created' }, 'awaiting_payment')) },
    {
      name: 'vipps-declined',
      snapshot: vipps(
        vippsRide({ tipAmount: 2_450, order: 'created', failure: { code: 'payment_rejected', message: 'The payment was declined.' } }, 'failed'),
        { locale: 'en' },
      ),
    },
    {
      name: 'hitpay-qr',
      clock: true,
      snapshot: hitpay(hitpayRide({ paymentQr: { qrData: paynow, amount: 2_728, currency: 'SGD', expiresAt: '2026-11-21T10:34:38.000Z' } })),
    },
    // No QR yet and nothing heard: the driver sees when the request ends and what comes then.
    { name: 'hitpay-deadline', clock: true, snapshot: hitpay(hitpayRide({ paymentExpiresAt: '2026-11-21T10:34:38.000Z' })) },
    {
      name: 'vipps-deadline',
      clock: true,
      snapshot: vipps(vippsRide({ tipAmount: 2_450, order: 'created', paymentExpiresAt: '2026-11-21T10:35:00.000Z' }, 'awaiting_payment')),
    },
    {
      name: 'hitpay-preparing',
      snapshot: hitpay(hitpayRide({ order: 'queued' }, 'ended'), {
        connectivity: { relay: 'offline', offlineSince: '2026-11-21T10:27:00.000Z', problem: null },
        outboxDepth: 1,
      }),
      clock: true,
    },
    {
      name: 'hitpay-retry',
      snapshot: hitpay(hitpayRide({ failure: { code: 'payment_expired', message: 'The payment request expired.' } }, 'failed')),
    },
    {
      name: 'hitpay-declined',
      snapshot: hitpay(hitpayRide({ failure: { code: 'payment_rejected', message: 'The payment was declined.' } }, 'failed')),
    },
    {
      name: 'refunds',
      snapshot: {
        ...base,
        driver: unlocked,
        recentPayments: [
          recentPayment({ rideId: 'r-1', paidAt: '2026-11-21T10:12:00.000Z' }),
          recentPayment({
            rideId: 'r-2',
            paidAt: '2026-11-21T09:48:00.000Z',
            totalAmount: 18_700,
            refundedAmount: 5_000,
            refundableAmount: 13_700,
            refund: { refundId: 'f-2', amount: 5_000, state: 'refunded', failure: null, requestedAt: '2026-11-21T10:20:00.000Z' },
          }),
          recentPayment({
            rideId: 'r-3',
            paidAt: '2026-11-21T09:05:00.000Z',
            totalAmount: 41_250,
            refundableAmount: 31_250,
            refund: { refundId: 'f-3', amount: 10_000, state: 'queued', failure: null, requestedAt: '2026-11-21T10:25:00.000Z' },
          }),
          recentPayment({
            rideId: 'r-4',
            paidAt: '2026-11-21T08:40:00.000Z',
            totalAmount: 26_000,
            refundableAmount: 26_000,
            refund: {
              refundId: 'f-4',
              amount: 26_000,
              state: 'failed',
              failure: { code: 'refund_refused', message: 'refused' },
              requestedAt: '2026-11-21T09:00:00.000Z',
            },
          }),
          recentPayment({ rideId: 'r-5', paidAt: '2026-11-21T08:02:00.000Z', method: 'other', totalAmount: 15_500, refundableAmount: 0 }),
        ],
      },
      act: async (page) => {
        await page.getByTestId('open-settings').click();
        await page.getByTestId('settings-tab-refunds').click();
      },
    },
  ];
}

/** The PSP screens from scripted snapshots, day and night, at 1280×800. */
async function renderPspScenes(outDir: string): Promise<string[]> {
  const harness = await startHarness();
  const written: string[] = [];
  try {
    for (const theme of ['day', 'night'] as const) {
      for (const scene of pspScenes()) {
        const page = await openKiosk(harness, { ...scene.snapshot, theme }, {}, scene.clock ? { clockAt: sceneNow } : {});
        if (scene.clock) await page.clock.pauseAt(new Date(sceneNow.getTime() + 20_000));
        await scene.act?.(page, theme);
        await page.waitForTimeout(250); // let the last render paint
        const file = join(outDir, `${scene.name}-${theme}.png`);
        await page.screenshot({ path: file });
        written.push(file);
        await page.close();
      }
    }
  } finally {
    await harness.close();
  }
  return written;
}

main().catch((err: unknown) => {
  log.fatal({ err }, (err as Error).message);
  process.exit(1);
});
