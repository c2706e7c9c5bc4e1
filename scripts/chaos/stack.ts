/**
 * The chaos run's processes on loopback: the sandbox (Hips, Vipps and HitPay in one process), the
 * relay configured for all three PSPs (killable and restartable on the same DB and port), and per
 * cab a kiosk core process behind two cuttable proxies (relay, PSP). Cabs are dealt to the PSPs
 * round-robin, each with its PSP's currency.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import { VIPPS_DEMO_CREDENTIALS } from '../../backend-relay/sandbox/vipps/settings.js';
import { hashPin } from '../../electron/core/pin.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { freePort } from '../lib/free-port.js';
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
  /** Vipps: a pushed payment nobody approves expires after this (the sandbox default is 5 min). */
  vippsPaymentExpirySeconds: 15,
  /** The relay asks a PSP about a payment still without an outcome this long after it was made, and looks every second. */
  relayReconcileAfterS: 3,
  relayReconcileEveryS: 1,
  /** How long the relay waits for a PSP's answer: longer than the create hangs above, shorter than a late answer. */
  relayPspTimeoutMs: 5_000,
  /** The late-answer fault: a refund or capture is booked, then answered after this. */
  sandboxLateAnswerMs: 7_000,
} as const;

/** The same hook retries for all three PSPs: about 23 s in all, longer than a relay restart (docs/chaos.md). */
export const CHAOS_WEBHOOK_BACKOFF_MS = [500, 1_500, 3_000, 6_000, 12_000];
export const CHAOS_WEBHOOK_ATTEMPT_MS = 3_000;

/** The driver-settings PIN of every chaos cab (refunds need the settings unlocked). */
export const CHAOS_PIN = '2468';

export const PSP_CURRENCY: Record<PspName, string> = { hips: 'SEK', vipps: 'NOK', hitpay: 'SGD' };

export interface Cab {
  cabId: string;
  psp: PspName;
  currency: string;
  /** What the cab's static QR encodes (Hips qr_data, Vipps qrContent); '' for HitPay (a QR per payment). */
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

  // Vipps keeps its clocks in memory: hook retries as long as Hips' and HitPay's, quick expiry.
  await http('POST', `${sandbox.url}/sandbox/vipps/settings`, {
    webhookAttemptTimeoutMs: CHAOS_WEBHOOK_ATTEMPT_MS,
    webhookBackoffMs: CHAOS_WEBHOOK_BACKOFF_MS,
    webhookMaxAttempts: CHAOS_WEBHOOK_BACKOFF_MS.length + 1,
    paymentExpirySeconds: CHAOS_TIMERS.vippsPaymentExpirySeconds,
  });

  // The lost payment: every webhook of this share of payments is dropped, at all three PSPs.
  for (const path of ['/sandbox/faults', '/sandbox/vipps/faults', '/sandbox/hitpay/faults'])
    await http('POST', `${sandbox.url}${path}`, { dropPaymentWebhooksPercent: args.lostHooks });

  const adminToken = randomBytes(24).toString('hex');
  const relayDb = join(dir, 'relay.db');
  const relayEnv = (port: number) => ({
    RELAY_PORT: String(port),
    RELAY_DB: relayDb,
    RELAY_ADMIN_TOKEN: adminToken,
    HIPS_PUBLIC_KEY_FILE: pemFile,
    RELAY_ACK_TIMEOUT_MS: String(CHAOS_TIMERS.relayAckTimeoutMs),
    RELAY_RECONCILE_AFTER_S: String(CHAOS_TIMERS.relayReconcileAfterS),
    RELAY_RECONCILE_EVERY_S: String(CHAOS_TIMERS.relayReconcileEveryS),
    RELAY_PSP_TIMEOUT_MS: String(CHAOS_TIMERS.relayPspTimeoutMs),
    RELAY_LOCALE: 'en',
    RELAY_LOG_LEVEL: 'info',
    // Vipps signs its hooks over the relay's host, HitPay is told where to send them.
    RELAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
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
    HIPS_QR_ORDER_TIMEOUT_S: String(args.orderTimeout),
    HIPS_QR_PAYMENT_TIMEOUT_S: String(args.paymentTimeout),
  });
  const relayLog = join(dir, 'logs', 'relay.log');
  // The relay must know its public URL before it listens, so the port is picked here.
  let relay: Service | null = null;
  let relayPort = 0;
  for (let attempt = 1; !relay; attempt++) {
    relayPort = await freePort();
    try {
      relay = await startService({ name: 'relay', entry: 'backend-relay/main.ts', env: relayEnv(relayPort), logFile: relayLog });
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
  const relayUrl = relay!.url;
  const driverPinHash = hashPin(CHAOS_PIN);

  const cabs: Cab[] = [];
  for (let i = 1; i <= args.cabs; i++) {
    const cabId = `CHAOS-${i}`;
    const psp = args.psps[(i - 1) % args.psps.length]!;
    const currency = PSP_CURRENCY[psp];
    const putCab = (qrCodes: string[]) =>
      http<{ deviceToken: string; qrContent?: string | null }>(
        'PUT',
        `${relayUrl}/admin/cabs/${cabId}`,
        { psp, qrCodes, plate: `CH ${i}`, label: `Chaos ${i}`, currency: PSP_CURRENCY[psp] },
        `Bearer ${adminToken}`,
      );
    let deviceToken: string;
    let qrData = '';
    if (psp !== 'hitpay') {
      // The relay sets up the cab's QR at the PSP (Hips: connected to it with the run's timeouts;
      // Vipps: a merchant-callback QR) and answers its content.
      const answer = await putCab([psp === 'hips' ? `CHAOSQR${i}` : `chaos-vipps-${i}`]);
      if (!answer.qrContent) throw new Error(`the relay registered ${cabId} for ${psp} but returned no qrContent: is its merchant API group configured?`);
      deviceToken = answer.deviceToken;
      qrData = answer.qrContent;
    } else {
      ({ deviceToken } = await putCab([]));
    }
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
          currency,
          psp,
          plate: `CH ${i}`,
          qrContent: qrData || null,
          dataDir,
          driverPinHash,
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
      psp,
      currency,
      qrData,
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
      await relay!.kill();
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
      await relay!.stop();
      await sandbox.stop();
    },
  };
  return stack;
}

export { http };
