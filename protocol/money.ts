/** Money is always an integer in minor units with an ISO 4217 currency. Never a float. */
import { z } from 'zod';

export const minorAmount = z.number().int().nonnegative().max(100_000_000);
export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as SEK');

/** The passenger may add at most 20% of the order amount (fare plus extras) as tip. */
export function maxTip(orderAmount: number): number {
  return Math.floor((orderAmount * 20) / 100);
}

/** VAT contained in a VAT-inclusive amount, rounded half up to the minor unit. */
export function vatIncluded(amountInclVat: number, vatRatePercent: number): number {
  if (vatRatePercent === 0) return 0;
  return Math.round((amountInclVat * vatRatePercent) / (100 + vatRatePercent));
}

/** Minor-unit exponent of a currency as Intl knows it (SEK 2, JPY 0). */
export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amountMinor / 10 ** digits);
}
