/**
 * The currency a cab charges in. The relay holds it (`cabs.currency`), never the tablet: a
 * payment request naming another currency is refused. A cab without one takes its PSP's default.
 */
import type { PspName } from '../../protocol/relay-protocol.js';

/** What each PSP takes as the relay calls it (HitPay: PayNow, which is SGD only). */
export const PSP_CURRENCIES: Record<PspName, readonly string[]> = {
  hips: ['SEK', 'NOK', 'DKK', 'EUR'],
  vipps: ['NOK', 'DKK', 'EUR'],
  hitpay: ['SGD'],
};

/** The currency of a cab whose registration names none (the fleet's PSP configuration). */
export type DefaultCurrencies = Partial<Record<PspName, string>>;

const ISO_4217: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export function defaultCurrency(psp: PspName, defaults: DefaultCurrencies = {}): string {
  return defaults[psp] ?? PSP_CURRENCIES[psp][0]!;
}

/** The cab's currency: its own, else its PSP's default. */
export function cabCurrency(cab: { psp: PspName; currency?: string | null }, defaults: DefaultCurrencies = {}): string {
  return cab.currency ?? defaultCurrency(cab.psp, defaults);
}

/** Null when `currency` is an ISO 4217 code `psp` takes; else what is wrong and what to do. */
export function currencyProblem(psp: PspName, currency: string): string | null {
  if (!/^[A-Z]{3}$/.test(currency) || !ISO_4217.has(currency)) {
    return `"${currency}" is not an ISO 4217 currency code (three capital letters, such as ${PSP_CURRENCIES[psp][0]})`;
  }
  if (!PSP_CURRENCIES[psp].includes(currency)) {
    return `${psp} takes ${PSP_CURRENCIES[psp].join(', ')}, not ${currency}: give one of those, or register the cab with another PSP`;
  }
  return null;
}
