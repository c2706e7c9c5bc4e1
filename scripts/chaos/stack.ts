/**
 * The chaos run's processes on loopback: the sandbox, the relay (killable and restartable on
 * the same DB and port), and per cab a kiosk core process behind two cuttable proxies (relay, PSP).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type Service } from '../lib/service.js';
import type { ChaosArgs } from './args.js';
import { KioskHandle } from './kiosk-handle.js';
import { CuttableProxy } from './proxy.js';

/** Shortened clocks of the kiosk and relay, so hundreds of rides fit in minutes. */
export const CHAOS_TIMERS = {
  relayAckTimeoutMs: 1_000,
  kioskBackoffBaseMs: 200,
  kioskBackoffCapMs: 2_000,
  kioskPspTimeoutMs: 2_500,
  /** Longer than the sandbox's whole webhook retry window, so only a hook lost for good trips it. */
  kioskPaymentSilenceMs: 60_000,
  /** A create-order hang longer than the kiosk waits, so the kiosk times out and retries. */
  sandboxHangMs: 3_500,
} as const;

export interface Cab {
  cabId: string;
  qrData: string;
  kiosk: KioskHandle;
  dataDir: string;
  relayProxy: CuttableProxy;
  pspProxy: CuttableProxy;
  /** The tablet's network: both proxies at once. */
  setOffline(offline: boolean): void;
}

export interface ChaosStack {
  dir: string;
  sandboxUrl: string;
  relayUrl: string;
  relayDb: string;
  cabs: Cab[];
  relayRestarts: number;
  /** kill -9 of the relay, then a restart on the same DB and port. */
  crashRelay(): Promise<void>;
  stop(): Promise<void>;
}

async function http<T>(method: string, url: string, body?: unknown, auth?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = auth;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export async function startChaosStack(args: ChaosArgs, dir: string): Promise<ChaosStack> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  let merchantKey = '';
  let publicKeyPem = '';
  const sandbox = await startService({
    name: 'sandbox',
    entry: 'scripts/chaos/sandbox-process.ts',
    env: { SANDBOX_DB: join(dir, 'sandbox.db') },
    logFile: join(dir, 'logs', 'sandbox.log'),
    onLine: (line) => {
      if (!line.includes('"listening"')) return;
      const parsed = JSON.parse(line) as { merchantKey: string; publicKeyPem: string };
      merchantKey = parsed.merchantKey;
      publicKeyPem = parsed.publicKeyPem;
    },
  });
  const pemFile = join(dir, 'sandbox-public.pem');
  writeFileSync(pemFile, publicKeyPem);

  const adminToken = randomBytes(24).toString('hex');
  const relayDb = join(dir, 'relay.db');
  const relayEnv = (port: number) => ({
    RELAY_PORT: String(port),
    RELAY_DB: relayDb,
    RELAY_ADMIN_TOKEN: adminToken,
    HIPS_PUBLIC_KEY_FILE: pemFile,
    RELAY_ACK_TIMEOUT_MS: String(CHAOS_TIMERS.relayAckTimeoutMs),
    RELAY_LOCALE: 'en',
    RELAY_LOG_LEVEL: 'info',
  });
  const relayLog = join(dir, 'logs', 'relay.log');
  let relay: Service = await startService({ name: 'relay', entry: 'backend-relay/main.ts', env: relayEnv(0), logFile: relayLog });
  const relayUrl = relay.url;
  const relayPort = Number(new URL(relayUrl).port);

  const cabs: Cab[] = [];
  for (let i = 1; i <= args.cabs; i++) {
    const cabId = `CHAOS-${i}`;
    const qrCode = `CHAOSQR${i}`;
    const qr = await http<{ code_token: string; qr_data: string }>('POST', `${sandbox.url}/v2/qrs`, { qr_code: qrCode, allow_tip: true }, merchantKey);
    await http('PATCH', `${sandbox.url}/v2/qrs/${qr.code_token}`, {
      qr_start_webhook_url: `${relayUrl}/webhooks/hips/qr`,
      allow_tip: true,
      order_timeout_seconds: args.orderTimeout,
      payment_timeout_seconds: args.paymentTimeout,
      status: 'online',
    }, merchantKey);
    const { deviceToken } = await http<{ deviceToken: string }>('PUT', `${relayUrl}/admin/cabs/${cabId}`, { psp: 'hips', qrCodes: [qrCode], plate: `CH ${i}`, label: `Chaos ${i}` }, `Bearer ${adminToken}`);
    const relayProxy = await CuttableProxy.start(relayUrl);
    const pspProxy = await CuttableProxy.start(sandbox.url);
    const dataDir = join(dir, 'kiosks', cabId);
    mkdirSync(dataDir, { recursive: true });
    const kiosk = new KioskHandle({
      cabId,
      logFile: join(dir, 'logs', `${cabId}.log`),
      env: {
        CHAOS_KIOSK_CONFIG: JSON.stringify({
          relayUrl: relayProxy.url,
          pspUrl: pspProxy.url,
          orderWebhookUrl: `${relayUrl}/webhooks/hips/orders`,
          cabId,
          deviceToken,
          locale: 'en',
          currency: 'SEK',
          plate: `CH ${i}`,
          qrContent: qr.qr_data,
          dataDir,
        }),
        CHAOS_BACKOFF_BASE_MS: String(CHAOS_TIMERS.kioskBackoffBaseMs),
        CHAOS_BACKOFF_CAP_MS: String(CHAOS_TIMERS.kioskBackoffCapMs),
        CHAOS_PSP_TIMEOUT_MS: String(CHAOS_TIMERS.kioskPspTimeoutMs),
        CHAOS_PAYMENT_SILENCE_MS: String(CHAOS_TIMERS.kioskPaymentSilenceMs),
        LOG_LEVEL: 'info',
      },
    });
    cabs.push({
      cabId,
      qrData: qr.qr_data,
      kiosk,
      dataDir,
      relayProxy,
      pspProxy,
      setOffline(offline) {
        for (const p of [relayProxy, pspProxy]) offline ? p.cutOff() : p.restore();
      },
    });
  }
  await Promise.all(cabs.map((c) => c.kiosk.start()));

  const stack: ChaosStack = {
    dir,
    sandboxUrl: sandbox.url,
    relayUrl,
    relayDb,
    cabs,
    relayRestarts: 0,
    async crashRelay() {
      await relay.kill();
      stack.relayRestarts++;
      // Same DB and port: the QR hook URL at the PSP and the tablets' proxies stay valid.
      for (let attempt = 1; ; attempt++) {
        try {
          relay = await startService({ name: 'relay', entry: 'backend-relay/main.ts', env: relayEnv(relayPort), logFile: relayLog });
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    },
    async stop() {
      await Promise.all(cabs.map((c) => c.kiosk.stop()));
      await Promise.all(cabs.flatMap((c) => [c.relayProxy.close(), c.pspProxy.close()]));
      await relay.stop();
      await sandbox.stop();
    },
  };
  return stack;
}

export { http };
