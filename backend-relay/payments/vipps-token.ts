/**
 * Vipps MobilePay access tokens (`POST /accesstoken/get`): one token shared by every call,
 * fetched again shortly before it expires, and by one caller at a time (concurrent calls wait
 * for the same fetch). A 401 from an API call drops the token so the retry fetches a fresh one.
 */
import { z } from 'zod';

export interface VippsCredentials {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  msn: string;
}

/** Sent with every call so Vipps can tell which integration it is (their HTTP-headers guide). */
export const VIPPS_SYSTEM_HEADERS = { 'Vipps-System-Name': 'cabpay', 'Vipps-System-Version': '0.1.0' } as const;

/** Refresh this long before the stated expiry, so a token never expires in flight. */
const EXPIRY_MARGIN_MS = 60_000;
const TOKEN_TIMEOUT_MS = 10_000;

const tokenResponse = z.object({
  access_token: z.string().min(1),
  // Vipps sends seconds as a string ("3600"); accept a number too.
  expires_in: z.coerce.number().int().positive(),
});

/** Why no token could be had: `retry` for a network fault or a 5xx/429, else the credentials are wrong. */
export class VippsTokenError extends Error {
  override name = 'VippsTokenError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface VippsTokenSource {
  /** A valid token, from the cache or one fetch shared by all concurrent callers. */
  get(): Promise<string>;
  /** Drops `token` if it is still the cached one (an API call answered 401 with it). */
  invalidate(token: string): void;
}

export function createVippsTokenSource(creds: VippsCredentials, options: { fetch?: typeof fetch; now?: () => number } = {}): VippsTokenSource {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let cached: { token: string; refreshAt: number } | null = null;
  let inFlight: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    let res: Response;
    try {
      res = await doFetch(new URL('/accesstoken/get', creds.baseUrl), {
        method: 'POST',
        headers: {
          client_id: creds.clientId,
          client_secret: creds.clientSecret,
          'Ocp-Apim-Subscription-Key': creds.subscriptionKey,
          'Merchant-Serial-Number': creds.msn,
          ...VIPPS_SYSTEM_HEADERS,
        },
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (err) {
      throw new VippsTokenError(`the Vipps access token could not be fetched (${(err as Error).message})`, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const retryable = res.status >= 500 || res.status === 429;
      throw new VippsTokenError(
        retryable
          ? `Vipps answered ${res.status} to the access token request`
          : `Vipps refused the access token request (${res.status}): check VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN`,
        retryable,
      );
    }
    let parsed: z.infer<typeof tokenResponse>;
    try {
      parsed = tokenResponse.parse(JSON.parse(text));
    } catch {
      throw new VippsTokenError('the Vipps access token answer has no access_token and expires_in', true);
    }
    const lifetimeMs = parsed.expires_in * 1000;
    // Short-lived tokens (tests) keep at least half their life in use.
    const margin = Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    cached = { token: parsed.access_token, refreshAt: now() + lifetimeMs - margin };
    return parsed.access_token;
  }

  return {
    get() {
      if (cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
      inFlight ??= fetchToken().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = null;
    },
  };
}
