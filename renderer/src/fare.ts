/** Sums over order lines: the running total while driving, and VAT per rate for the passenger. */
import type { OrderLine } from '../../protocol/relay-protocol.js';
import { vatIncluded } from '../../protocol/money.js';

export function extraLines(lines: readonly OrderLine[]): OrderLine[] {
  return lines.filter((line) => line.kind !== 'fare');
}

export function fareLine(lines: readonly OrderLine[]): OrderLine | undefined {
  return lines.find((line) => line.kind === 'fare');
}

/** While on a ride the fare lives in the keypad until "End ride"; extras are in the core. */
export function runningTotal(fareMinor: number, lines: readonly OrderLine[]): number {
  return extraLines(lines).reduce((sum, line) => sum + line.amount, fareMinor);
}

export interface VatAtRate {
  ratePercent: number;
  vatMinor: number;
}

/** VAT per rate, computed on the sum of each rate's lines (as a receipt shows it), highest rate first. */
export function vatByRate(lines: readonly OrderLine[]): VatAtRate[] {
  const totals = new Map<number, number>();
  for (const line of lines) totals.set(line.vatRate, (totals.get(line.vatRate) ?? 0) + line.amount);
  return [...totals.entries()]
    .filter(([rate]) => rate > 0)
    .sort(([a], [b]) => b - a)
    .map(([ratePercent, amount]) => ({ ratePercent, vatMinor: vatIncluded(amount, ratePercent) }));
}
