/**
 * The driver-settings PIN: stored only as an scrypt hash (`scrypt$<N>$<r>$<p>$<salt>$<hash>`,
 * base64url), verified here in the core and never in the renderer. Repeated failures lock the
 * settings for longer each time; the count and the lock survive a restart (a reboot is no free retry).
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

export const PIN_HASH_PATTERN = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{32,}$/;

/** What `npm run pin-hash -- <pin>` would print; used to provision the kiosk config. */
export function hashPin(pin: string, salt: Buffer = randomBytes(16)): string {
  const key = scryptSync(pin, salt, KEY_LEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function verifyPin(pin: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, keyText] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyText, 'base64url');
  const actual = scryptSync(pin, Buffer.from(saltText, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Wrong PINs in a row allowed before the settings lock. */
export const PIN_MAX_FAILURES = 5;
/**
 * How long each further wrong PIN in a row locks the settings: the fifth 1 minute, then 5, 15
 * and 60, and an hour for every one after that. Trying all 10,000 four-digit PINs then takes
 * more than a year instead of 33 hours, while a driver who mistypes loses at most an hour.
 */
export const PIN_LOCK_STEPS_MS: readonly number[] = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000];

export interface PinAttemptState {
  /** Wrong PINs since the last right one (kept across the locks, so each lock is longer). */
  failures: number;
  lockedUntil: string | null;
}

/** The state after one attempt (pure; the caller persists it). */
export function afterAttempt(state: PinAttemptState, success: boolean, now: Date): PinAttemptState {
  if (success) return { failures: 0, lockedUntil: null };
  const failures = state.failures + 1;
  if (failures < PIN_MAX_FAILURES) return { failures, lockedUntil: null };
  const step = Math.min(failures - PIN_MAX_FAILURES, PIN_LOCK_STEPS_MS.length - 1);
  return { failures, lockedUntil: new Date(now.getTime() + PIN_LOCK_STEPS_MS[step]!).toISOString() };
}

export function isLocked(state: PinAttemptState, now: Date): boolean {
  return state.lockedUntil !== null && Date.parse(state.lockedUntil) > now.getTime();
}

/** A wait in words for the core's (English) messages: "45 seconds", "5 minutes", "1 hour 10 minutes". */
export function describeWait(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms < 60_000) return plural(Math.max(1, Math.ceil(ms / 1000)), 'second');
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}`;
}
