/** How times, money and states read in the console. */
import { formatMoney } from '../../protocol/money';

const LOCALE = navigator.language || 'en';

export function exactTime(iso: string): string {
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function relativeTime(iso: string | null, nowMs: number): string {
  if (!iso) return 'never';
  const s = Math.round((nowMs - Date.parse(iso)) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function money(amountMinor: number, currency: string): string {
  try {
    return formatMoney(amountMinor, currency, LOCALE);
  } catch {
    return `${amountMinor} ${currency} (minor units)`;
  }
}

/** kebab/snake/camel → words: "awaitingPayment" → "awaiting payment". */
export function words(name: string | null): string {
  if (!name) return '—';
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase();
}
