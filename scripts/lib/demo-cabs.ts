/**
 * The demo's three cabs, one per PSP, as `npm start` registers them: at the relay (PUT
 * /admin/cabs, idempotent), at the sandbox where the cab's QR lives there (Hips), and as one kiosk
 * config file each. All three PSPs are the one sandbox process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Locale } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';

export interface DemoCabSpec {
  cabId: string;
  psp: PspName;
  /** Hips: the sandbox QR code; Vipps: the merchantQrId; HitPay: none (a QR per payment). */
  qrCodes: readonly string[];
  plate: string;
  label: string;
  currency: string;
  locale: Locale;
  /** For the kiosk's sunrise/sunset theme. */
  latitude: number;
  longitude: number;
}

/** demo-1 stays first and unchanged: the end-to-end tests play rides on it. */
export const DEMO_CABS: readonly DemoCabSpec[] = [
  { cabId: 'demo-1', psp: 'hips', qrCodes: ['CABPAY-DEMO-1'], plate: 'ABC 123', label: 'Cab 1', currency: 'SEK', locale: 'sv', latitude: 59.33, longitude: 18.07 },
  { cabId: 'demo-vipps', psp: 'vipps', qrCodes: ['cabpay-demo-vipps'], plate: 'EL 12345', label: 'Cab 2', currency: 'NOK', locale: 'nb', latitude: 59.91, longitude: 10.75 },
  { cabId: 'demo-hitpay', psp: 'hitpay', qrCodes: [], plate: 'SHA 1234 A', label: 'Cab 3', currency: 'SGD', locale: 'en', latitude: 1.29, longitude: 103.85 },
];

export interface ProvisionedDemoCab {
  spec: DemoCabSpec;
  deviceToken: string;
  /** What the cab's static QR encodes; null for HitPay (the tablet shows a QR per payment). */
  qrContent: string | null;
  /** The page a passenger opens instead of scanning; null where there is no static QR. */
  passengerUrl: string | null;
  /** One line for the console: what the passenger does with this cab. */
  passengerHelp: string;
}

export interface ProvisionArgs {
  home: string;
  sandboxUrl: string;
  relayUrl: string;
  /** The sandbox's Hips merchant key. */
  merchantKey: string;
  adminToken: string;
}

/** PUT /admin/cabs answers: a new device token, and the PSP's QR content when the PSP made one. */
const putCabAnswer = z.object({
  cabId: z.string(),
  deviceToken: z.string().min(16),
  qrContent: z.string().min(1).nullable().optional(),
});

const hipsQr = z.object({ code_token: z.union([z.string(), z.number()]), qr_data: z.string().min(1) });

/**
 * Registers every cab (all at once: they do not depend on each other). A cab that cannot be set
 * up is an error naming the cab, what failed and what to do; the others' errors come with it.
 */
export async function provisionDemoCabs(args: ProvisionArgs, cabs: readonly DemoCabSpec[] = DEMO_CABS): Promise<ProvisionedDemoCab[]> {
  const results = await Promise.allSettled(cabs.map((spec) => provisionOne(spec, args)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`cab ${cabs[i]!.cabId} (${cabs[i]!.psp}): ${(r.reason as Error).message}. ${FIX[cabs[i]!.psp]}`] : []));
  if (failures.length > 0) throw new Error(`could not set up the demo cabs:\n  ${failures.join('\n  ')}`);
  return results.map((r) => (r as PromiseFulfilledResult<ProvisionedDemoCab>).value);
}

const FIX: Record<PspName, string> = {
  hips: 'The sandbox holds its QR; see logs/sandbox.log and logs/relay.log under CABPAY_HOME, then run npm start again',
  vipps: 'The relay creates its merchant-callback QR at the sandbox with the VIPPS_* settings npm start passes; see logs/relay.log, then run npm start again',
  hitpay: 'See logs/relay.log under CABPAY_HOME, then run npm start again',
};

async function provisionOne(spec: DemoCabSpec, args: ProvisionArgs): Promise<ProvisionedDemoCab> {
  if (spec.psp === 'hips') return provisionHipsCab(spec, args);
  const cab = await putCab(spec, args);
  if (spec.psp === 'vipps') {
    if (!cab.qrContent) throw new Error('the relay registered the cab but returned no qrContent: is its Vipps group (VIPPS_*) configured?');
    const passengerUrl = `${args.sandboxUrl}/vipps/app?qr=${encodeURIComponent(cab.qrContent)}`;
    return {
      spec,
      deviceToken: cab.deviceToken,
      qrContent: cab.qrContent,
      passengerUrl,
      passengerHelp: `open the Vipps MobilePay app page ${args.sandboxUrl}/vipps/app and scan ${cab.qrContent} (or open ${passengerUrl})`,
    };
  }
  return {
    spec,
    deviceToken: cab.deviceToken,
    qrContent: null,
    passengerUrl: null,
    passengerHelp: `the QR appears on the tablet at the end of the ride; open it with ${args.sandboxUrl}/hitpay/paynow/<id>`,
  };
}

async function putCab(spec: DemoCabSpec, args: ProvisionArgs): Promise<z.infer<typeof putCabAnswer>> {
  const answer = await httpJson(
    `${args.relayUrl}/admin/cabs/${spec.cabId}`,
    'PUT',
    { Authorization: `Bearer ${args.adminToken}`, 'Content-Type': 'application/json' },
    { psp: spec.psp, qrCodes: spec.qrCodes, plate: spec.plate, label: spec.label },
  );
  const parsed = putCabAnswer.safeParse(answer);
  if (!parsed.success) throw new Error(`PUT /admin/cabs/${spec.cabId} answered unexpectedly (${z.prettifyError(parsed.error)})`);
  return parsed.data;
}

/** Hips: the QR lives at the sandbox (kept across restarts by its code token) and calls the relay. */
async function provisionHipsCab(spec: DemoCabSpec, args: ProvisionArgs): Promise<ProvisionedDemoCab> {
  const qrCode = spec.qrCodes[0];
  if (!qrCode) throw new Error('a Hips cab needs a QR code');
  // demo-1 keeps its historical state file name, so existing homes keep their QR.
  const stateFile = join(args.home, spec.cabId === 'demo-1' ? 'demo-cab.json' : `demo-cab-${spec.cabId}.json`);
  const merchant = { Authorization: args.merchantKey, 'Content-Type': 'application/json' };
  const saved = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { codeToken?: string }) : {};

  let qr: z.infer<typeof hipsQr> | null = null;
  if (saved.codeToken !== undefined) {
    const res = await fetch(`${args.sandboxUrl}/v2/qrs/${saved.codeToken}`, { headers: merchant });
    if (res.ok) qr = hipsQr.parse(await res.json());
  }
  qr ??= hipsQr.parse(await httpJson(`${args.sandboxUrl}/v2/qrs`, 'POST', merchant, { qr_code: qrCode, allow_tip: true }));
  const codeToken = String(qr.code_token);
  writeFileSync(stateFile, JSON.stringify({ codeToken }));

  const connected = hipsQr.pick({ qr_data: true }).parse(
    await httpJson(`${args.sandboxUrl}/v2/qrs/${codeToken}`, 'PATCH', merchant, {
      qr_start_webhook_url: `${args.relayUrl}/webhooks/hips/qr`,
      allow_tip: true,
      order_timeout_seconds: 3600,
      payment_timeout_seconds: 900,
      asynchronous: false,
      status: 'online',
      // The plate travels in the QR's own data, so the passenger's phone page can show it.
      dynamic: { plate: spec.plate },
    }),
  );
  const cab = await putCab(spec, args);
  const passengerUrl = `${args.sandboxUrl}/pay?qr=${encodeURIComponent(connected.qr_data)}`;
  return {
    spec,
    deviceToken: cab.deviceToken,
    qrContent: connected.qr_data,
    passengerUrl,
    passengerHelp: `open the phone page ${passengerUrl}`,
  };
}

/** Writes the cab's kiosk config (KIOSK_CONFIG) and returns its path. */
export function writeKioskConfig(
  home: string,
  cab: ProvisionedDemoCab,
  args: { relayUrl: string; sandboxUrl: string; driverPinHash: string },
): string {
  const { spec } = cab;
  const file = join(home, `kiosk-${spec.cabId}.json`);
  const config = {
    relayUrl: args.relayUrl,
    // Hips: the tablet creates orders there; relay-made PSPs ignore it, but the config requires it.
    pspUrl: args.sandboxUrl,
    cabId: spec.cabId,
    deviceToken: cab.deviceToken,
    locale: spec.locale,
    currency: spec.currency,
    psp: spec.psp,
    plate: spec.plate,
    label: spec.label,
    qrContent: cab.qrContent,
    dataDir: join(home, `kiosk-${spec.cabId}`),
    // Read by electron/core/driver-config.ts: the settings PIN, and the position for sunrise/sunset.
    driverPinHash: args.driverPinHash,
    latitude: spec.latitude,
    longitude: spec.longitude,
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

export async function httpJson(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  } catch (err) {
    throw new Error(`${method} ${url} failed (${(err as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}
