/**
 * Merchant authentication as at Hips: `Authorization: <private key>`, `Basic base64(<key>:)`
 * or `Bearer <key>`. Create-order also takes `Bearer <one_time_order_api_key>`, which is bound
 * to the QR session it was issued for.
 */
import { timingSafeEqual } from 'node:crypto';
import { unauthorized } from './errors.js';
import type { SandboxStore, SessionRow } from './store.js';

export type Principal = { kind: 'merchant' } | { kind: 'one_time'; session: SessionRow };

const HOW = 'Send Authorization: <merchant key>, Basic base64(<merchant key>:), or for create-order Bearer <one_time_order_api_key>.';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function presentedKey(header: string): { scheme: 'raw' | 'basic' | 'bearer'; key: string } {
  const [scheme = '', rest = ''] = header.trim().split(/\s+(.*)/s);
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { scheme: 'basic', key: colon === -1 ? decoded : decoded.slice(0, colon) };
  }
  if (/^bearer$/i.test(scheme)) return { scheme: 'bearer', key: rest.trim() };
  return { scheme: 'raw', key: header.trim() };
}

export function authenticate(header: string | undefined, merchantKey: string, store: SandboxStore, opts: { allowOneTimeKey: boolean }): Principal {
  if (!header?.trim()) throw unauthorized(`Missing Authorization header. ${HOW}`);
  const { scheme, key } = presentedKey(header);
  if (key && sameSecret(key, merchantKey)) return { kind: 'merchant' };
  if (scheme === 'bearer' && key) {
    const session = store.sessionByOneTimeKey(key);
    if (session && opts.allowOneTimeKey) return { kind: 'one_time', session };
    if (session) throw unauthorized('A one-time order API key only authorizes POST /v2/orders for its session.');
  }
  throw unauthorized(`The API key is not valid. ${HOW}`);
}
