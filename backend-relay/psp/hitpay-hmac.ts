/**
 * HitPay webhook signatures, pure. Two styles exist:
 * - legacy (Webhook v1, form-encoded, what a payment request's `webhook` receives): every field
 *   but `hmac`, sorted by key, concatenated key+value without separators, HMAC-SHA256 with the
 *   salt, lowercase hex in the `hmac` field;
 * - event webhooks (v2, JSON): `Hitpay-Signature` = HMAC-SHA256(salt, raw body bytes), hex.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The string the legacy `hmac` covers: sorted keys, `hmac` left out, no separators. */
export function legacySignedString(fields: Record<string, string>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'hmac')
    .sort()
    .map((k) => `${k}${fields[k]}`)
    .join('');
}

export function legacySignature(fields: Record<string, string>, salt: string): string {
  return createHmac('sha256', salt).update(legacySignedString(fields), 'utf8').digest('hex');
}

export function bodySignature(rawBody: Buffer | string, salt: string): string {
  return createHmac('sha256', salt).update(rawBody).digest('hex');
}

/** True only when `fields.hmac` is the salt's signature of the other fields. */
export function verifyLegacySignature(fields: Record<string, string>, salt: string): boolean {
  const given = fields.hmac;
  return typeof given === 'string' && hexEqual(given, legacySignature(fields, salt));
}

/** True only when `header` is the salt's signature of exactly these bytes. */
export function verifyBodySignature(rawBody: Buffer, header: string | undefined, salt: string): boolean {
  return typeof header === 'string' && hexEqual(header.trim(), bodySignature(rawBody, salt));
}

/** Constant time over the 32 bytes; anything that is not 64 hex digits is a mismatch. */
function hexEqual(given: string, expected: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const a = Buffer.from(given.toLowerCase(), 'hex');
  const b = Buffer.from(expected, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
