/** Device tokens and admin-token checks: random, stored hashed, compared in constant time. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh device token: 32 random bytes, base64url. Shown once, never stored in clear. */
export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 is enough for a 256-bit random token: there is nothing to brute-force. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash without leaking timing or length. */
export function tokenMatchesHash(presented: string, storedHashHex: string): boolean {
  const a = Buffer.from(hashToken(presented), 'hex');
  const b = Buffer.from(storedHashHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time equality of two secrets of any length (both are hashed first). */
export function secretsEqual(presented: string, expected: string): boolean {
  return tokenMatchesHash(presented, hashToken(expected));
}
