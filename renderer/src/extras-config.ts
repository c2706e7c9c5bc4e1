/**
 * The fleet's default amounts for the one-tap extras, in minor units per currency. A fleet
 * changes these here; the driver only taps. Unknown currencies get no defaults and the
 * buttons are hidden rather than charging a guessed amount.
 */
export const extraKinds = ['toll', 'airport_fee', 'luggage', 'booking_fee'] as const;
export type ExtraKind = (typeof extraKinds)[number];

type Defaults = Record<ExtraKind, number>;

const defaultsByCurrency: Record<string, Defaults> = {
  SEK: { toll: 4_500, airport_fee: 9_500, luggage: 2_000, booking_fee: 3_000 },
  NOK: { toll: 5_000, airport_fee: 10_000, luggage: 2_500, booking_fee: 3_500 },
  DKK: { toll: 3_000, airport_fee: 7_500, luggage: 2_000, booking_fee: 2_500 },
  EUR: { toll: 400, airport_fee: 900, luggage: 200, booking_fee: 300 },
};

export function extraDefaults(currency: string): Defaults | null {
  return defaultsByCurrency[currency] ?? null;
}
