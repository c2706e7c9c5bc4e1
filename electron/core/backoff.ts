/** Retry rules for the outbox: which answers to retry, and how long to wait before the next try. */

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 60_000;

/** The wait's growth: base of the first retry and the longest wait. Tests and the chaos run shorten them. */
export interface BackoffLimits {
  baseMs: number;
  capMs: number;
}
export const DEFAULT_BACKOFF: BackoffLimits = { baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS };

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(cap, base * 2^attempt)).
 * `attempt` counts failed tries so far (0 for the first retry); `random` returns [0, 1).
 */
export function nextDelay(attempt: number, random: () => number, limits: BackoffLimits = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.min(attempt, 30));
  const ceiling = Math.min(limits.capMs, limits.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * ceiling);
}

export type ResponseClass = 'success' | 'retry' | 'definitive';

/** Statuses where the PSP has looked at the request and said no for good. */
const DEFINITIVE_STATUSES = new Set([400, 401, 403, 404, 409, 410, 422]);

/**
 * 2xx succeeds; network errors, timeouts, 408, 429 and 5xx are worth another try (the
 * Idempotency-Key makes the retry safe); the listed 4xx end the attempt. Any other status is
 * retried, since we cannot tell that it is final.
 */
export function classifyResponse(status: number | 'network' | 'timeout'): ResponseClass {
  if (status === 'network' || status === 'timeout') return 'retry';
  if (status >= 200 && status < 300) return 'success';
  if (DEFINITIVE_STATUSES.has(status)) return 'definitive';
  return 'retry';
}
