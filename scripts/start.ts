/**
 * `npm start`: the whole demo on the embedded default. Starts the PSP sandbox (Hips, Vipps
 * MobilePay and HitPay in one process), the relay configured for all three against it, registers
 * three demo cabs (one per PSP), then opens the kiosks: demo-1 in Electron where the binary
 * exists, every other cab (and demo-1 without Electron) as a browser preview of its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../backend-relay/sandbox/hitpay/index.js';
import { VIPPS_DEMO_CREDENTIALS } from '../backend-relay/sandbox/vipps/settings.js';
import { terminalField } from '../protocol/terminal-text.js';
import { hashPin } from '../electron/core/pin.js';
import { PREVIEW_BUNDLE, buildPreview } from '../electron/preview/build.js';
import { DEMO_CABS, provisionDemoCabs, writeKioskConfig, type ProvisionedDemoCab } from './lib/demo-cabs.js';
import { findElectronBinary } from './lib/electron-binary.js';
import { freePort } from './lib/free-port.js';
import { repoRoot, startService, type Service, type StartServiceOptions } from './lib/service.js';
import { zodIssuesText } from '../protocol/zod-issues.js';

const port = z.coerce.number().int().min(0).max(65535);
const envSchema = z.object({
  CABPAY_HOME: z.string().min(1).default(join(repoRoot, '.cabpay')),
  SANDBOX_PORT: port.default(8788),
  RELAY_PORT: port.default(8787),
  /** The first cab's preview; the others take the next ports (0: each its own free port). */
  PREVIEW_PORT: port.max(65535 - (DEMO_CABS.length - 1), `leaves no room for ${DEMO_CABS.length} previews`).default(5173),
  /** What PSP webhooks are sent to; default the relay's own URL. */
  RELAY_PUBLIC_URL: z.url().optional(),
  CABPAY_NO_OPEN: z.enum(['0', '1', '']).default(''),
  CABPAY_FORCE_PREVIEW: z.enum(['0', '1', '']).default(''),
  /** Tests build the renderer once up front. */
  CABPAY_SKIP_BUILD: z.enum(['0', '1', '']).default(''),
});

/** Printed on the demo's receipts; a real relay sets RELAY_FLEET_NAME and RELAY_FLEET_ORG_NUMBER. */
const DEMO_FLEET = { name: 'Demo Taxi Stockholm AB', orgNumber: '559999-0001' } as const;
/** The demo driver-settings PIN (a real cab's config holds only a hash of its own PIN). */
const DEMO_PIN = process.env.CABPAY_DEMO_PIN ?? '2468';

const services: Service[] = [];
let stopping = false;

/** One cab as the READY line lists it. */
interface ReadyCab {
  cabId: string;
  psp: string;
  kioskUrl: string;
  currency: string;
  locale: string;
  qrContent: string | null;
  passengerUrl?: string;
}

async function main() {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    throw new Error(`npm start: bad environment (${problems}). Ports are integers 0–65535 (0 = any free port).`);
  }
  const env = parsed.data;
  const home = resolve(env.CABPAY_HOME);
  mkdirSync(home, { recursive: true });
  const logDir = join(home, 'logs');
  // A service's log line can carry what a tablet or a PSP sent: never raw to the terminal.
  const echoProblems = (name: string) => (line: string) => {
    if (/"level":(50|60)/.test(line)) console.error(`[${name}] ${terminalField(line)}`);
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
  // Seals the Vipps webhook secret and check-in tokens in relay.db; kept beside it, like the admin token.
  const secretsKey = process.env.RELAY_SECRETS_KEY ?? persistentSecret(join(home, 'relay-secrets-key'), '', 32);

  // The relay serves the console's files from console/dist; they must exist before it starts.
  if (env.CABPAY_SKIP_BUILD !== '1') runOrThrow('npx', ['vite', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn']);

  const relay = await startRelay(env.RELAY_PORT, env.RELAY_PUBLIC_URL, (relayPort, publicUrl) => ({
    name: 'relay',
    entry: 'backend-relay/main.ts',
    env: {
      RELAY_PORT: String(relayPort),
      RELAY_DB: join(home, 'relay.db'),
      RELAY_ADMIN_TOKEN: adminToken,
      RELAY_SECRETS_KEY: secretsKey,
      HIPS_PUBLIC_KEY_FILE: pemFile,
      RELAY_FLEET_NAME: process.env.RELAY_FLEET_NAME ?? DEMO_FLEET.name,
      RELAY_FLEET_ORG_NUMBER: process.env.RELAY_FLEET_ORG_NUMBER ?? DEMO_FLEET.orgNumber,
      // Vipps signs its hooks over the host, HitPay is told where to send them: both need this.
      RELAY_PUBLIC_URL: publicUrl,
      // All three PSPs are the one sandbox, with its demo credentials.
      VIPPS_BASE_URL: sandbox.url,
      VIPPS_CLIENT_ID: VIPPS_DEMO_CREDENTIALS.clientId,
      VIPPS_CLIENT_SECRET: VIPPS_DEMO_CREDENTIALS.clientSecret,
      VIPPS_SUBSCRIPTION_KEY: VIPPS_DEMO_CREDENTIALS.subscriptionKey,
      VIPPS_MSN: VIPPS_DEMO_CREDENTIALS.msn,
      HITPAY_BASE_URL: sandbox.url,
      HITPAY_API_KEY: HITPAY_DEMO_API_KEY,
      HITPAY_SALT: HITPAY_DEMO_SALT,
      HIPS_API_URL: sandbox.url,
      HIPS_MERCHANT_KEY: merchantKey,
    },
    logFile: join(logDir, 'relay.log'),
    onLine: echoProblems('relay'),
  }));
  services.push(relay);

  const cabs = await provisionDemoCabs({ sandboxUrl: sandbox.url, relayUrl: relay.url, adminToken });
  const consoleLogin = await ensureConsoleAdmin(relay.url, adminToken);
  const driverPinHash = hashPin(DEMO_PIN);
  const configFiles = cabs.map((cab) => writeKioskConfig(home, cab, { relayUrl: relay.url, sandboxUrl: sandbox.url, driverPinHash }));

  const electron = findElectronBinary();
  const electronBinary = env.CABPAY_FORCE_PREVIEW === '1' ? null : electron.path;
  let staticDir = 'renderer/dist';
  if (electronBinary) {
    // electron-vite builds the renderer too (to out/renderer); the other cabs' previews serve that.
    runOrThrow('npx', ['electron-vite', 'build']);
    staticDir = 'out/renderer';
  } else {
    console.log(`cabpay: the kiosks run as browser previews (${electron.path ? 'CABPAY_FORCE_PREVIEW=1' : electron.reason})`);
    if (env.CABPAY_SKIP_BUILD !== '1') runOrThrow('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
  }

  // The previews run one prebuilt bundle: plain node starts them in well under a second.
  await buildPreview();

  // demo-1 (index 0) opens in Electron when it can; every other cab gets a preview.
  const inPreview = cabs.map((_, i) => !(electronBinary && i === 0));
  const previews = await Promise.allSettled(
    cabs.map((cab, i) =>
      inPreview[i]
        ? startService({
            name: `preview-${cab.spec.cabId}`,
            entry: PREVIEW_BUNDLE,
            env: {
              KIOSK_CONFIG: configFiles[i],
              PREVIEW_PORT: String(env.PREVIEW_PORT === 0 ? 0 : env.PREVIEW_PORT + i),
              PREVIEW_STATIC_DIR: staticDir,
            },
            logFile: join(logDir, `preview-${cab.spec.cabId}.log`),
            onLine: echoProblems(`preview ${cab.spec.cabId}`),
          })
        : Promise.resolve(null),
    ),
  );
  for (const p of previews) if (p.status === 'fulfilled' && p.value) services.push(p.value);
  const failed = previews.flatMap((p, i) =>
    p.status === 'rejected'
      ? [
          `cab ${cabs[i]!.spec.cabId}: its kiosk preview did not start (${(p.reason as Error).message.split('\n')[0]}). ` +
            `Is port ${env.PREVIEW_PORT + i} taken? Set PREVIEW_PORT (it uses ${DEMO_CABS.length} ports from there) or 0; see logs/preview-${cabs[i]!.spec.cabId}.log`,
        ]
      : [],
  );
  if (failed.length > 0) throw new Error(failed.join('\n'));
  const kioskUrls = previews.map((p) => (p.status === 'fulfilled' && p.value ? p.value.url : '(Electron window)'));

  if (electronBinary) {
    const child = spawn(electronBinary, ['.'], { cwd: repoRoot, env: { ...process.env, KIOSK_CONFIG: configFiles[0] }, stdio: 'inherit' });
    child.once('exit', () => void shutdown(0));
  }
  if (env.CABPAY_NO_OPEN !== '1') for (const [i, url] of kioskUrls.entries()) if (inPreview[i]) openInBrowser(url);

  const ready: ReadyCab[] = cabs.map((cab, i) => ({
    cabId: cab.spec.cabId,
    psp: cab.spec.psp,
    kioskUrl: kioskUrls[i]!,
    currency: cab.spec.currency,
    locale: cab.spec.locale,
    qrContent: cab.qrContent,
    ...(cab.passengerUrl ? { passengerUrl: cab.passengerUrl } : {}),
  }));
  printSummary(cabs, kioskUrls, { relayUrl: relay.url, sandboxUrl: sandbox.url, adminTokenFile, merchantKey, consoleLogin });

  // One machine-readable line for scripts and tests; the top-level fields are demo-1's.
  const first = cabs[0]!;
  console.log(
    `CABPAY_READY ${JSON.stringify({
      kioskUrl: kioskUrls[0],
      passengerUrl: first.passengerUrl,
      qrData: first.qrContent,
      relayUrl: relay.url,
      sandboxUrl: sandbox.url,
      cabId: first.spec.cabId,
      cabs: ready,
    })}`,
  );

  for (const service of services) {
    service.child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`cabpay: ${service.name} stopped unexpectedly (${signal ?? code}); see ${join(logDir, service.name + '.log')}`);
      void shutdown(1);
    });
  }
}

/**
 * The relay must know its own public URL before it listens (RELAY_PUBLIC_URL), so port 0 becomes
 * a free port picked here; should another process take it first, another one is picked.
 */
async function startRelay(wanted: number, publicUrl: string | undefined, options: (port: number, publicUrl: string) => StartServiceOptions): Promise<Service> {
  for (let attempt = 1; ; attempt++) {
    const relayPort = wanted === 0 ? await freePort() : wanted;
    try {
      return await startService(options(relayPort, publicUrl ?? `http://127.0.0.1:${relayPort}`));
    } catch (err) {
      const taken = /EADDRINUSE/.test((err as Error).message);
      if (wanted === 0 && taken && attempt < 3) continue;
      if (taken) throw new Error(`the relay cannot listen on port ${relayPort}: it is taken. Set RELAY_PORT to a free port (or 0).`, { cause: err });
      throw err;
    }
  }
}

function printSummary(
  cabs: ProvisionedDemoCab[],
  kioskUrls: string[],
  s: { relayUrl: string; sandboxUrl: string; adminTokenFile: string; merchantKey: string; consoleLogin: string },
) {
  const psp = { hips: 'Hips', vipps: 'Vipps MobilePay', hitpay: 'HitPay' } as const;
  console.log('');
  for (const [i, cab] of cabs.entries()) {
    const { spec } = cab;
    console.log(`  ${spec.label} ${spec.cabId} — ${psp[spec.psp]}, ${spec.currency}, ${spec.locale}, plate ${spec.plate}`);
    console.log(`    Kiosk (driver tablet):  ${kioskUrls[i]}`);
    // The QR content comes from the PSP (through the relay).
    console.log(`    Passenger:              ${terminalField(cab.passengerHelp)}`);
    if (cab.qrContent) console.log(`    Cab QR content:         ${terminalField(cab.qrContent)}`);
  }
  console.log('');
  console.log(`  Relay:                  ${s.relayUrl}   (admin token in ${s.adminTokenFile})`);
  console.log(
    `  PSP sandbox:            ${s.sandboxUrl}   (Hips merchant key ${s.merchantKey}; Vipps and HitPay demo credentials in backend-relay/sandbox/README.md)`,
  );
  console.log(`  Driver settings PIN:    ${DEMO_PIN}   (demo only; set CABPAY_DEMO_PIN to change)`);
  console.log(`  Fleet console:          ${s.relayUrl}/console/`);
  console.log(`    ${s.consoleLogin}`);
  console.log('');
  console.log('  Press Ctrl-C to stop.');
}

/**
 * The console's first account: on the first run (no operators yet) an `admin` with a one-time
 * password, printed once; later runs say how to get a new one. Returns the line to print.
 */
async function ensureConsoleAdmin(relayUrl: string, adminToken: string): Promise<string> {
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${relayUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const { operators } = (await call('GET', '/admin/operators')) as { operators: unknown[] };
  if (operators.length > 0) {
    return 'Log in with your operator account (a forgotten password: npm run fleet -- operator reset-password admin, with RELAY_URL and RELAY_ADMIN_TOKEN set).';
  }
  const created = await call('POST', '/admin/operators', { name: 'admin', role: 'admin' });
  return `Log in as admin with the one-time password ${terminalField(created.oneTimePassword)} (shown once; you choose your own at first login).`;
}

/** A random secret kept in a file, so restarts of the demo keep working with the same stores. */
function persistentSecret(file: string, prefix: string, bytes = 24): string {
  if (!existsSync(file)) writeFileSync(file, prefix + randomBytes(bytes).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function httpText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.text();
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
