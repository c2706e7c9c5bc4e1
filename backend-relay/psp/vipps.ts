/**
 * Vipps MobilePay (docs/relay.md, Vipps MobilePay): merchant-callback QRs on the cabs, one HMAC-signed
 * webhook at `/webhooks/vipps` for check-ins and ePayment events, and relay-made payments.
 * With only a webhook secret configured (registered out of band) the adapter verifies hooks
 * and makes no calls; with the API keys it also registers the webhook, provisions QRs and pays.
 */
import { parseBoundedJson } from '../bounded-json.js';
import { createVippsClient, describeProblem, type VippsClient } from '../payments/vipps-client.js';
import { createVippsProvider } from '../payments/vipps-provider.js';
import { z } from 'zod';
import type { PspAdapter } from './psp-adapter.js';
import type { PspDeps } from './psp-deps.js';
import { mapVippsHook } from './vipps-events.js';
import { verifyVippsHmac } from './vipps-hmac.js';
import { ensureVippsWebhook, storedVippsWebhook, type StoredVippsWebhook } from './vipps-webhook-registration.js';

export const VIPPS_WEBHOOK_PATH = '/webhooks/vipps';
/** What the Vipps app shows after a scan; the QR API refuses longer text. */
export const VIPPS_LOCATION_MAX = 36;
/** Waits between registration attempts after a failed start; the last repeats. */
const REGISTER_RETRY_MS = [5_000, 15_000, 60_000, 300_000];

/** The full API group, or only the secret of a webhook registered out of band (verify only). */
export interface VippsAdapterConfig {
  baseUrl?: string;
  clientId?: string;
  clientSecret?: string;
  subscriptionKey?: string;
  msn?: string;
  webhookSecret?: string;
  preauthorize?: boolean;
  /** How long a pushed payment waits for the passenger (VIPPS_PAYMENT_TTL_S). */
  paymentTtlSeconds?: number;
}

export type VippsAdapterDeps = Pick<PspDeps, 'logger' | 'publicUrl' | 'fetch' | 'timeoutMs'> & {
  meta: { get(key: string): Promise<string | null> | string | null; set(key: string, value: string): Promise<void> | void };
  /** Waits between registration attempts after a failed start (tests shorten them). */
  registerRetryMs?: readonly number[];
};

const qrAnswer = z.object({ qrContent: z.string().min(1) });

export function createVippsAdapter(config: VippsAdapterConfig, deps: VippsAdapterDeps): PspAdapter {
  const logger = deps.logger.child({ psp: 'vipps' });
  const { baseUrl, clientId, clientSecret, subscriptionKey, msn } = config;
  const client: VippsClient | null =
    baseUrl && clientId && clientSecret && subscriptionKey && msn
      ? createVippsClient({ baseUrl, clientId, clientSecret, subscriptionKey, msn }, { fetch: deps.fetch, timeoutMs: deps.timeoutMs })
      : null;
  let registered: StoredVippsWebhook | null = null;
  let storedAtBoot: Promise<StoredVippsWebhook | null> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let stopped = false;

  /**
   * The secret to verify with: the registration start() confirmed, else the one a previous run
   * stored for this URL. Only Vipps and this relay ever saw it, so hooks arriving while start()
   * is still talking to Vipps (or retrying) after a restart verify instead of getting 401.
   */
  async function knownWebhook(hookUrl: string): Promise<StoredVippsWebhook | null> {
    if (registered) return registered;
    storedAtBoot ??= Promise.resolve()
      .then(() => storedVippsWebhook(deps.meta))
      .catch(() => null);
    const stored = await storedAtBoot;
    return stored && stored.url === hookUrl ? stored : null;
  }

  async function register(hookUrl: string, attempt: number): Promise<void> {
    if (!client) return;
    try {
      const { webhook, reused, deleted } = await ensureVippsWebhook(client, deps.meta, hookUrl);
      registered = webhook;
      // The id and URL only: the secret is never logged.
      logger.info({ webhookId: webhook.id, url: hookUrl, reused, deletedStale: deleted }, reused ? 'vipps webhook reused' : 'vipps webhook registered');
    } catch (err) {
      const acceptingHooks = config.webhookSecret !== undefined || (await knownWebhook(hookUrl)) !== null;
      if (stopped) return;
      const waits = deps.registerRetryMs ?? REGISTER_RETRY_MS;
      const waitMs = waits[Math.min(attempt, waits.length - 1)]!;
      logger.error(
        { err: (err as Error).message, url: hookUrl, retryInMs: waitMs, acceptingHooks },
        'vipps webhook registration failed; retrying in the background (until then hooks verify only with a stored registration or VIPPS_WEBHOOK_SECRET)',
      );
      retryTimer = setTimeout(() => {
        retryTimer = null;
        void register(hookUrl, attempt + 1);
      }, waitMs);
      retryTimer.unref();
    }
  }

  return {
    name: 'vipps',
    webhooks: [
      {
        kind: 'events',
        path: VIPPS_WEBHOOK_PATH,
        verify: async (request, now) => {
          let base: URL;
          try {
            base = new URL(deps.publicUrl());
          } catch {
            return { verdict: 'unauthenticated', message: 'RELAY_PUBLIC_URL is not set, so Vipps signatures (which cover its host) cannot be checked' };
          }
          const known = client ? await knownWebhook(`${deps.publicUrl().replace(/\/+$/, '')}${VIPPS_WEBHOOK_PATH}`) : null;
          const secrets = [config.webhookSecret, known?.secret].filter((s): s is string => typeof s === 'string' && s.length > 0);
          // Vipps signs the path it called; a public URL with a path prefix (behind a proxy) is part of it.
          const prefix = base.pathname.replace(/\/+$/, '');
          const check = verifyVippsHmac({ ...request, pathAndQuery: prefix + request.pathAndQuery }, secrets, base.host, now);
          if (!check.ok) return { verdict: 'unauthenticated', message: check.message };
          // The verified bytes themselves, whatever content type they came with.
          const body = parseBoundedJson(request.rawBody.toString('utf8'));
          if (!body.ok) return { verdict: 'malformed', message: `the Vipps webhook body is refused: ${body.error.message}` };
          return mapVippsHook(body.value, msn);
        },
      },
    ],
    ...(client
      ? {
          provider: createVippsProvider(client, { preauthorize: config.preauthorize ?? false, paymentTtlSeconds: config.paymentTtlSeconds }),
          provisionCab: (cab: { cabId: string; plate: string; qrCodes: string[] }) => provisionCab(client, cab, logger),
          start: async (relayPublicUrl: string) => {
            if (retryTimer) clearTimeout(retryTimer);
            await register(`${relayPublicUrl.replace(/\/+$/, '')}${VIPPS_WEBHOOK_PATH}`, 0);
          },
          stop: () => {
            // A retry after close would write to a closed store.
            stopped = true;
            if (retryTimer) clearTimeout(retryTimer);
            retryTimer = null;
          },
        }
      : {}),
  };
}

/** Thrown by provisionCab with words for the admin: what failed and what to do. */
export class VippsProvisionError extends Error {
  override name = 'VippsProvisionError';
  constructor(
    message: string,
    /** 502: Vipps refused or is unreachable; 400: the input cannot work. */
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/**
 * Creates or updates each merchant-callback QR (`merchantQrId` = the cab's QR code) with the
 * plate as its location text, and returns the first one's `qrContent` for the tablet to show.
 */
export async function provisionCab(
  client: VippsClient,
  cab: { cabId: string; plate: string; qrCodes: string[] },
  logger?: { warn(obj: object, msg: string): void },
): Promise<{ qrContent: string | null }> {
  const location = vippsLocationDescription(cab.plate);
  if (location !== cab.plate.trim() && logger) {
    logger.warn({ cabId: cab.cabId, plate: cab.plate, locationDescription: location }, `plate cut to ${VIPPS_LOCATION_MAX} characters for the Vipps QR`);
  }
  let first: string | null = null;
  for (const qrId of cab.qrCodes) {
    const path = `/qr/v1/merchant-callback/${encodeURIComponent(qrId)}`;
    const put = await client.call('PUT', path, { body: { locationDescription: location } });
    if (put.kind !== 'answered' || put.status < 200 || put.status >= 300) throw provisionFailure(`create the Vipps QR ${qrId} for cab ${cab.cabId}`, put);
    const got = await client.call('GET', path);
    if (got.kind !== 'answered' || got.status !== 200) throw provisionFailure(`read back the Vipps QR ${qrId}`, got);
    const parsed = qrAnswer.safeParse(got.body);
    if (!parsed.success) throw new VippsProvisionError(`Vipps returned no qrContent for QR ${qrId}`, 502);
    first ??= parsed.data.qrContent;
  }
  return { qrContent: first };
}

/** The plate as the QR's location text: trimmed, and cut to 36 UTF-16 units (never inside a character). */
export function vippsLocationDescription(plate: string): string {
  const trimmed = plate.trim();
  if (trimmed.length === 0) throw new VippsProvisionError('the plate is empty; Vipps shows it after a scan, so give the cab one', 400);
  let out = '';
  for (const ch of trimmed) {
    if (out.length + ch.length > VIPPS_LOCATION_MAX) break;
    out += ch;
  }
  return out.trim();
}

function provisionFailure(what: string, answer: Awaited<ReturnType<VippsClient['call']>>): VippsProvisionError {
  if (answer.kind === 'answered') {
    return new VippsProvisionError(`could not ${what}: Vipps answered ${answer.status} (${describeProblem(answer.body)})`, 502);
  }
  return new VippsProvisionError(`could not ${what}: ${answer.reason}; try again`, 502);
}
