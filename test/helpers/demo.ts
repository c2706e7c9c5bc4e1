/** Runs `scripts/start.ts` (what `npm start` runs) on ephemeral ports in a temporary home. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/lib/service.js';

/** One demo cab as `npm start`'s READY line lists it. */
export interface DemoCab {
  cabId: string;
  psp: 'hips' | 'vipps' | 'hitpay';
  /** The kiosk preview's URL, or `(Electron window)`. */
  kioskUrl: string;
  currency: string;
  locale: string;
  /** The cab's static QR content; null where the tablet shows a QR per payment (HitPay). */
  qrContent: string | null;
  /** The page a passenger opens instead of scanning (Hips phone page, Vipps app page). */
  passengerUrl?: string;
}

/** The top-level URLs and ids are demo-1's (Hips), as before; `cabs` lists all three. */
export interface DemoStack {
  kioskUrl: string;
  passengerUrl: string;
  qrData: string;
  relayUrl: string;
  sandboxUrl: string;
  cabId: string;
  cabs: DemoCab[];
  home: string;
  output: string[];
  stop(): Promise<void>;
}

/** `home`: reuse an earlier stack's CABPAY_HOME (a restart); default a new temp dir. */
export async function startDemoStack(extraEnv: Record<string, string> = {}, options: { home?: string } = {}): Promise<DemoStack> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'cabpay-demo-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CABPAY_HOME: home,
      SANDBOX_PORT: '0',
      RELAY_PORT: '0',
      PREVIEW_PORT: '0',
      CABPAY_NO_OPEN: '1',
      CABPAY_FORCE_PREVIEW: '1',
      CABPAY_SKIP_BUILD: '1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = await new Promise<Omit<DemoStack, 'stop' | 'home' | 'output'>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not get ready in 60 s:\n${output.join('\n')}`)), 60_000);
    const onLine = (line: string) => {
      output.push(line);
      if (line.startsWith('CABPAY_READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('CABPAY_READY '.length)));
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output.join('\n')}`));
    });
  });
  return {
    ...ready,
    home,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
