/**
 * The demo's three cabs, one per PSP, as `npm start` registers them: at the relay (PUT
 * /admin/cabs, idempotent; the relay sets up the Hips and Vipps QRs at the sandbox), and as one
 * kiosk config file each. All three PSPs are the one sandbox process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Locale } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

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
  {
    cabId: 'demo-1',
    psp: 'hips',
    qrCodes: ['CABPAY-DEMO-1'],
    plate: 'ABC 123',
    label: 'Cab 1',
    currency: 'SEK',
    locale: 'sv',
    latitude: 59.33,
    longitude: 18.07,
  },
  {
    cabId: 'demo-vipps',
    psp: 'vipps',
    qrCodes: ['cabpay-demo-vipps'],
    plate: 'EL 12345',
    label: 'Cab 2',
    currency: 'NOK',
    locale: 'nb',
    latitude: 59.91,
    longitude: 10.75,
  },
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
  sandboxUrl: string;
  relayUrl: string;
  adminToken: string;
}

/** PUT /admin/cabs answers: a new device token, and the PSP's QR content when the PSP made one. */
const putCabAnswer = z.object({
  cabId: z.string(),
  deviceToken: z.string().min(16),
  qrContent: z.string().min(1).nullable().optional(),
});

/**
 * Registers every cab (all at once: they do not depend on each other). A cab that cannot be set
 * up is an error naming the cab, what failed and what to do; the others' errors come with it.
 */
export async function provisionDemoCabs(args: ProvisionArgs, cabs: readonly DemoCabSpec[] = DEMO_CABS): Promise<ProvisionedDemoCab[]> {
  const results = await Promise.allSettled(cabs.map((spec) => provisionOne(spec, args)));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`cab ${cabs[i]!.cabId} (${cabs[i]!.psp}): ${(r.reason as Error).message}. ${FIX[cabs[i]!.psp]}`] : [],
  );
  if (failures.length > 0) throw new Error(`could not set up the demo cabs:\n  ${failures.join('\n  ')}`);
  return results.map((r) => (r as PromiseFulfilledResult<ProvisionedDemoCab>).value);
}

const FIX: Record<PspName, string> = {
  hips: 'The relay connects its QR at the sandbox with the HIPS_API_URL and HIPS_MERCHANT_KEY npm start passes; see logs/relay.log and logs/sandbox.log under CABPAY_HOME, then run npm start again',
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
    { psp: spec.psp, qrCodes: spec.qrCodes, plate: spec.plate, label: spec.label, currency: spec.currency },
  );
  const parsed = putCabAnswer.safeParse(answer);
  if (!parsed.success) throw new Error(`PUT /admin/cabs/${spec.cabId} answered unexpectedly (${zodIssuesText(parsed.error)})`);
  return parsed.data;
}

/** Hips: the relay connects the cab's QR at the sandbox (PUT /admin/cabs) and answers its content. */
async function provisionHipsCab(spec: DemoCabSpec, args: ProvisionArgs): Promise<ProvisionedDemoCab> {
  if (!spec.qrCodes[0]) throw new Error('a Hips cab needs a QR code');
  const cab = await putCab(spec, args);
  if (!cab.qrContent) throw new Error('the relay registered the cab but returned no qrContent: are HIPS_API_URL and HIPS_MERCHANT_KEY set on it?');
  const passengerUrl = `${args.sandboxUrl}/pay?qr=${encodeURIComponent(cab.qrContent)}`;
  return {
    spec,
    deviceToken: cab.deviceToken,
    qrContent: cab.qrContent,
    passengerUrl,
    passengerHelp: `open the phone page ${passengerUrl}`,
  };
}

/** Writes the cab's kiosk config (KIOSK_CONFIG) and returns its path. */
export function writeKioskConfig(home: string, cab: ProvisionedDemoCab, args: { relayUrl: string; sandboxUrl: string; driverPinHash: string }): string {
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
    throw new Error(`${method} ${url} failed (${(err as Error).message})`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}
