/**
 * The driver-settings PIN: stored only as an scrypt hash (`scrypt$<N>$<r>$<p>$<salt>$<hash>`,
 * base64url), verified here in the core and never in the renderer. Repeated failures lock the
 * settings briefly; the count and the lock survive a restart (a reboot is no free retry).
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

/** Failures allowed in a row before the lock, and how long the lock lasts. */
export const PIN_MAX_FAILURES = 5;
export const PIN_LOCK_MS = 60_000;

export interface PinAttemptState {
  failures: number;
  lockedUntil: string | null;
}

/** The state after one attempt (pure; the caller persists it). */
export function afterAttempt(state: PinAttemptState, success: boolean, now: Date): PinAttemptState {
  if (success) return { failures: 0, lockedUntil: null };
  const failures = state.failures + 1;
  if (failures >= PIN_MAX_FAILURES) return { failures: 0, lockedUntil: new Date(now.getTime() + PIN_LOCK_MS).toISOString() };
  return { failures, lockedUntil: null };
}

export function isLocked(state: PinAttemptState, now: Date): boolean {
  return state.lockedUntil !== null && Date.parse(state.lockedUntil) > now.getTime();
}
