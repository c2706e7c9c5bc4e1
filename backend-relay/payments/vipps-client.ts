/**
 * One HTTP call to the Vipps MobilePay API with the headers every call needs (Bearer token,
 * subscription key, MSN, system name/version) and one retry with a fresh token on 401. It never
 * throws: the answer says whether Vipps answered, could not be reached, or refused our keys.
 */
import { createVippsTokenSource, VIPPS_SYSTEM_HEADERS, VippsTokenError, type VippsCredentials, type VippsTokenSource } from './vipps-token.js';

const CALL_TIMEOUT_MS = 15_000;

export type VippsAnswer =
  | { kind: 'answered'; status: number; body: unknown }
  /** Network fault, timeout, or no token for a retryable reason: the same call may work later. */
  | { kind: 'unreachable'; reason: string }
  /** Vipps refused the relay's keys: nothing works until the configuration is fixed. */
  | { kind: 'credentials'; reason: string };

export interface VippsClient {
  readonly msn: string;
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options?: { body?: unknown; idempotencyKey?: string }): Promise<VippsAnswer>;
}

export function createVippsClient(
  creds: VippsCredentials,
  options: { fetch?: typeof fetch; tokens?: VippsTokenSource; now?: () => number; timeoutMs?: number } = {},
): VippsClient {
  const doFetch = options.fetch ?? fetch;
  const tokens = options.tokens ?? createVippsTokenSource(creds, { fetch: doFetch, now: options.now });

  async function once(method: string, path: string, token: string, body: unknown, idempotencyKey: string | undefined): Promise<VippsAnswer> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'Ocp-Apim-Subscription-Key': creds.subscriptionKey,
      'Merchant-Serial-Number': creds.msn,
      ...VIPPS_SYSTEM_HEADERS,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
    let res: Response;
    try {
      res = await doFetch(new URL(path, creds.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? CALL_TIMEOUT_MS),
      });
    } catch (err) {
      return { kind: 'unreachable', reason: `${method} ${path} failed: ${(err as Error).message}` };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      return { kind: 'unreachable', reason: `${method} ${path}: the answer was cut off (${(err as Error).message})` };
    }
    let parsed: unknown = null;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text.slice(0, 500);
      }
    }
    return { kind: 'answered', status: res.status, body: parsed };
  }

  async function token(): Promise<{ ok: true; token: string } | { ok: false; answer: VippsAnswer }> {
    try {
      return { ok: true, token: await tokens.get() };
    } catch (err) {
      const message = (err as Error).message;
      const retryable = err instanceof VippsTokenError ? err.retryable : true;
      return { ok: false, answer: retryable ? { kind: 'unreachable', reason: message } : { kind: 'credentials', reason: message } };
    }
  }

  return {
    msn: creds.msn,
    async call(method, path, options = {}) {
      const first = await token();
      if (!first.ok) return first.answer;
      const answer = await once(method, path, first.token, options.body, options.idempotencyKey);
      if (answer.kind !== 'answered' || answer.status !== 401) return answer;
      // The token expired early or was revoked: one more try with a fresh one.
      tokens.invalidate(first.token);
      const second = await token();
      if (!second.ok) return second.answer;
      const retried = await once(method, path, second.token, options.body, options.idempotencyKey);
      if (retried.kind === 'answered' && retried.status === 401) {
        return { kind: 'credentials', reason: `Vipps answered 401 to ${method} ${path} with a fresh token: check VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN` };
      }
      return retried;
    },
  };
}

/** A Vipps problem body (RFC 7807) in a few words, for logs and the driver. */
export function describeProblem(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 200);
  if (typeof body !== 'object' || body === null) return 'no details';
  const p = body as { title?: unknown; detail?: unknown; extraDetails?: unknown };
  const parts = [p.title, p.detail].filter((x): x is string => typeof x === 'string' && x.length > 0);
  if (Array.isArray(p.extraDetails)) {
    for (const d of p.extraDetails.slice(0, 3)) {
      if (d && typeof d === 'object' && typeof (d as { reason?: unknown }).reason === 'string') parts.push((d as { reason: string }).reason);
    }
  }
  return parts.length > 0 ? parts.join(': ').slice(0, 300) : 'no details';
}
