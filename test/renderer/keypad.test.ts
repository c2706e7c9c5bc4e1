import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../../protocol/money.js';
import { digitsToMinor, keyFromKeyboard, keypadKeys, MAX_FARE_DIGITS, minorToDigits, pressKey, type KeypadKey } from '../../renderer/src/keypad.js';

const type = (keys: KeypadKey[]) => keys.reduce(pressKey, '');

describe('fare keypad', () => {
  it('enters minor units like a register: 1 2 3 5 0 is 123,50', () => {
    const digits = type(['1', '2', '3', '5', '0']);
    expect(digitsToMinor(digits)).toBe(12350);
    // Intl separates groups and the currency with no-break spaces.
    expect(formatMoney(digitsToMinor(digits), 'SEK', 'sv').replace(/\s/g, ' ')).toBe('123,50 kr');
  });

  it('appends two zeros with 00', () => {
    expect(digitsToMinor(type(['4', '5', '00']))).toBe(4500);
  });

  it('ignores leading zeros', () => {
    expect(type(['0', '00', '0'])).toBe('');
    expect(digitsToMinor(type(['0', '7']))).toBe(7);
  });

  it('deletes the last digit with back and everything with clear', () => {
    expect(type(['1', '2', '3', 'back'])).toBe('12');
    expect(type(['back'])).toBe('');
    expect(type(['9', '9', 'clear'])).toBe('');
  });

  it('refuses digits beyond the maximum length', () => {
    const full = type(Array<KeypadKey>(MAX_FARE_DIGITS).fill('9'));
    expect(full).toHaveLength(MAX_FARE_DIGITS);
    expect(pressKey(full, '1')).toBe(full);
    expect(pressKey(full, '00')).toBe(full);
  });

  it('always holds a canonical, bounded amount whatever is typed', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...keypadKeys), { maxLength: 40 }), (keys) => {
        const digits = type(keys);
        expect(digits).toMatch(/^([1-9][0-9]*)?$/);
        expect(digits.length).toBeLessThanOrEqual(MAX_FARE_DIGITS);
        expect(minorToDigits(digitsToMinor(digits))).toBe(digits);
      }),
    );
  });

  it('seeds the buffer from an amount the core holds, and rejects non-amounts', () => {
    expect(minorToDigits(0)).toBe('');
    expect(minorToDigits(12350)).toBe('12350');
    expect(() => minorToDigits(1.5)).toThrow(/whole number/);
    expect(() => minorToDigits(-1)).toThrow(/non-negative/);
  });

  it('maps hardware keys to keypad keys', () => {
    expect(keyFromKeyboard('7')).toBe('7');
    expect(keyFromKeyboard('Backspace')).toBe('back');
    expect(keyFromKeyboard('Escape')).toBe('clear');
    expect(keyFromKeyboard('a')).toBeNull();
  });
});
