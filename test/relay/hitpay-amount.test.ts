import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMajorString, toMajorString } from '../../protocol/decimal-amount.js';

const minor = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const currencies = fc.constantFrom('SGD', 'SEK', 'JPY', 'KRW', 'BHD', 'KWD', 'MYR');

describe('toMajorString', () => {
  it('writes minor units as major-unit decimal text', () => {
    expect(toMajorString(1234, 'SGD')).toBe('12.34');
    expect(toMajorString(5, 'SGD')).toBe('0.05');
    expect(toMajorString(50, 'SGD')).toBe('0.50');
    expect(toMajorString(0, 'SGD')).toBe('0.00');
    expect(toMajorString(100_000_000, 'SGD')).toBe('1000000.00');
    expect(toMajorString(500, 'JPY')).toBe('500');
    expect(toMajorString(1, 'BHD')).toBe('0.001');
  });

  it('refuses what is not a minor amount', () => {
    expect(() => toMajorString(1.5, 'SGD')).toThrow(RangeError);
    expect(() => toMajorString(-1, 'SGD')).toThrow(RangeError);
    expect(() => toMajorString(Number.NaN, 'SGD')).toThrow(RangeError);
  });
});

describe('parseMajorString', () => {
  const value = (text: string, currency = 'SGD') => {
    const r = parseMajorString(text, currency);
    return r.ok ? r.value : r.error.code;
  };

  it('reads major-unit decimal text into minor units', () => {
    expect(value('12.34')).toBe(1234);
    expect(value('12.3')).toBe(1230);
    expect(value('12')).toBe(1200);
    expect(value('0.05')).toBe(5);
    expect(value('0')).toBe(0);
    expect(value('500', 'JPY')).toBe(500);
    expect(value('0.001', 'BHD')).toBe(1);
    // 0.1 + 0.2 style float noise cannot happen: this is string arithmetic.
    expect(value('0.29')).toBe(29);
    expect(value('1.15')).toBe(115);
  });

  it.each([
    ['12.345', 'SGD'],
    ['500.0', 'JPY'],
    ['-1.00', 'SGD'],
    ['+1.00', 'SGD'],
    ['1e3', 'SGD'],
    ['1E-2', 'SGD'],
    [' 1.00', 'SGD'],
    ['1.00 ', 'SGD'],
    ['1 000.00', 'SGD'],
    ['1,000.00', 'SGD'],
    ['', 'SGD'],
    ['.5', 'SGD'],
    ['5.', 'SGD'],
    ['NaN', 'SGD'],
    ['Infinity', 'SGD'],
    ['0x10', 'SGD'],
    ['012.00', 'SGD'],
    ['99999999999999999.99', 'SGD'],
  ])('refuses %j %s', (text, currency) => {
    const r = parseMajorString(text, currency);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('invalid_amount');
  });

  it('round-trips every minor amount in every currency', () => {
    fc.assert(
      fc.property(minor, currencies, (m, currency) => {
        const r = parseMajorString(toMajorString(m, currency), currency);
        expect(r).toEqual({ ok: true, value: m });
      }),
    );
  });

  it('reads the shortest text of the JSON number HitPay sends as the exact minor amount', () => {
    // HitPay's event hooks carry amounts as JSON numbers (1.11); their shortest text is exact.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (m) => {
        const asJsonNumber = JSON.parse(toMajorString(m, 'SGD')) as number;
        expect(parseMajorString(String(asJsonNumber), 'SGD')).toEqual({ ok: true, value: m });
      }),
    );
  });

  it('never returns a non-integer or negative amount for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[0-9]{1,6}(\.[0-9]{0,4})?$/)), currencies, (text, currency) => {
        const r = parseMajorString(text, currency);
        if (r.ok) {
          expect(Number.isSafeInteger(r.value)).toBe(true);
          expect(r.value).toBeGreaterThanOrEqual(0);
          // What was accepted is the canonical text, at most padded with zeros to the currency's decimals.
          const written = toMajorString(r.value, currency);
          expect(written.startsWith(text)).toBe(true);
          expect(/^\.?0*$/.test(written.slice(text.length))).toBe(true);
        }
      }),
    );
  });
});
