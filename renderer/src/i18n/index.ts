/**
 * Translation and locale formatting. Pure functions of (locale, key, params) so they can be
 * unit-tested under Node; the React side only picks the locale from the snapshot.
 */
import type { Locale } from '../../../protocol/kiosk-api.js';
import { formatMoney } from '../../../protocol/money.js';
import { da } from './da.js';
import { en, type Catalog, type MessageKey } from './en.js';
import { fi } from './fi.js';
import { nb } from './nb.js';
import { sv } from './sv.js';
import type { Message } from './types.js';

export type { MessageKey } from './en.js';

export const catalogs: Record<Locale, Catalog> = { en, sv, nb, da, fi };

/** The order of the language row; each shown in its own language. */
export const localeChoices: ReadonlyArray<{ code: Locale; name: string }> = [
  { code: 'sv', name: 'Svenska' },
  { code: 'nb', name: 'Norsk' },
  { code: 'da', name: 'Dansk' },
  { code: 'fi', name: 'Suomi' },
  { code: 'en', name: 'English' },
];

export type Params = Record<string, string | number>;

function pick(message: Message, locale: Locale, params: Params): string {
  if (typeof message === 'string') return message;
  const n = params.n;
  if (typeof n !== 'number') throw new Error('A plural message needs a numeric `n` parameter');
  const category = new Intl.PluralRules(locale).select(n);
  return message[category] ?? message.other;
}

function interpolate(text: string, locale: Locale, params: Params): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : value;
  });
}

export function translate(locale: Locale, key: MessageKey, params: Params = {}): string {
  const message = catalogs[locale][key] ?? en[key];
  return interpolate(pick(message, locale, params), locale, params);
}

export type Translate = (key: MessageKey, params?: Params) => string;

export function translator(locale: Locale): Translate {
  return (key, params) => translate(locale, key, params);
}

export function money(amountMinor: number, currency: string, locale: Locale): string {
  return formatMoney(amountMinor, currency, locale);
}

/** "3 minutes", "1 hour 5 minutes": how long something has lasted, in the locale's words. */
export function formatDuration(ms: number, locale: Locale): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const unit = (value: number, name: 'second' | 'minute' | 'hour') =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'long' }).format(value);
  if (seconds < 60) return unit(seconds, 'second');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} ${unit(rest, 'minute')}`;
}

export function formatTime(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function formatPercent(ratePercent: number, locale: Locale): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratePercent / 100);
}
