/**
 * What a payment QR sent by the relay (`payment.qr`) may ask the passenger to do. The passenger
 * pays whatever the QR says, so the tablet shows it only if it pays the PSP this cab is
 * configured for, exactly the ride's total. Two forms are understood:
 * - a URL (the PSP's checkout page, the sandbox's pay page): its host must be on the allow-list,
 *   over https (plain http only on a loopback host, for the demo and tests);
 * - an EMVCo merchant-presented QR (PayNow/SGQR, what HitPay returns): a valid checksum, a PayNow
 *   merchant account (its proxy on the allow-list when one is configured), a fixed amount equal
 *   to the ride's total, in the ride's currency.
 */
import { currencyDigits } from '../../protocol/money.js';
import type { PspName } from '../../protocol/relay-protocol.js';

export interface PaymentQrRule {
  /** Hostnames a URL QR may point at (lower case). */
  hosts: readonly string[];
  /** The EMVCo scheme an EMV QR must pay through (`SG.PAYNOW`), or null when the PSP has none. */
  emvScheme: string | null;
  /** PayNow proxies (UEN or phone) an EMV QR may pay; null: any proxy of that scheme. */
  emvProxies: readonly string[] | null;
}

/** Where each PSP's own payment QRs point; the kiosk config may replace the list. */
export const KNOWN_PAYMENT_QR_HOSTS: Record<PspName, readonly string[]> = {
  hips: [],
  vipps: [],
  hitpay: ['securecheckout.hit-pay.com', 'securecheckout.sandbox.hit-pay.com'],
};

const EMV_SCHEMES: Record<PspName, string | null> = { hips: null, vipps: null, hitpay: 'SG.PAYNOW' };

/** ISO 4217 numeric codes of the currencies an EMV QR of a known scheme can carry. */
const EMV_CURRENCY_NUMERIC: Record<string, string> = { SGD: '702' };

export interface PaymentQrSettings {
  psp: PspName;
  /** The PSP's API base URL from the kiosk config: its host is the PSP's (the sandbox in the demo). */
  pspUrl?: string;
  paymentQr?: { hosts?: string[] | undefined; paynowProxies?: string[] | undefined } | undefined;
}

/** The rule for this cab: the configured hosts, or the PSP's known hosts plus pspUrl's host. */
export function paymentQrRule(settings: PaymentQrSettings): PaymentQrRule {
  const configured = settings.paymentQr?.hosts;
  const pspHost = settings.pspUrl ? hostnameOf(settings.pspUrl) : null;
  const hosts = configured ?? [...KNOWN_PAYMENT_QR_HOSTS[settings.psp], ...(pspHost ? [pspHost] : [])];
  return {
    hosts: [...new Set(hosts.map((h) => h.toLowerCase()))],
    emvScheme: EMV_SCHEMES[settings.psp],
    emvProxies: settings.paymentQr?.paynowProxies ?? null,
  };
}

/** Why the QR must not be shown for a ride whose total is `amount` in `currency`; null if it may. */
export function paymentQrProblem(qrData: string, expected: { amount: number; currency: string }, rule: PaymentQrRule): string | null {
  if (qrData.startsWith('000201')) return emvProblem(qrData, expected, rule);
  let url: URL;
  try {
    url = new URL(qrData);
  } catch {
    return 'its content is neither a URL nor an EMVCo payment code';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) return `it points at ${url.protocol}// (only https is allowed)`;
  if (url.username || url.password) return 'its URL carries a user name or password';
  const host = url.hostname.toLowerCase();
  if (!rule.hosts.includes(host)) return `it points at ${host}, which is not this cab's payment provider (allowed: ${rule.hosts.join(', ') || 'none'})`;
  return null;
}

function hostnameOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

// ---- EMVCo merchant-presented QR ----------------------------------------------------------

type Tlv = Map<string, string>;

/** Two-digit id, two-digit length, value; null when the text does not split cleanly. */
function parseTlv(text: string): Tlv | null {
  const fields: Tlv = new Map();
  let at = 0;
  while (at < text.length) {
    const id = text.slice(at, at + 2);
    const length = Number(text.slice(at + 2, at + 4));
    if (!/^\d\d$/.test(id) || !/^\d\d$/.test(text.slice(at + 2, at + 4)) || at + 4 + length > text.length) return null;
    if (fields.has(id)) return null;
    fields.set(id, text.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return fields;
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as EMVCo's tag 63 carries it. */
function crc16(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

function emvProblem(qrData: string, expected: { amount: number; currency: string }, rule: PaymentQrRule): string | null {
  if (!rule.emvScheme) return "this cab's payment provider does not use EMVCo payment codes";
  const fields = parseTlv(qrData);
  if (!fields) return 'its EMVCo payment code is malformed';
  const crc = fields.get('63');
  if (!crc || !qrData.endsWith(`6304${crc}`) || crc.toUpperCase() !== crc16(qrData.slice(0, -4))) return 'its EMVCo payment code has a wrong checksum';
  // Merchant account templates are ids 26 to 51; ours names the scheme in its sub-field 00.
  const account = [...fields]
    .filter(([id]) => Number(id) >= 26 && Number(id) <= 51)
    .map(([, value]) => parseTlv(value))
    .find((sub) => sub?.get('00')?.toUpperCase() === rule.emvScheme);
  if (!account) return `its EMVCo payment code does not pay through ${rule.emvScheme}`;
  const proxy = account.get('02') ?? '';
  if (rule.emvProxies && !rule.emvProxies.includes(proxy)) return `it pays ${rule.emvScheme} proxy ${proxy}, which is not this fleet's`;
  if (account.get('03') === '1') return 'its amount can be edited by the payer';
  const numeric = EMV_CURRENCY_NUMERIC[expected.currency];
  if (!numeric || fields.get('53') !== numeric) return `its currency (${fields.get('53') ?? 'none'}) is not the ride's ${expected.currency}`;
  const amount = fields.get('54');
  if (!amount) return 'it has no fixed amount';
  const minor = minorOf(amount, currencyDigits(expected.currency));
  if (minor !== expected.amount) return `it asks for ${amount}, not the ride's total`;
  return null;
}

/** "22", "22.5", "22.50" → minor units; null for anything else. */
function minorOf(text: string, digits: number): number | null {
  const match = /^(\d{1,10})(?:\.(\d+))?$/.exec(text);
  if (!match || (match[2] ?? '').length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? '').padEnd(digits, '0') || '0');
}
