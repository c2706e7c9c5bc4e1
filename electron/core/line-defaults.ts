/** The one table of order-line defaults: VAT rate and label per line kind and locale. */
import type { Locale } from '../../protocol/kiosk-api.js';
import type { OrderLine } from '../../protocol/relay-protocol.js';

export type LineKind = OrderLine['kind'];

/** Swedish taxi VAT is 6%; road tolls are outside VAT. */
export const DEFAULT_VAT_RATE: Record<LineKind, number> = {
  fare: 6,
  toll: 0,
  airport_fee: 6,
  luggage: 6,
  booking_fee: 6,
  other: 6,
};

const LABELS: Record<Locale, Record<LineKind, string>> = {
  en: { fare: 'Taxi fare', toll: 'Toll', airport_fee: 'Airport fee', luggage: 'Luggage', booking_fee: 'Booking fee', other: 'Other' },
  sv: { fare: 'Taxiresa', toll: 'Vägtull', airport_fee: 'Flygplatsavgift', luggage: 'Bagage', booking_fee: 'Bokningsavgift', other: 'Övrigt' },
  nb: { fare: 'Drosjetur', toll: 'Bompenger', airport_fee: 'Flyplassavgift', luggage: 'Bagasje', booking_fee: 'Bestillingsgebyr', other: 'Annet' },
  da: { fare: 'Taxatur', toll: 'Bompenge', airport_fee: 'Lufthavnsgebyr', luggage: 'Bagage', booking_fee: 'Bestillingsgebyr', other: 'Andet' },
  fi: { fare: 'Taksimatka', toll: 'Tietulli', airport_fee: 'Lentokenttämaksu', luggage: 'Matkatavarat', booking_fee: 'Tilausmaksu', other: 'Muu' },
};

export function defaultLabel(kind: LineKind, locale: Locale): string {
  return LABELS[locale][kind];
}
