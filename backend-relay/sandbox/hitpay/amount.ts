/**
 * HitPay speaks major units as decimal strings ("10.50"); the sandbox keeps integer minor units.
 * Conversions are pure string arithmetic, so no float ever touches an amount.
 */
import { currencyDigits } from '../../../protocol/money.js';

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export type MajorParse = { ok: true; minor: number } | { ok: false; reason: 'not_a_number' | 'too_many_decimals' | 'too_large' };

/** The minor-unit exponent of a currency (SGD 2, JPY 0); case-insensitive. */
export function digitsOf(currency: string): number {
  return currencyDigits(currency.toUpperCase());
}

/**
 * "10.5" → 1050 for 2 digits. Accepts a JSON number too (its shortest decimal text is exact for
 * the values a client can mean). Rejects signs, exponents and more decimals than the currency has.
 */
export function majorToMinor(value: string | number, digits: number): MajorParse {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, reason: 'not_a_number' };
  const whole = match[1]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return { ok: false, reason: 'too_many_decimals' };
  const minorText = (whole + fraction.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  if (minorText.length > 15) return { ok: false, reason: 'too_large' };
  return { ok: true, minor: Number(minorText) };
}

/** 1050 → "10.50" for 2 digits, 1050 → "1050" for 0. */
export function minorToMajor(minor: number, digits: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new Error(`not a minor amount: ${minor}`);
  if (digits === 0) return String(minor);
  const padded = String(minor).padStart(digits + 1, '0');
  return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * The JSON number HitPay puts in refund answers (`amount_refunded: 1`, `total_amount: 96.49`).
 * Number("96.49") is the nearest double to the decimal text; it prints back as the same text.
 */
export function minorToJsonNumber(minor: number, digits: number): number {
  return Number(minorToMajor(minor, digits));
}

/** HitPay's create limits: "The amount must be between 0.3 and 999999999.99." (major units). */
export function withinCreateLimits(minor: number, digits: number): boolean {
  const scale = 10n ** BigInt(digits);
  const m = BigInt(minor);
  return m * 10n >= 3n * scale && m * 100n <= 99_999_999_999n * scale;
}
