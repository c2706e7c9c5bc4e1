/**
 * The Vipps MobilePay Webhooks API signing scheme (developer.vippsmobilepay.com, "Request
 * authentication"): `x-ms-content-sha256` = base64 SHA-256 of the body bytes, and
 * `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>`
 * over `POST\n<path and query>\n<date>;<host>;<content hash>`, keyed by the secret as UTF-8 text.
 * Pure, so the relay's tests can sign what its verifier checks with the same algorithm.
 */
import { createHash, createHmac } from 'node:crypto';

export interface VippsSignInput {
  /** The webhook's secret from `POST /webhooks/v1/webhooks`, used as text (not base64-decoded). */
  secret: string;
  /** Always POST for deliveries; kept as input so the signed string is spelled out in one place. */
  method: string;
  /** Path and query of the target URL, e.g. `/webhooks/vipps?x=1`. */
  pathAndQuery: string;
  /** The Host header as the HTTP client sends it: host plus `:port` unless the port is the default. */
  host: string;
  /** RFC 1123 date, e.g. `Thu, 30 Mar 2023 08:38:32 GMT` (what `Date#toUTCString` gives). */
  date: string;
  /** Exactly the bytes sent. */
  body: string | Buffer;
}

export interface VippsSignedHeaders {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  authorization: string;
}

export const VIPPS_SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';

export function vippsContentSha256(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

export function vippsStringToSign(method: string, pathAndQuery: string, date: string, host: string, contentHash: string): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${date};${host};${contentHash}`;
}

export function signVippsRequest(input: VippsSignInput): VippsSignedHeaders {
  const contentHash = vippsContentSha256(input.body);
  const signature = createHmac('sha256', input.secret)
    .update(vippsStringToSign(input.method, input.pathAndQuery, input.date, input.host, contentHash))
    .digest('base64');
  return {
    'x-ms-date': input.date,
    'x-ms-content-sha256': contentHash,
    authorization: `HMAC-SHA256 SignedHeaders=${VIPPS_SIGNED_HEADERS}&Signature=${signature}`,
  };
}
