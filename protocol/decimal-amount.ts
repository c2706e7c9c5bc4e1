/**
 * Minor units ↔ the major-unit decimal strings PSPs such as HitPay speak ("12.34" SGD).
 * Integer and string arithmetic only: a float never touches an amount on its way in or out.
 */
import { currencyDigits } from './money.js';
import { fail, ok, type Result } from './result.js';

/** 1234 SGD → "12.34", 5 → "0.05", 500 JPY → "500". */
export function toMajorString(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) {
    throw new RangeError(`toMajorString: ${minor} is not a non-negative integer amount in minor units`);
  }
  const digits = currencyDigits(currency);
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Plain decimal: no sign, no exponent, no spaces, no thousands separators, no leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * "12.34" SGD → 1234; "12.3" → 1230; "12" → 1200. Refused: more decimals than the currency
 * has ("12.345" SGD, "500.0" JPY), signs, exponents, spaces, empty text, NaN, and anything
 * beyond Number.MAX_SAFE_INTEGER minor units.
 */
export function parseMajorString(text: string, currency: string): Result<number> {
  const m = DECIMAL.exec(text);
  if (!m) {
    return fail('invalid_amount', `"${text.slice(0, 40)}" is not a plain decimal amount such as 12.34`);
  }
  const digits = currencyDigits(currency);
  const [, whole, fraction = ''] = m;
  if (fraction.length > digits) {
    return fail('invalid_amount', `"${text}" has ${fraction.length} decimals; ${currency} has ${digits}`);
  }
  const minorText = (whole + fraction.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  const minor = Number(minorText);
  if (!Number.isSafeInteger(minor)) return fail('invalid_amount', `"${text}" ${currency} is too large`);
  return ok(minor);
}
