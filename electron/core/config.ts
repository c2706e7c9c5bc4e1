/** The kiosk's configuration file (KIOSK_CONFIG or the app's userData; docs/contracts.md). */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { currencyCode } from '../../protocol/money.js';
import { localeName } from '../../protocol/kiosk-api.js';
import { cabId, pspName } from '../../protocol/relay-protocol.js';
import { PUBLIC_KEY_PIN, relayLinkSecurity, relayUrlProblem } from './relay-link.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export const kioskConfigSchema = z
  .object({
    relayUrl: z.url().describe('the relay base URL: https:// outside loopback, e.g. https://relay.fleet.example'),
    /** Development only: plain http:// to a relay on a private network (the status line says so). */
    allowInsecureRelay: z.boolean().default(false),
    /** The fleet's own CA (PEM file): the relay's certificate must chain to it, public CAs are not trusted. */
    relayCaFile: z.string().min(1).optional(),
    /** Public-key pins (`sha256/<base64>`): the relay's certificate chain must contain one of these keys. */
    relayPublicKeyPins: z.array(z.string().regex(PUBLIC_KEY_PIN, 'must be sha256/<base64 SHA-256 of the SubjectPublicKeyInfo>')).min(1).optional(),
    pspUrl: z.url().describe('the PSP API base URL (Hips or the sandbox)'),
    cabId,
    deviceToken: z.string().min(16, 'the device token printed by `npm run fleet -- add`'),
    locale: localeName.default('sv'),
    currency: currencyCode.default('SEK'),
    psp: pspName.default('hips'),
    plate: z.string().min(1).max(20).default('—'),
    label: z.string().min(1).max(40).optional(),
    /** What the cab's static QR encodes; null for PSPs with dynamic QRs only. */
    qrContent: z.string().min(1).max(4000).nullable().default(null),
    /** The relay's order hook as the PSP must call it; defaults to relayUrl + /webhooks/hips/orders. */
    orderWebhookUrl: z.url().optional(),
    /** Where the kiosk keeps its SQLite database; Electron passes userData. */
    dataDir: z.string().min(1).optional(),
    appVersion: z.string().min(1).default('0.1.0'),
    /** What a payment QR from the relay may point at (electron/core/README.md, "What the tablet checks"). */
    paymentQr: z
      .strictObject({
        /** Hosts a URL QR may point at; default: the PSP's known hosts and the host of pspUrl. */
        hosts: z
          .array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name such as securecheckout.hit-pay.com'))
          .min(1)
          .optional(),
        /** PayNow proxies (UEN or phone) an EMVCo QR may pay; default: any PayNow proxy. */
        paynowProxies: z.array(z.string().min(1).max(40)).min(1).optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const problem = relayUrlProblem(config);
    if (problem) ctx.addIssue({ code: 'custom', path: ['relayUrl'], message: problem });
  });
export type KioskConfig = z.infer<typeof kioskConfigSchema>;

/** Reads and validates a config file, with an error that names the file and each bad field. */
export function loadKioskConfig(path: string): KioskConfig {
  return parseKioskConfig(readConfigJson(path), path);
}

export function readConfigJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the kiosk config ${path}: ${(err as Error).message}. Create it as JSON with relayUrl, pspUrl, cabId, deviceToken.`, {
      cause: err,
    });
  }
}

/** Validates a parsed config (`source` names it in errors). */
export function parseKioskConfig(raw: unknown, source: string): KioskConfig {
  const parsed = kioskConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    throw new Error(`The kiosk config ${source} is invalid: ${problems}`);
  }
  // The CA file and pins are checked now, so a bad one stops the start with this message.
  const link = relayLinkSecurity(parsed.data);
  if (!link.ok) throw new Error(`The kiosk config ${source} is invalid: ${link.error.message}`);
  return parsed.data;
}
