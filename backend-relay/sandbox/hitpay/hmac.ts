/**
 * The two HitPay webhook signatures, as pure functions (the relay writes its own verifier; tests
 * cross-check against these).
 * - Legacy (form-encoded "webhook v1"): drop `hmac`, sort the fields by key, concatenate
 *   key+value with no separators, HMAC-SHA256 keyed by the salt, lowercase hex.
 * - Event webhooks (JSON): `Hitpay-Signature` = HMAC-SHA256 of the raw body, keyed by the salt, hex.
 */
import { createHmac } from 'node:crypto';

/** The string the legacy HMAC is computed over. Empty values stay in ("phone" + ""). */
export function legacySigningString(fields: Record<string, string>): string {
  return Object.keys(fields)
    .filter((key) => key !== 'hmac')
    .sort()
    .map((key) => `${key}${fields[key] ?? ''}`)
    .join('');
}

export function legacyHitpayHmac(fields: Record<string, string>, salt: string): string {
  return createHmac('sha256', salt).update(legacySigningString(fields), 'utf8').digest('hex');
}

export function jsonHitpaySignature(rawBody: string | Buffer, salt: string): string {
  return createHmac('sha256', salt).update(rawBody).digest('hex');
}
