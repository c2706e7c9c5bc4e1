/**
 * The whole cab on ephemeral ports for the UI tests and the screenshots: the PSP sandbox, the
 * relay (with fleet details for receipts), a demo cab whose QR carries its plate, the kiosk core
 * under the browser preview (with a driver PIN and a position), and a TCP proxy between the
 * kiosk and the relay that can be cut to make the cab go offline for real.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPin } from '../../electron/core/pin.js';
import type { Locale } from '../../protocol/kiosk-api.js';
import { CuttableProxy } from '../chaos/proxy.js';
import { startService, type Service } from './service.js';

export const EXPERIENCE_CAB = { cabId: 'cab-12', qrCode: 'CABPAY-CAB-12', plate: 'ABC 123', label: 'Cab 12' } as const;
export const EXPERIENCE_FLEET = { name: 'Demo Taxi Stockholm AB', orgNumber: '559999-0001' } as const;
export const EXPERIENCE_PIN = '2468';

export interface ExperienceStack {
  kioskUrl: string;
  sandboxUrl: string;
  relayUrl: string;
  qrData: string;
  home: string;
  /** Cuts (true) or restores (false) the kiosk's connection to the relay. */
  setOffline(cut: boolean): void;
  /** Rotates the cab's device token at the relay: the kiosk is refused from then on. */
  revokeDeviceToken(): Promise<void>;
  /** The passenger's phone, through the sandbox's payer API. */
  phone: {
    scan(): Promise<string>;
    pay(sessionId: string, tipAmount: number): Promise<void>;
    cancel(sessionId: string): Promise<void>;
  };
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

export async function startExperienceStack(options: { locale?: Locale } = {}): Promise<ExperienceStack> {
  const home = mkdtempSync(join(tmpdir(), 'cabpay-experience-'));
  const services: Service[] = [];
  const merchantKey = `sk_sandbox_${randomBytes(18).toString('base64url')}`;
  const adminToken = randomBytes(24).toString('base64url');
  let proxy: CuttableProxy | null = null;
  const stop = async () => {
    await proxy?.close();
    for (const s of [...services].reverse()) await s.stop();
  };
  try {
    const sandbox = await startService({
      name: 'sandbox',
      entry: 'backend-relay/sandbox/main.ts',
      env: { SANDBOX_PORT: '0', SANDBOX_DB: join(home, 'sandbox.db'), SANDBOX_MERCHANT_KEY: merchantKey, SANDBOX_MERCHANT_NAME: EXPERIENCE_FLEET.name },
      logFile: join(home, 'sandbox.log'),
    });
    services.push(sandbox);
    const pemFile = join(home, 'sandbox.pem');
    writeFileSync(pemFile, await (await fetch(`${sandbox.url}/sandbox/public-key.pem`)).text());
    const relay = await startService({
      name: 'relay',
      entry: 'backend-relay/main.ts',
      env: {
        RELAY_PORT: '0',
        RELAY_DB: join(home, 'relay.db'),
        RELAY_ADMIN_TOKEN: adminToken,
        HIPS_PUBLIC_KEY_FILE: pemFile,
        RELAY_FLEET_NAME: EXPERIENCE_FLEET.name,
        RELAY_FLEET_ORG_NUMBER: EXPERIENCE_FLEET.orgNumber,
        RELAY_ACK_TIMEOUT_MS: '2000',
      },
      logFile: join(home, 'relay.log'),
    });
    services.push(relay);

    const qr = await http<{ code_token: string }>('POST', `${sandbox.url}/v2/qrs`, { qr_code: EXPERIENCE_CAB.qrCode, allow_tip: true }, merchantKey);
    const connected = await http<{ qr_data: string }>(
      'PATCH',
      `${sandbox.url}/v2/qrs/${qr.code_token}`,
      {
        qr_start_webhook_url: `${relay.url}/webhooks/hips/qr`,
        allow_tip: true,
        order_timeout_seconds: 3600,
        payment_timeout_seconds: 900,
        status: 'online',
        dynamic: { plate: EXPERIENCE_CAB.plate },
      },
      merchantKey,
    );
    const cabRoute = `${relay.url}/admin/cabs/${EXPERIENCE_CAB.cabId}`;
    const { deviceToken } = await http<{ deviceToken: string }>(
      'PUT',
      cabRoute,
      {
        psp: 'hips',
        qrCodes: [EXPERIENCE_CAB.qrCode],
        plate: EXPERIENCE_CAB.plate,
        label: EXPERIENCE_CAB.label,
      },
      `Bearer ${adminToken}`,
    );

    proxy = await CuttableProxy.start(relay.url);
    const configFile = join(home, 'kiosk.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        relayUrl: proxy.url,
        pspUrl: sandbox.url,
        orderWebhookUrl: `${relay.url}/webhooks/hips/orders`,
        cabId: EXPERIENCE_CAB.cabId,
        deviceToken,
        locale: options.locale ?? 'en',
        currency: 'SEK',
        plate: EXPERIENCE_CAB.plate,
        label: EXPERIENCE_CAB.label,
        qrContent: connected.qr_data,
        dataDir: join(home, 'kiosk'),
        driverPinHash: hashPin(EXPERIENCE_PIN),
        latitude: 59.33,
        longitude: 18.07,
        receiptBaseUrl: relay.url,
      }),
    );
    const preview = await startService({
      name: 'preview',
      entry: 'electron/preview/main.ts',
      env: { KIOSK_CONFIG: configFile, PREVIEW_PORT: '0' },
      logFile: join(home, 'preview.log'),
    });
    services.push(preview);

    const cutProxy = proxy;
    return {
      kioskUrl: preview.url,
      sandboxUrl: sandbox.url,
      relayUrl: relay.url,
      qrData: connected.qr_data,
      home,
      setOffline: (cut) => (cut ? cutProxy.cutOff() : cutProxy.restore()),
      async revokeDeviceToken() {
        await http('POST', `${cabRoute}/rotate-token`, undefined, `Bearer ${adminToken}`);
      },
      phone: {
        async scan() {
          return (await http<{ session_id: string }>('POST', `${sandbox.url}/sandbox/scan`, { qr_data: connected.qr_data })).session_id;
        },
        async pay(sessionId, tipAmount) {
          await http('POST', `${sandbox.url}/sandbox/sessions/${sessionId}/pay`, { tip_amount: tipAmount });
        },
        async cancel(sessionId) {
          await http('POST', `${sandbox.url}/sandbox/sessions/${sessionId}/cancel`, {});
        },
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
