/**
 * `npm start`: the whole demo on the embedded default. Starts the PSP sandbox, the relay in
 * sandbox mode (it trusts the sandbox's signing key), registers and connects a demo cab, then
 * opens the kiosk: in Electron where the binary exists, otherwise the browser preview.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { hashPin } from '../electron/core/pin.js';
import { findElectronBinary } from './lib/electron-binary.js';
import { repoRoot, startService, type Service } from './lib/service.js';

const envSchema = z.object({
  CABPAY_HOME: z.string().min(1).default(join(repoRoot, '.cabpay')),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  RELAY_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  PREVIEW_PORT: z.coerce.number().int().min(0).max(65535).default(5173),
  CABPAY_NO_OPEN: z.enum(['0', '1', '']).default(''),
  CABPAY_FORCE_PREVIEW: z.enum(['0', '1', '']).default(''),
  /** Tests build the renderer once up front. */
  CABPAY_SKIP_BUILD: z.enum(['0', '1', '']).default(''),
});

const DEMO_CAB = { cabId: 'demo-1', qrCode: 'CABPAY-DEMO-1', plate: 'ABC 123', label: 'Cab 1' } as const;
/** Printed on the demo's receipts; a real relay sets RELAY_FLEET_NAME and RELAY_FLEET_ORG_NUMBER. */
const DEMO_FLEET = { name: 'Demo Taxi Stockholm AB', orgNumber: '559999-0001' } as const;
/** The demo driver-settings PIN (a real cab's config holds only a hash of its own PIN). */
const DEMO_PIN = process.env.CABPAY_DEMO_PIN ?? '2468';

const services: Service[] = [];
let stopping = false;

async function main() {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`npm start: bad environment (${problems}). Ports are integers 0–65535 (0 = any free port).`);
  }
  const env = parsed.data;
  const home = resolve(env.CABPAY_HOME);
  mkdirSync(home, { recursive: true });
  const logDir = join(home, 'logs');
  const echoProblems = (name: string) => (line: string) => {
    if (/"level":(50|60)/.test(line)) console.error(`[${name}] ${line}`);
  };

  console.log(`cabpay: starting the demo (data and logs in ${home})`);
  const merchantKey = process.env.SANDBOX_MERCHANT_KEY ?? persistentSecret(join(home, 'sandbox-merchant-key'), 'sk_sandbox_');
  const sandbox = await startService({
    name: 'sandbox',
    entry: 'backend-relay/sandbox/main.ts',
    env: {
      SANDBOX_PORT: String(env.SANDBOX_PORT),
      SANDBOX_DB: join(home, 'sandbox.db'),
      SANDBOX_MERCHANT_KEY: merchantKey,
      SANDBOX_MERCHANT_NAME: process.env.SANDBOX_MERCHANT_NAME ?? DEMO_FLEET.name,
    },
    logFile: join(logDir, 'sandbox.log'),
    onLine: echoProblems('sandbox'),
  });
  services.push(sandbox);

  const pemFile = join(home, 'sandbox-public-key.pem');
  writeFileSync(pemFile, await httpText(`${sandbox.url}/sandbox/public-key.pem`));

  const adminTokenFile = join(home, 'relay-admin-token');
  const adminToken = persistentSecret(adminTokenFile, '');

  const relay = await startService({
    name: 'relay',
    entry: 'backend-relay/main.ts',
    env: {
      RELAY_PORT: String(env.RELAY_PORT),
      RELAY_DB: join(home, 'relay.db'),
      RELAY_ADMIN_TOKEN: adminToken,
      HIPS_PUBLIC_KEY_FILE: pemFile,
      RELAY_FLEET_NAME: process.env.RELAY_FLEET_NAME ?? DEMO_FLEET.name,
      RELAY_FLEET_ORG_NUMBER: process.env.RELAY_FLEET_ORG_NUMBER ?? DEMO_FLEET.orgNumber,
    },
    logFile: join(logDir, 'relay.log'),
    onLine: echoProblems('relay'),
  });
  services.push(relay);

  const demo = await provisionDemoCab({ home, sandboxUrl: sandbox.url, relayUrl: relay.url, merchantKey, adminToken });

  const kioskConfigFile = join(home, `kiosk-${DEMO_CAB.cabId}.json`);
  writeFileSync(
    kioskConfigFile,
    JSON.stringify(
      {
        relayUrl: relay.url,
        pspUrl: sandbox.url,
        cabId: DEMO_CAB.cabId,
        deviceToken: demo.deviceToken,
        locale: 'sv',
        currency: 'SEK',
        psp: 'hips',
        plate: DEMO_CAB.plate,
        label: DEMO_CAB.label,
        qrContent: demo.qrData,
        dataDir: join(home, `kiosk-${DEMO_CAB.cabId}`),
        // Read by electron/core/driver-config.ts: settings PIN, and Stockholm for sunrise/sunset.
        driverPinHash: hashPin(DEMO_PIN),
        latitude: 59.33,
        longitude: 18.07,
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );

  const passengerUrl = `${sandbox.url}/pay?qr=${encodeURIComponent(demo.qrData)}`;
  const electron = findElectronBinary();
  const electronBinary = env.CABPAY_FORCE_PREVIEW === '1' ? null : electron.path;
  let kioskUrl: string;
  if (electronBinary) {
    runOrThrow('npx', ['electron-vite', 'build']);
    const child = spawn(electronBinary, ['.'], { cwd: repoRoot, env: { ...process.env, KIOSK_CONFIG: kioskConfigFile }, stdio: 'inherit' });
    child.once('exit', () => void shutdown(0));
    kioskUrl = '(Electron window)';
  } else {
    console.log(`cabpay: the kiosk runs as the browser preview (${electron.path ? 'CABPAY_FORCE_PREVIEW=1' : electron.reason})`);
    if (env.CABPAY_SKIP_BUILD !== '1') runOrThrow('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
    const preview = await startService({
      name: 'preview',
      entry: 'electron/preview/main.ts',
      env: { KIOSK_CONFIG: kioskConfigFile, PREVIEW_PORT: String(env.PREVIEW_PORT) },
      logFile: join(logDir, 'preview.log'),
      onLine: echoProblems('preview'),
    });
    services.push(preview);
    kioskUrl = preview.url;
    if (env.CABPAY_NO_OPEN !== '1') openInBrowser(kioskUrl);
  }

  console.log('');
  console.log(`  Kiosk (driver tablet):  ${kioskUrl}`);
  console.log(`  Passenger phone page:   ${passengerUrl}`);
  console.log(`  Demo cab QR content:    ${demo.qrData}`);
  console.log(`  Relay:                  ${relay.url}   (admin token in ${adminTokenFile})`);
  console.log(`  PSP sandbox:            ${sandbox.url}   (merchant key ${merchantKey})`);
  console.log(`  Driver settings PIN:    ${DEMO_PIN}   (demo only; set CABPAY_DEMO_PIN to change)`);
  console.log('');
  console.log('  Press Ctrl-C to stop.');
  // One machine-readable line for scripts and tests.
  console.log(`CABPAY_READY ${JSON.stringify({ kioskUrl, passengerUrl, qrData: demo.qrData, relayUrl: relay.url, sandboxUrl: sandbox.url, cabId: DEMO_CAB.cabId })}`);

  for (const service of services) {
    service.child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`cabpay: ${service.name} stopped unexpectedly (${signal ?? code}); see ${join(logDir, service.name + '.log')}`);
      void shutdown(1);
    });
  }
}

async function provisionDemoCab(args: { home: string; sandboxUrl: string; relayUrl: string; merchantKey: string; adminToken: string }) {
  const stateFile = join(args.home, 'demo-cab.json');
  const merchant = { Authorization: args.merchantKey, 'Content-Type': 'application/json' };
  const saved = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { codeToken?: string }) : {};

  let qr: { code_token: string | number; qr_data: string } | null = null;
  if (saved.codeToken !== undefined) {
    const res = await fetch(`${args.sandboxUrl}/v2/qrs/${saved.codeToken}`, { headers: merchant });
    if (res.ok) qr = (await res.json()) as typeof qr;
  }
  if (!qr) {
    qr = await httpJson(`${args.sandboxUrl}/v2/qrs`, 'POST', merchant, { qr_code: DEMO_CAB.qrCode, allow_tip: true });
  }
  const codeToken = String(qr!.code_token);
  writeFileSync(stateFile, JSON.stringify({ codeToken }));

  const connected = await httpJson<{ qr_data: string }>(`${args.sandboxUrl}/v2/qrs/${codeToken}`, 'PATCH', merchant, {
    qr_start_webhook_url: `${args.relayUrl}/webhooks/hips/qr`,
    allow_tip: true,
    order_timeout_seconds: 3600,
    payment_timeout_seconds: 900,
    asynchronous: false,
    status: 'online',
    // The plate travels in the QR's own data, so the passenger's phone page can show it.
    dynamic: { plate: DEMO_CAB.plate },
  });

  const cab = await httpJson<{ deviceToken: string }>(
    `${args.relayUrl}/admin/cabs/${DEMO_CAB.cabId}`,
    'PUT',
    { Authorization: `Bearer ${args.adminToken}`, 'Content-Type': 'application/json' },
    { psp: 'hips', qrCodes: [DEMO_CAB.qrCode], plate: DEMO_CAB.plate, label: DEMO_CAB.label },
  );
  return { deviceToken: cab.deviceToken, qrData: connected.qr_data };
}

/** A random secret kept in a file, so restarts of the demo keep working with the same stores. */
function persistentSecret(file: string, prefix: string): string {
  if (!existsSync(file)) writeFileSync(file, prefix + randomBytes(24).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function httpText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.text();
}

async function httpJson<T = any>(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<T> {
  const res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

function runOrThrow(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
}

function openInBrowser(url: string) {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => console.log(`cabpay: open ${url} in a browser`));
  child.unref();
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\ncabpay: stopping…');
  for (const service of [...services].reverse()) await service.stop();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch(async (err: Error) => {
  console.error(`cabpay: ${err.message}`);
  await shutdown(1);
});
