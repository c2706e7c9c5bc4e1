/**
 * The relay's RS256 verifier (node:crypto, synchronous) against jose's jwtVerify with the
 * options the Hips adapter used: every token must get the same accept/refuse decision.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { importRs256PublicKey, verifyRs256Jwt } from '../../backend-relay/psp/rs256-jwt.js';

const ISSUER = 'hips.com';
const TOLERANCE_S = 300;
const LIFETIME_S = 24 * 3600;
const now = new Date('2026-12-02T12:00:00Z');
const nowS = Math.floor(now.getTime() / 1000);

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const hips = pair();
const stranger = pair();
const publicPem = hips.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function token(header: unknown, payload: unknown, key = hips.privateKey, algorithm = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(algorithm, Buffer.from(input), key).toString('base64url')}`;
}
const claims = (over: Record<string, unknown> = {}) => ({ data: { qr_code: 'QR-1' }, iss: ISSUER, iat: nowS, exp: nowS + 300, ...over });
const rs256 = { alg: 'RS256', typ: 'JWT' };

const cases: [name: string, jwt: string, accepted: boolean][] = [
  ['a valid token', token(rs256, claims()), true],
  ['a valid token with kid and no typ', token({ alg: 'RS256', kid: 'k1' }, claims()), true],
  ['expired within the tolerance', token(rs256, claims({ exp: nowS - TOLERANCE_S + 1 })), true],
  ['expired at the tolerance', token(rs256, claims({ exp: nowS - TOLERANCE_S })), false],
  ['expired long ago', token(rs256, claims({ exp: nowS - 3600 })), false],
  ['nbf within the tolerance', token(rs256, claims({ nbf: nowS + TOLERANCE_S })), true],
  ['nbf beyond the tolerance', token(rs256, claims({ nbf: nowS + TOLERANCE_S + 1 })), false],
  ['exp missing', token(rs256, claims({ exp: undefined })), false],
  ['exp a string', token(rs256, claims({ exp: String(nowS + 300) })), false],
  ['iat a string', token(rs256, claims({ iat: String(nowS) })), false],
  ['nbf a string', token(rs256, claims({ nbf: 'soon' })), false],
  ['iss missing', token(rs256, claims({ iss: undefined })), false],
  ['a wrong issuer', token(rs256, claims({ iss: 'evil.example' })), false],
  ['iss not a string', token(rs256, claims({ iss: ['hips.com'] })), false],
  ['signed with another key', token(rs256, claims(), stranger.privateKey), false],
  ['alg none', `${b64({ alg: 'none' })}.${b64(claims())}.`, false],
  ['alg none with a signature', `${b64({ alg: 'none' })}.${b64(claims())}.AAAA`, false],
  [
    'HS256 keyed with the public PEM',
    (() => {
      const input = `${b64({ alg: 'HS256' })}.${b64(claims())}`;
      return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    })(),
    false,
  ],
  ['RS512 signed by the right key', token({ alg: 'RS512' }, claims(), hips.privateKey, 'sha512'), false],
  ['RS256 header over a SHA-512 signature', token(rs256, claims(), hips.privateKey, 'sha512'), false],
  [
    'a tampered payload',
    (() => {
      const [h, , s] = token(rs256, claims()).split('.');
      return `${h}.${b64(claims({ data: { qr_code: 'QR-2' } }))}.${s}`;
    })(),
    false,
  ],
  [
    'a tampered header',
    (() => {
      const [, p, s] = token(rs256, claims()).split('.');
      return `${b64({ alg: 'RS256', kid: 'x' })}.${p}.${s}`;
    })(),
    false,
  ],
  ['a truncated signature', token(rs256, claims()).slice(0, -4), false],
  ['a payload that is an array', token(rs256, [claims()]), false],
  ['a payload that is not JSON', token(rs256, 'not json'), false],
  ['a header that is not JSON', `${b64('nope')}.${b64(claims())}.${b64('sig')}`, false],
  ['two parts', `${b64(rs256)}.${b64(claims())}`, false],
  ['four parts', `${token(rs256, claims())}.x`, false],
  ['characters outside base64url', `${token(rs256, claims())}=`, false],
  ['garbage', 'not.a.jwt', false],
  ['an empty string', '', false],
];

async function joseAccepts(jwt: string): Promise<boolean> {
  try {
    await jwtVerify(jwt, await importSPKI(publicPem, 'RS256'), {
      algorithms: ['RS256'],
      issuer: ISSUER,
      clockTolerance: TOLERANCE_S,
      requiredClaims: ['exp', 'iss'],
      currentDate: now,
    });
    return true;
  } catch {
    return false;
  }
}

const options = { issuer: ISSUER, clockToleranceS: TOLERANCE_S, maxLifetimeS: LIFETIME_S, now };

describe('RS256 JWT verification (node:crypto) decides as jose does', () => {
  const key = importRs256PublicKey(publicPem);

  for (const [name, jwt, accepted] of cases) {
    it(`${accepted ? 'accepts' : 'refuses'} ${name}`, async () => {
      const ours = verifyRs256Jwt(jwt, key, options);
      expect(ours.ok).toBe(accepted);
      expect(await joseAccepts(jwt)).toBe(accepted);
      if (ours.ok) expect(ours.payload.data).toEqual({ qr_code: 'QR-1' });
      else expect(ours.message).toMatch(/^the webhook (token|signature)/);
    });
  }

  it('names the failure: algorithm, signature, expiry, claim', () => {
    const verdict = (jwt: string) => verifyRs256Jwt(jwt, key, options);
    expect(verdict(`${b64({ alg: 'none' })}.${b64(claims())}.AAAA`)).toMatchObject({ ok: false, reason: 'algorithm' });
    expect(verdict(`${b64({ alg: 'none' })}.${b64(claims())}.`)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verdict(token(rs256, claims(), stranger.privateKey))).toMatchObject({ ok: false, reason: 'signature' });
    expect(verdict(token(rs256, claims({ exp: nowS - 3600 })))).toMatchObject({ ok: false, reason: 'expired', message: 'the webhook token has expired' });
    expect(verdict(token(rs256, claims({ iss: 'evil.example' })))).toMatchObject({ ok: false, reason: 'claim', claim: 'iss' });
  });

  it('refuses any crit extension, even b64 which jose knows (a Hips hook never carries one)', async () => {
    const jwt = token({ alg: 'RS256', crit: ['b64'], b64: true }, claims());
    expect(verifyRs256Jwt(jwt, key, options)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a public key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => importRs256PublicKey(ec)).toThrow(/must be an RSA key, not ec/);
    expect(() => importRs256PublicKey('not a pem')).toThrow();
    expect(() => importRs256PublicKey('not a pem')).toThrow(/not a readable PEM public key .*HIPS_PUBLIC_KEY_FILE/);
  });
});

describe('RS256 JWT lifetime bounds (beyond jose): a token lives at most a day', () => {
  const key = importRs256PublicKey(publicPem);
  const verdict = (over: Record<string, unknown>) => verifyRs256Jwt(token(rs256, claims(over)), key, options);

  it.each([
    ['exp ten years ahead', { exp: nowS + 10 * 365 * 86_400 }, 'exp'],
    ['exp = 1e308', { exp: 1e308 }, 'exp'],
    ['exp a day and the tolerance and a second ahead', { exp: nowS + LIFETIME_S + TOLERANCE_S + 1 }, 'exp'],
    ['iat thirty days in the future', { iat: nowS + 30 * 86_400 }, 'iat'],
    ['iat beyond the tolerance ahead', { iat: nowS + TOLERANCE_S + 1 }, 'iat'],
    ['iat more than a day ago', { iat: nowS - LIFETIME_S - TOLERANCE_S - 1 }, 'iat'],
  ])('refuses %s', (_name, over, claim) => {
    const result = verdict(over);
    expect(result).toMatchObject({ ok: false, reason: 'claim', claim });
    expect(result.ok === false && result.message).toMatch(new RegExp(`^the webhook token claim "${claim}" is invalid`));
  });

  it('refuses an infinite exp (1e999 in the JSON text)', () => {
    const text = JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e999');
    expect(verifyRs256Jwt(token(rs256, text), key, options)).toMatchObject({ ok: false, reason: 'claim', claim: 'exp' });
  });

  it.each([
    ['exp a day ahead', { exp: nowS + LIFETIME_S }],
    ['exp a day and the tolerance ahead', { exp: nowS + LIFETIME_S + TOLERANCE_S }],
    ['iat within the tolerance ahead', { iat: nowS + TOLERANCE_S }],
    ['iat a day ago, exp still ahead', { iat: nowS - LIFETIME_S, exp: nowS + 60 }],
    ['no iat', { iat: undefined }],
  ])('accepts %s', (_name, over) => {
    expect(verdict(over)).toMatchObject({ ok: true });
  });
});
