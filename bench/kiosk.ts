/**
 * `tsx bench/kiosk.ts [--events 100] [--results-dir bench/results]`: the kiosk side of the benchmark (docs/performance.md).
 * - renderer bundle: `vite build` into a temp dir, gzip size of assets/*.js;
 * - cold start: spawn the preview (its bundle `out/preview/main.mjs`, built first by
 *   `npm run build:preview`'s code; the real kiosk core under plain Node) against a real
 *   relay, then the time until the cab's QR is visible in Chromium;
 * - event to UI: a signed scan hook posted to the relay until "passenger ready" is painted,
 *   and its cancel until it is gone (a MutationObserver plus the next animation frame, timed
 *   in the page on the same wall clock as the POST).
 * Prints one JSON line; writes bench/results/<time>-kiosk.json.
 * BENCH_PREVIEW_CPU_PROF_DIR=<dir> profiles the preview process (node --cpu-prof).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from '@playwright/test';
import { z } from 'zod';
import { PREVIEW_BUNDLE, buildPreview } from '../electron/preview/build.js';
import { startService, type Service } from '../scripts/lib/service.js';
import { QR_HOOK_PATH, createSigner, qrCodeOf, signHook } from './hooks.js';
import { provisionCabs } from './provision.js';
import { startServer } from './server-process.js';
import { REPO_ROOT } from './spawn.js';
import { percentile } from './stats.js';
import { zodIssuesText } from '../protocol/zod-issues.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const CAB_ID = 'bench-kiosk-cab';

const kioskArgs = z.object({
  events: z.coerce.number().int().min(2).max(10_000).default(100),
  resultsDir: z.string().min(1).default('bench/results'),
});

export interface KioskFigures {
  rendererJsGzipKb: number;
  rendererJsFiles: { file: string; bytes: number; gzipBytes: number }[];
  /** Preview process spawned → QR visible in an already running Chromium. */
  coldStartToQrMs: number;
  /** Of which: spawn → the preview's "listening" line. */
  previewListeningMs: number;
  /** Of which: navigation → QR visible. */
  pageToQrMs: number;
  events: number;
  eventToUiP50Ms: number;
  eventToUiP99Ms: number;
  eventToUiMaxMs: number;
  /**
   * Where the time goes: POST → bridge message in the page (server), → DOM change (render),
   * → next frame (paint); and POST → the relay's 2xx (answered, overlaps server).
   */
  eventToUiStages: Record<'answered' | 'server' | 'render' | 'paint', { p50Ms: number; p99Ms: number; maxMs: number }>;
}

const now = () => performance.timeOrigin + performance.now();

/** Builds the renderer into a temp dir (never touching renderer/dist) and sums its gzipped JS. */
export function measureBundle(outDir: string): Pick<KioskFigures, 'rendererJsGzipKb' | 'rendererJsFiles'> {
  execFileSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'renderer/vite.config.ts',
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'error',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const assets = path.join(outDir, 'assets');
  const files = readdirSync(assets)
    .filter((f) => f.endsWith('.js'))
    .map((file) => {
      const bytes = readFileSync(path.join(assets, file));
      return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
    });
  return { rendererJsFiles: files, rendererJsGzipKb: Number((files.reduce((n, f) => n + f.gzipBytes, 0) / 1024).toFixed(1)) };
}

/**
 * Runs in Chromium before the app: notes when the last bridge message arrived, so an event's
 * time splits into server side (POST → message in the page), render (message → DOM
 * mutation) and paint (mutation → next animation frame).
 */
const NOTE_MESSAGES = `(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { window.__benchMessageAt = performance.timeOrigin + performance.now(); });
    }
  };
})()`;

interface Painted {
  /** Page-side wall clock: the element painted present (or absent). */
  paintedAt: number;
  /** The DOM mutation that made it so. */
  mutatedAt: number;
  /** The last bridge message before that mutation (0 when none was noted). */
  messageAt: number;
}

/**
 * Runs in Chromium: resolves with the page-side wall-clock times at which the element is
 * changed and painted present (or absent). A string, because tsx's transform would inject
 * helpers that do not exist in the page.
 */
const PAINTED_AT = `({ testId, present }) => new Promise((resolve) => {
  const selector = '[data-testid="' + testId + '"]';
  const isPresent = () => document.querySelector(selector) !== null;
  const clock = () => performance.timeOrigin + performance.now();
  const done = () => {
    const mutatedAt = clock();
    const messageAt = window.__benchMessageAt || 0;
    requestAnimationFrame(() => resolve({ paintedAt: clock(), mutatedAt, messageAt }));
  };
  if (isPresent() === present) return done();
  const observer = new MutationObserver(() => {
    if (isPresent() !== present) return;
    observer.disconnect();
    done();
  });
  observer.observe(document.body, { childList: true, subtree: true });
})`;

function painted(page: Page, testId: string, present: boolean): Promise<Painted> {
  return page.evaluate(`(${PAINTED_AT})(${JSON.stringify({ testId, present })})`) as Promise<Painted>;
}

export async function runKioskBench(events: number, log: (line: string) => void): Promise<KioskFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-bench-kiosk-'));
  const bundle = measureBundle(path.join(dir, 'renderer'));
  log(`renderer JS ${bundle.rendererJsGzipKb} KB gzip in ${bundle.rendererJsFiles.length} file(s)`);

  const signer = await createSigner(dir);
  const adminToken = `bench-kiosk-admin-${process.pid}-${Date.now()}`;
  const services: Service[] = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const relay = await startService({
      name: 'relay',
      entry: 'backend-relay/main.ts',
      env: {
        RELAY_PORT: '0',
        RELAY_DB: path.join(dir, 'relay.db'),
        RELAY_ADMIN_TOKEN: adminToken,
        HIPS_PUBLIC_KEY_FILE: signer.publicKeyFile,
        RELAY_LOG_LEVEL: 'info',
      },
      logFile: path.join(dir, 'relay.log'),
    });
    services.push(relay);
    const [cab] = await provisionCabs(relay.url, adminToken, [CAB_ID]);
    const configFile = path.join(dir, 'kiosk.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        relayUrl: relay.url,
        pspUrl: 'http://127.0.0.1:9', // not called: no ride is ended in this bench
        cabId: CAB_ID,
        deviceToken: cab!.token,
        locale: 'sv',
        currency: 'SEK',
        plate: 'BEN 123',
        qrContent: qrCodeOf(CAB_ID),
        dataDir: path.join(dir, 'kiosk'),
      }),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(NOTE_MESSAGES);

    // Built before the clock starts, as a release would be: the cold start runs the bundle.
    const buildStartedAt = now();
    await buildPreview();
    log(`preview bundle built in ${(now() - buildStartedAt).toFixed(0)} ms (not part of the cold start)`);
    const spawnedAt = now();
    const previewEnv = { KIOSK_CONFIG: configFile, PREVIEW_PORT: '0', PREVIEW_STATIC_DIR: path.join(dir, 'renderer') };
    const profileDir = process.env.BENCH_PREVIEW_CPU_PROF_DIR;
    // Profiling needs node flags (NODE_OPTIONS refuses --cpu-prof), so that run goes through the bench's own spawner.
    const preview: Service = profileDir
      ? await profiledPreview(previewEnv, path.join(dir, 'preview.log'), profileDir)
      : await startService({ name: 'preview', entry: PREVIEW_BUNDLE, env: previewEnv, logFile: path.join(dir, 'preview.log') });
    services.push(preview);
    const listeningAt = now();
    const navigatedAt = now();
    await page.goto(preview.url, { waitUntil: 'commit' });
    const qrAt = (await painted(page, 'cab-qr', true)).paintedAt;
    log(`cold start: preview listening after ${(listeningAt - spawnedAt).toFixed(0)} ms, QR visible ${(qrAt - spawnedAt).toFixed(0)} ms after spawn`);

    // Wait until the kiosk is online at the relay, or the first scan would be refused (412).
    await page.getByTestId('screen-idle').waitFor();
    const latencies: number[] = [];
    const stages = { answered: [] as number[], server: [] as number[], render: [] as number[], paint: [] as number[] };
    for (let i = 0; latencies.length < events; i++) {
      const sessionId = `kiosk-bench-${Date.now()}-${i}`;
      for (const requestType of ['start_qr_session', 'canceled'] as const) {
        const data = {
          request_type: requestType,
          session_id: sessionId,
          one_time_order_api_key: `otk-${sessionId}-0123456789abcdef`,
          idempotency_key: `${sessionId}-${requestType}`,
          qr_code: qrCodeOf(CAB_ID),
          allow_tip: true,
          execute_at: new Date().toISOString(),
          order_timeout_seconds: 600,
          payment_timeout_seconds: 300,
        };
        const body = JSON.stringify({ ...data, jwt: await signHook(signer.privateKey, data) });
        const shown = painted(page, 'passenger-ready', requestType === 'start_qr_session');
        const postedAt = now();
        const res = await fetch(`${relay.url}${QR_HOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        stages.answered.push(now() - postedAt);
        if (res.status !== 200) throw new Error(`the relay answered ${res.status} to a kiosk bench hook: ${await res.text()}`);
        const at = await shown;
        latencies.push(at.paintedAt - postedAt);
        if (at.messageAt >= postedAt) {
          stages.server.push(at.messageAt - postedAt);
          stages.render.push(at.mutatedAt - at.messageAt);
        }
        stages.paint.push(at.paintedAt - at.mutatedAt);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    latencies.sort((a, b) => a - b);
    const r = (n: number) => Number(n.toFixed(1));
    const split = (xs: number[]) => {
      xs.sort((a, b) => a - b);
      return { p50Ms: r(percentile(xs, 50)), p99Ms: r(percentile(xs, 99)), maxMs: r(xs[xs.length - 1] ?? 0) };
    };
    return {
      ...bundle,
      coldStartToQrMs: r(qrAt - spawnedAt),
      previewListeningMs: r(listeningAt - spawnedAt),
      pageToQrMs: r(qrAt - navigatedAt),
      events: latencies.length,
      eventToUiP50Ms: r(percentile(latencies, 50)),
      eventToUiP99Ms: r(percentile(latencies, 99)),
      eventToUiMaxMs: r(latencies[latencies.length - 1]!),
      eventToUiStages: { answered: split(stages.answered), server: split(stages.server), render: split(stages.render), paint: split(stages.paint) },
    };
  } finally {
    await browser.close();
    for (const s of services.reverse()) await s.stop();
  }
}

async function profiledPreview(env: Record<string, string>, logFile: string, profileDir: string): Promise<Service> {
  const server = await startServer(PREVIEW_BUNDLE, env, logFile, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  return {
    name: 'preview',
    url: server.url,
    child: server.child,
    stop: async () => void (await server.stop()),
    kill: () => server.kill9(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line: string) => process.stderr.write(`[bench-kiosk] ${line}\n`);
  const raw = Object.fromEntries(
    process.argv
      .slice(2)
      .filter((a) => a !== '--')
      .map((a, i, all) => (a.startsWith('--') ? [a.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), all[i + 1]] : null))
      .filter((x): x is [string, string] => x !== null),
  );
  const args = kioskArgs.safeParse(raw);
  if (!args.success) {
    process.stderr.write(`invalid flags: ${zodIssuesText(args.error, { name: (path) => `--${String(path[0])}` })}\n`);
    process.exit(2);
  }
  const startedAt = new Date();
  runKioskBench(args.data.events, log).then(
    (figures) => {
      const dir = path.resolve(REPO_ROOT, args.data.resultsDir);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z-kiosk.json`);
      writeFileSync(
        file,
        `${JSON.stringify({ command: 'npx tsx bench/kiosk.ts', startedAt: startedAt.toISOString(), loadAverage: os.loadavg(), figures }, null, 2)}\n`,
      );
      log(`results written to ${path.relative(process.cwd(), file)}`);
      const { rendererJsFiles: _files, ...summary } = figures;
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`kiosk bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
