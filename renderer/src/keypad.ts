/**
 * The fare keypad enters minor units digit by digit, like a cash register: typing
 * 1 2 3 5 0 means 12350 minor units, shown as 123,50 kr. The buffer is a digit string.
 */
export const keypadKeys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '00', '0', 'back', 'clear'] as const;
export type KeypadKey = (typeof keypadKeys)[number];

/** 99 999,99 in a two-decimal currency: more than any taxi fare, well under the API maximum. */
export const MAX_FARE_DIGITS = 7;

export function pressKey(digits: string, key: KeypadKey): string {
  if (key === 'clear') return '';
  if (key === 'back') return digits.slice(0, -1);
  // No leading zeros: the buffer is always the canonical form of its number.
  const next = (digits + key).replace(/^0+/, '');
  return next.length > MAX_FARE_DIGITS ? digits : next;
}

export function digitsToMinor(digits: string): number {
  return digits === '' ? 0 : Number.parseInt(digits, 10);
}

export function minorToDigits(amountMinor: number): string {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
    throw new Error(`A fare must be a non-negative whole number of minor units, got ${amountMinor}`);
  }
  const digits = amountMinor === 0 ? '' : String(amountMinor);
  return digits.length > MAX_FARE_DIGITS ? digits.slice(0, MAX_FARE_DIGITS) : digits;
}

/** Physical keyboard support (a USB keypad on the bench, or tests): key name → keypad key. */
export function keyFromKeyboard(key: string): KeypadKey | null {
  if (/^[0-9]$/.test(key)) return key as KeypadKey;
  if (key === 'Backspace') return 'back';
  if (key === 'Escape' || key === 'Delete') return 'clear';
  return null;
}
