/**
 * The payment reference of one attempt: what the PSP knows the payment by (Vipps `reference`,
 * HitPay `reference_number`) and the idempotency key of its create call. Vipps allows
 * [A-Za-z0-9-]{8,50}. A readable part (cab, ride, attempt) keeps it greppable; the hash of
 * the exact triple keeps two attempts apart even when the readable part is cut or ambiguous
 * (cab ids and ride ids may both contain dashes).
 */
import { createHash } from 'node:crypto';

export const REFERENCE_MAX = 50;
const HASH_CHARS = 16;

export function paymentReference(cabId: string, rideId: string, attempt: number): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([cabId, rideId, attempt]))
    .digest('hex')
    .slice(0, HASH_CHARS);
  const tail = `-${attempt}-${hash}`;
  const readable = `${cabId}-${rideId}`
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const head = readable.slice(0, REFERENCE_MAX - tail.length).replace(/-$/, '');
  return `${head || 'p'}${tail}`;
}
