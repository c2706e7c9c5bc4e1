/**
 * The whole payment path on loopback for the PSP flow tests: the sandbox (Hips, Vipps MobilePay
 * and HitPay in one process), a real relay configured for all three against it, cabs
 * provisioned as `npm start` does it (scripts/lib/demo-cabs.ts), and a real kiosk core per cab
 * whose relay connection runs through a TCP proxy that can be cut (the tablet goes offline while
 * the PSPs' webhooks still reach the relay).
 */
import path from 'node:path';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import { VIPPS_DEMO_CREDENTIALS } from '../../backend-relay/sandbox/vipps/settings.js';
import type { StoredEvent } from '../../backend-relay/store/relay-store.js';
import { createKioskCore, loadKioskConfig, kioskConfigSchema, type KioskConfig } from '../../electron/core/index.js';
import { loadDriverConfig } from '../../electron/core/driver-config.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { hashPin } from '../../electron/core/pin.js';
import type { KioskCommand, KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { CuttableProxy } from '../../scripts/chaos/proxy.js';
import { provisionDemoCabs, writeKioskConfig, type DemoCabSpec } from '../../scripts/lib/demo-cabs.js';
import { tempDir, waitForState } from '../core/helpers.js';
import { testSandbox } from '../sandbox/helpers.js';

export const PSP_STACK_PIN = '2468';
const ADMIN_TOKEN = 'psp-stack-admin-token-0123456789';
export const PSP_STACK_METRICS_TOKEN = 'psp-stack-metrics-token-0123456789';
const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Currency and locale per PSP, as the demo cabs have them (scripts/lib/demo-cabs.ts). */
const CAB_DEFAULTS: Record<PspName, Pick<DemoCabSpec, 'currency' | 'locale' | 'plate' | 'latitude' | 'longitude'>> = {
  hips: { currency: 'SEK', locale: 'sv', plate: 'ABC 123', latitude: 59.33, longitude: 18.07 },
  vipps: { currency: 'NOK', locale: 'nb', plate: 'EL 12345', latitude: 59.91, longitude: 10.75 },
  hitpay: { currency: 'SGD', locale: 'en', plate: 'SHA 1234 A', latitude: 1.29, longitude: 103.85 },
};

export interface SandboxAnswer {
  status: number;
  body: any;
}

export interface PspKiosk {
  cabId: string;
  psp: PspName;
  config: KioskConfig;
  /** The cab's static QR (Hips, Vipps); null for HitPay. */
  qrContent: string | null;
  core: KioskCore;
  /** Runs a command and throws with the core's reason if it is refused. */
  must(command: KioskCommand): Promise<void>;
  /** Resolves with the first snapshot (current or pushed) that satisfies the predicate. */
  waitFor(predicate: (s: KioskSnapshot) => boolean, what: string, timeoutMs?: number): Promise<KioskSnapshot>;
  /** Cuts (true) or restores (false) this kiosk's connection to the relay. */
  setOffline(cut: boolean): void;
  /** The events the relay holds for this cab, in seq order (what it delivered or will deliver). */
  relayEvents(type?: StoredEvent['type']): Promise<StoredEvent[]>;
}

export interface PspStack {
  sandbox: Sandbox;
  relay: RelayApp;
  relayUrl: string;
  /** A JSON call to the sandbox (passenger, ledger and fault endpoints); never throws on a status. */
  sandboxCall(method: string, route: string, json?: unknown): Promise<SandboxAnswer>;
  /** Provisions a new cab of that PSP at the relay (and the sandbox for Hips) and starts its kiosk core online. */
  addKiosk(psp: PspName, options?: { cabId?: string }): Promise<PspKiosk>;
  stop(): Promise<void>;
}

const putCabAnswer = z.object({ deviceToken: z.string().min(16) });

/** Relay settings a test may shorten (reconciliation asks the PSPs after `reconcileAfterMs`). */
export interface PspStackOptions {
  reconcileAfterMs?: number;
  reconcileEveryMs?: number;
}

export async function startPspStack(options: PspStackOptions = {}): Promise<PspStack> {
  const home = tempDir('cabpay-psp-stack-');
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => {});
  };
  try {
    const sandbox = await testSandbox({ dbPath: path.join(home, 'sandbox.db') });
    cleanups.push(() => sandbox.close());
    const sandboxCall = async (method: string, route: string, json?: unknown): Promise<SandboxAnswer> => {
      const res = await fetch(sandbox.url + route, {
        method,
        headers: json === undefined ? {} : { 'content-type': 'application/json' },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON: keep the text for the assertion message */
      }
      return { status: res.status, body };
    };
    // Vipps retries a failed hook after 1 s, 5 s, …; the tests want it sooner.
    const settings = await sandboxCall('POST', '/sandbox/vipps/settings', { webhookBackoffMs: [50, 100], webhookMaxAttempts: 5 });
    if (settings.status !== 200) throw new Error(`the sandbox refused the Vipps settings: ${settings.status} ${JSON.stringify(settings.body)}`);

    const C = VIPPS_DEMO_CREDENTIALS;
    const relay = await buildRelayApp(
      {
        port: 0,
        host: '127.0.0.1',
        dbPath: path.join(home, 'relay.db'),
        adminToken: ADMIN_TOKEN,
        metricsToken: PSP_STACK_METRICS_TOKEN,
        hipsPublicKeyPem: sandbox.publicKeyPem,
        cabStaleSeconds: 90,
        locale: 'en',
        ackTimeoutMs: 2_000,
        logLevel: 'silent',
        vipps: { baseUrl: sandbox.url, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn },
        hitpay: { baseUrl: sandbox.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
        hipsMerchant: { apiUrl: sandbox.url, merchantKey: sandbox.merchantKey },
        ...(options.reconcileAfterMs ? { reconcileAfterMs: options.reconcileAfterMs } : {}),
        ...(options.reconcileEveryMs ? { reconcileEveryMs: options.reconcileEveryMs } : {}),
      },
      { logger: quiet },
    );
    const relayUrl = await relay.listen().catch(async (err: unknown) => {
      await relay.close();
      throw err;
    });
    cleanups.push(() => relay.close());

    const addKiosk = async (psp: PspName, options: { cabId?: string } = {}): Promise<PspKiosk> => {
      const cabId = options.cabId ?? `${psp}-${uuidv7().slice(-12)}`;
      const spec: DemoCabSpec = {
        cabId,
        psp,
        // Hips: the sandbox QR; Vipps: the merchantQrId the relay registers; HitPay: none.
        qrCodes: psp === 'hitpay' ? [] : [`${cabId}-qr`],
        label: `Cab ${cabId}`,
        ...CAB_DEFAULTS[psp],
      };
      const [cab] = await provisionDemoCabs({ sandboxUrl: sandbox.url, relayUrl, adminToken: ADMIN_TOKEN }, [spec]);
      putCabAnswer.parse(cab); // a device token came back
      const proxy = await CuttableProxy.start(relayUrl);
      cleanups.push(() => proxy.close());
      const file = writeKioskConfig(home, cab!, { relayUrl: proxy.url, sandboxUrl: sandbox.url, driverPinHash: hashPin(PSP_STACK_PIN) });
      // The PSP calls the relay directly, not through the tablet's cuttable path.
      const config = kioskConfigSchema.parse({ ...loadKioskConfig(file), orderWebhookUrl: `${relayUrl}/webhooks/hips/orders` });
      const core = createKioskCore(config, {
        logger: quiet,
        driver: loadDriverConfig(file),
        // Short outbox waits: an offline tablet's queued request goes out soon after reconnecting.
        backoff: { baseMs: 50, capMs: 500 },
      });
      cleanups.push(() => core.stop());
      await core.start();
      const waitFor = (predicate: (s: KioskSnapshot) => boolean, what: string, timeoutMs = 20_000) => waitForState(core, predicate, timeoutMs, what);
      await waitFor((s) => s.connectivity.relay === 'online', `kiosk ${cabId} online at the relay`);
      return {
        cabId,
        psp,
        config,
        qrContent: cab!.qrContent,
        core,
        async must(command) {
          const result = await core.execute(command);
          if (!result.ok) throw new Error(`${command.name} refused on ${cabId}: ${result.error.code}: ${result.error.message}`);
        },
        waitFor,
        setOffline: (cut) => (cut ? proxy.cutOff() : proxy.restore()),
        async relayEvents(type) {
          const events = await relay.store.eventsAfter(cabId, 0, 10_000);
          return type === undefined ? events : events.filter((e) => e.type === type);
        },
      };
    };

    return { sandbox, relay, relayUrl, sandboxCall, addKiosk, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls until `probe` returns a truthy value; the error names what was awaited. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
