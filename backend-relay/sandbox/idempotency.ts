/**
 * Idempotency-Key handling: the first success is stored with a hash of its request; a replay
 * within 3600 s answers 200 with the same body, a replay with a different body answers 422.
 * Call inside the transaction that makes the change, so the answer and its effect commit together.
 */
import { createHash } from 'node:crypto';
import { SandboxError } from './errors.js';
import type { SandboxStore } from './store.js';

export const IDEMPOTENCY_TTL_MS = 3600 * 1000;

export interface Answer {
  statusCode: number;
  body: unknown;
}

/** A stable hash of a JSON value: object keys are sorted so key order does not matter. */
export function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value) ?? null))
    .digest('hex');
}

/** Replays a stored answer for `key`, or runs `act` and stores its answer. */
export function withIdempotency(store: SandboxStore, scope: string, key: string | undefined, request: unknown, act: () => Answer): Answer {
  if (key === undefined) return act();
  const now = Date.now();
  store.forgetIdempotentBefore(now - IDEMPOTENCY_TTL_MS);
  const hash = requestHash(request);
  const earlier = store.idempotent(scope, key);
  if (earlier) {
    if (earlier.request_hash !== hash) {
      throw new SandboxError(
        422,
        'idempotency_error',
        `Idempotency-Key "${key}" was already used with a different request body. ` +
          'Resend the original body to get the original answer, or use a new key for a new request.',
      );
    }
    return { statusCode: 200, body: JSON.parse(earlier.body) as unknown };
  }
  const answer = act();
  store.saveIdempotent({
    scope,
    key,
    request_hash: hash,
    status_code: answer.statusCode,
    body: JSON.stringify(answer.body),
    created_at_ms: now,
  });
  return answer;
}
