/**
 * RS256 JWT verification on node:crypto's synchronous verify. jose's `jwtVerify` (the same
 * checks) goes through WebCrypto's job queue, which cost the relay ~150 µs of main-thread CPU
 * per Hips hook against ~25 µs here: an eighth of its busy time at 700 hooks/s (docs/performance.md).
 * `test/relay/rs256-jwt.test.ts` holds this to jose's decisions, token by token.
 *
 * Only what the Hips hook needs: RS256 pinned (no `none`, no HS256 keyed with the public
 * key), no `crit` extensions, `exp` and `iss` required, `nbf` honoured, a clock tolerance, and
 * (beyond jose's checks) a bounded lifetime: `exp` and `iat` within `maxLifetimeS` of now.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseBoundedJson } from '../bounded-json.js';

export type JwtFailure =
  | { reason: 'malformed'; message: string }
  /** Verified (or a header), but nested deeper than any Hips token: refused as malformed, not as forged. */
  | { reason: 'too_deep'; message: string }
  | { reason: 'algorithm'; message: string }
  | { reason: 'signature'; message: string }
  | { reason: 'expired'; message: string }
  | { reason: 'claim'; claim: string; message: string };

export type JwtResult = { ok: true; payload: Record<string, unknown> } | ({ ok: false } & JwtFailure);

export interface Rs256Options {
  issuer: string;
  clockToleranceS: number;
  now: Date;
  /**
   * The longest a token may live: `exp` no further ahead than this (plus the tolerance), `iat`
   * no older. A token that could be replayed for longer would outlive the relay's dedupe keys.
   */
  maxLifetimeS: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws with what to fix in HIPS_PUBLIC_KEY_FILE when the PEM is unreadable or not RSA. */
export function importRs256PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`the Hips public key is not a readable PEM public key (${(err as Error).message}); point HIPS_PUBLIC_KEY_FILE at Hips' SPKI PEM`, {
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(
      `the Hips public key must be an RSA key, not ${key.asymmetricKeyType ?? 'unknown'}: Hips signs with RS256; point HIPS_PUBLIC_KEY_FILE at its RSA key`,
    );
  }
  return key;
}

export function verifyRs256Jwt(token: string, key: KeyObject, options: Rs256Options): JwtResult {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return malformed();
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header === 'too_deep') return tooDeep('header');
  if (!header) return malformed();
  if (header.alg !== 'RS256') return { ok: false, reason: 'algorithm', message: 'the webhook token must be signed with RS256' };
  // Extensions we do not implement must make the token fail (RFC 7515, section 4.1.11). jose knows
  // `b64` (unencoded payloads); a Hips hook never uses it, so any `crit` is refused here.
  if (header.crit !== undefined) return malformed();

  const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  if (!verify('sha256', signed, key, Buffer.from(signaturePart, 'base64url'))) {
    return { ok: false, reason: 'signature', message: 'the webhook signature does not match the Hips public key' };
  }
  const payload = decodeJson(payloadPart);
  if (payload === 'too_deep') return tooDeep('claims');
  if (!payload) return malformed();

  const nowS = Math.floor(options.now.getTime() / 1000);
  const tolerance = options.clockToleranceS;
  for (const claim of ['nbf', 'exp', 'iat'] as const) {
    if (payload[claim] !== undefined && !Number.isFinite(payload[claim])) return invalidClaim(claim, 'must be a number');
  }
  if (payload.exp === undefined) return invalidClaim('exp', 'missing');
  if (typeof payload.iss !== 'string') return invalidClaim('iss', 'missing');
  if (payload.iss !== options.issuer) return invalidClaim('iss', 'unexpected "iss" claim value');
  if (typeof payload.nbf === 'number' && payload.nbf > nowS + tolerance) return invalidClaim('nbf', '"nbf" claim timestamp check failed');
  if (typeof payload.exp === 'number' && payload.exp <= nowS - tolerance) {
    return { ok: false, reason: 'expired', message: 'the webhook token has expired' };
  }
  const maxHours = options.maxLifetimeS / 3600;
  if (typeof payload.exp === 'number' && payload.exp > nowS + options.maxLifetimeS + tolerance) {
    return invalidClaim('exp', `expires more than ${maxHours} h from now; the relay accepts no longer-lived token`);
  }
  if (typeof payload.iat === 'number' && payload.iat > nowS + tolerance) return invalidClaim('iat', 'issued in the future; check the clocks');
  if (typeof payload.iat === 'number' && payload.iat < nowS - options.maxLifetimeS - tolerance) {
    return invalidClaim('iat', `issued more than ${maxHours} h ago; an old token is a replay`);
  }
  return { ok: true, payload };
}

function decodeJson(part: string): Record<string, unknown> | 'too_deep' | null {
  let text: string;
  try {
    text = strictUtf8.decode(Buffer.from(part, 'base64url'));
  } catch {
    return null;
  }
  const parsed = parseBoundedJson(text);
  if (!parsed.ok) return parsed.error.code === 'too_deep' ? 'too_deep' : null;
  const value = parsed.value;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function tooDeep(part: 'header' | 'claims'): JwtResult {
  return {
    ok: false,
    reason: 'too_deep',
    message: `the webhook token's ${part === 'header' ? 'header is' : 'claims are'} nested deeper than any Hips hook; refused unread`,
  };
}

function malformed(): JwtResult {
  return { ok: false, reason: 'malformed', message: 'the webhook token is not a valid signed JWT' };
}

function invalidClaim(claim: string, why: string): JwtResult {
  return { ok: false, reason: 'claim', claim, message: `the webhook token claim "${claim}" is invalid (${why})` };
}
