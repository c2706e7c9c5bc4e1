import { describe, expect, it } from 'vitest';
import type { OrderLine } from '../../protocol/relay-protocol.js';
import { defaultExtras } from '../../electron/core/driver-settings.js';
import { extraLines, fareLine, runningTotal, vatByRate } from '../../renderer/src/fare.js';
import { effectiveTheme, nextThemeSetting } from '../../renderer/src/theme.js';

const at = (hour: number, minute = 0) => new Date(2026, 10, 21, hour, minute);

describe('effectiveTheme', () => {
  it('follows the setting when it is day or night', () => {
    expect(effectiveTheme('day', at(23))).toBe('day');
    expect(effectiveTheme('night', at(12))).toBe('night');
  });

  it('in auto, is day from 07:00 up to 19:00 local time', () => {
    expect(effectiveTheme('auto', at(6, 59))).toBe('night');
    expect(effectiveTheme('auto', at(7, 0))).toBe('day');
    expect(effectiveTheme('auto', at(18, 59))).toBe('day');
    expect(effectiveTheme('auto', at(19, 0))).toBe('night');
    expect(effectiveTheme('auto', at(0, 30))).toBe('night');
  });

  it('cycles day → night → auto with one tap each', () => {
    expect(nextThemeSetting('day')).toBe('night');
    expect(nextThemeSetting('night')).toBe('auto');
    expect(nextThemeSetting('auto')).toBe('day');
  });
});

const line = (id: string, kind: OrderLine['kind'], amount: number, vatRate: number): OrderLine => ({
  id,
  kind,
  label: kind,
  amount,
  vatRate,
});

describe('fare sums', () => {
  const lines = [line('fare', 'fare', 34250, 6), line('extra-1', 'toll', 4500, 0), line('extra-2', 'luggage', 2000, 6)];

  it('separates the fare from the extras', () => {
    expect(fareLine(lines)?.amount).toBe(34250);
    expect(extraLines(lines).map((l) => l.id)).toEqual(['extra-1', 'extra-2']);
  });

  it('adds the keypad fare to the extras, ignoring a stale fare line in the core', () => {
    expect(runningTotal(12350, lines)).toBe(12350 + 4500 + 2000);
    expect(runningTotal(0, [])).toBe(0);
  });

  it('computes VAT per rate on the sum of that rate, leaving out 0%', () => {
    // 6% of 362,50 incl. VAT = 36250 * 6 / 106 = 2051.9 → 2052.
    expect(vatByRate(lines)).toEqual([{ ratePercent: 6, vatMinor: 2052 }]);
    expect(vatByRate([line('a', 'fare', 10000, 6), line('b', 'other', 12500, 25)])).toEqual([
      { ratePercent: 25, vatMinor: 2500 },
      { ratePercent: 6, vatMinor: 566 },
    ]);
  });
});

describe("fleet extras (the core's defaults, shown by the renderer from the snapshot)", () => {
  it('has a positive whole default with a VAT rate for every extra in the Nordic currencies', () => {
    for (const currency of ['SEK', 'NOK', 'DKK', 'EUR']) {
      const presets = defaultExtras(currency);
      expect(
        presets.map((p) => p.kind),
        currency,
      ).toEqual(['toll', 'airport_fee', 'luggage', 'booking_fee']);
      for (const p of presets) expect(Number.isInteger(p.amountMinor) && p.amountMinor > 0).toBe(true);
      expect(presets.find((p) => p.kind === 'toll')?.vatRate).toBe(0);
      expect(presets.find((p) => p.kind === 'airport_fee')?.vatRate).toBe(6);
    }
  });

  it('offers no guessed amounts for an unknown currency', () => {
    expect(defaultExtras('JPY')).toEqual([]);
  });
});
