/**
 * The driver's settings as the core keeps them (one JSON value in the settings table), with
 * the fleet's default extras per currency for a cab whose driver has not set any yet.
 */
import { driverSettings, type DriverSettings, type ExtraPreset } from '../../protocol/kiosk-api.js';
import { DEFAULT_VAT_RATE } from './line-defaults.js';
import type { KioskStore } from './store.js';

type DefaultKind = 'toll' | 'airport_fee' | 'luggage' | 'booking_fee';

/** Typical Nordic amounts in minor units; a fleet replaces them in the driver settings. */
const DEFAULT_AMOUNTS: Record<string, Record<DefaultKind, number>> = {
  SEK: { toll: 4_500, airport_fee: 9_500, luggage: 2_000, booking_fee: 3_000 },
  NOK: { toll: 5_000, airport_fee: 10_000, luggage: 2_500, booking_fee: 3_500 },
  DKK: { toll: 3_000, airport_fee: 7_500, luggage: 2_000, booking_fee: 2_500 },
  EUR: { toll: 400, airport_fee: 900, luggage: 200, booking_fee: 300 },
};

/** Unknown currencies get no extras rather than a guessed amount. */
export function defaultExtras(currency: string): ExtraPreset[] {
  const amounts = DEFAULT_AMOUNTS[currency];
  if (!amounts) return [];
  return (Object.keys(amounts) as DefaultKind[]).map((kind) => ({
    kind,
    amountMinor: amounts[kind],
    vatRate: DEFAULT_VAT_RATE[kind],
  }));
}

export function defaultDriverSettings(currency: string): DriverSettings {
  return { locale: null, theme: 'auto', brightness: 80, driverId: null, extras: defaultExtras(currency) };
}

/**
 * The stored settings, or the defaults. The theme has its own key (the header's quick toggle
 * writes it too), so it is read from there.
 */
export function readDriverSettings(store: KioskStore, currency: string): DriverSettings {
  const fallback = defaultDriverSettings(currency);
  const raw = store.getSetting('driverSettings');
  let stored: DriverSettings = fallback;
  if (raw !== null) {
    try {
      const parsed = driverSettings.safeParse(JSON.parse(raw));
      if (parsed.success) stored = parsed.data;
    } catch {
      // A damaged value falls back to the defaults; the next save replaces it.
    }
  }
  const theme = store.getSetting('theme');
  return { ...stored, theme: theme === 'day' || theme === 'night' || theme === 'auto' ? theme : stored.theme };
}
