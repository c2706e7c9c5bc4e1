/**
 * Vipps MobilePay webhook authentication (Webhooks API, "Request authentication"), pure:
 * - `x-ms-content-sha256` = base64 SHA-256 of the raw body;
 * - signed string `${method}\n${pathAndQuery}\n${x-ms-date};${host};${content hash}`;
 * - `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`,
 *   the HMAC-SHA256 of the signed string keyed by the webhook secret as UTF-8 text.
 * `host` is the relay's public host (what Vipps was told to call), never the request's Host
 * header, which a proxy may rewrite and an attacker may choose.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Vipps' clock and ours may disagree a little; an older or newer date is a replay or a forgery. */
export const VIPPS_HOOK_MAX_SKEW_MS = 5 * 60 * 1000;

const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';
/** A SHA-256 in base64 is 43 characters and one '='. */
const B64_SHA256 = '[A-Za-z0-9+/]{43}=';
const AUTHORIZATION = new RegExp(`^HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=(${B64_SHA256})$`);
const CONTENT_HASH = new RegExp(`^${B64_SHA256}$`);
/** RFC 1123, as Vipps sends it: `Thu, 30 Mar 2023 08:38:32 GMT`. */
const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface VippsSignedRequest {
  method: string;
  pathAndQuery: string;
  rawBody: Buffer;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
}

export type VippsHmacResult = { ok: true } | { ok: false; message: string };

export function contentSha256(rawBody: Buffer | string): string {
  return createHash('sha256').update(rawBody).digest('base64');
}

export function vippsSignedString(method: string, pathAndQuery: string, date: string, host: string, contentHash: string): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${date};${host};${contentHash}`;
}

export function vippsSignature(secret: string, signedString: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(signedString, 'utf8').digest('base64');
}

/** The headers Vipps would send for this request (tests and tools; the sandbox has its own signer). */
export function signVippsRequest(input: { secret: string; method?: string; pathAndQuery: string; host: string; rawBody: Buffer | string; date: Date }): {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  authorization: string;
} {
  const date = input.date.toUTCString();
  const hash = contentSha256(input.rawBody);
  const signature = vippsSignature(input.secret, vippsSignedString(input.method ?? 'POST', input.pathAndQuery, date, input.host, hash));
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': hash,
    authorization: `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=${signature}`,
  };
}

/** Parses an RFC 1123 date strictly (Date.parse accepts far too much); null when it is not one. */
export function parseRfc1123(text: string): Date | null {
  const m = RFC1123.exec(text);
  if (!m) return null;
  const [, weekday, day, month, year, hh, mi, ss] = m;
  const ms = Date.UTC(Number(year), MONTHS.indexOf(month!), Number(day), Number(hh), Number(mi), Number(ss));
  const date = new Date(ms);
  // Rejects 31 Feb and a weekday that does not match the date.
  if (date.getUTCDate() !== Number(day) || date.toUTCString().slice(0, 3) !== weekday) return null;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return null;
  return date;
}

/**
 * Verifies one webhook against any of `secrets` (the configured one, the registered one).
 * `host` is the relay's public host incl. a non-default port (`new URL(publicUrl).host`).
 */
export function verifyVippsHmac(request: VippsSignedRequest, secrets: readonly string[], host: string, now: Date): VippsHmacResult {
  const date = single(request.headers['x-ms-date']);
  const claimedHash = single(request.headers['x-ms-content-sha256']);
  const authorization = single(request.headers['authorization']);
  if (date === undefined || claimedHash === undefined || authorization === undefined) {
    return fail('the x-ms-date, x-ms-content-sha256 and Authorization headers must each be sent once');
  }
  const auth = AUTHORIZATION.exec(authorization);
  if (!auth) return fail(`the Authorization header must read "HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=<base64 SHA-256>"`);
  if (!CONTENT_HASH.test(claimedHash)) return fail('x-ms-content-sha256 must be a base64 SHA-256');
  const sentAt = parseRfc1123(date);
  if (!sentAt) return fail('x-ms-date must be an RFC 1123 date such as "Thu, 30 Mar 2023 08:38:32 GMT"');
  if (Math.abs(now.getTime() - sentAt.getTime()) > VIPPS_HOOK_MAX_SKEW_MS) {
    return fail(`x-ms-date is more than ${VIPPS_HOOK_MAX_SKEW_MS / 60_000} minutes from the relay's clock (a replay, or a clock to fix)`);
  }
  const actualHash = contentSha256(request.rawBody);
  if (!equalB64(actualHash, claimedHash)) return fail('the body does not match x-ms-content-sha256');
  if (secrets.length === 0)
    return fail('no Vipps webhook secret is known yet (the webhook is not registered; set VIPPS_WEBHOOK_SECRET to accept hooks meanwhile)');
  const signedString = vippsSignedString(request.method, request.pathAndQuery, date, host, actualHash);
  // Every secret is tried, so the time taken does not tell which one matched.
  let matched = false;
  for (const secret of secrets) {
    if (equalB64(vippsSignature(secret, signedString), auth[1]!)) matched = true;
  }
  return matched ? { ok: true } : fail('the HMAC signature does not match (wrong secret, method, path, host, date or body)');
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function equalB64(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function fail(message: string): VippsHmacResult {
  return { ok: false, message };
}
