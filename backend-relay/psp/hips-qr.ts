/**
 * Hips static QRs set up by the relay (`PUT /admin/cabs`), with the merchant key: each of the
 * cab's QR codes is connected (`PATCH /v2/qrs/{qr_code}`; created with `POST /v2/qrs` when Hips
 * does not have it yet) with the relay's `qr_start_webhook_url`, tips allowed, the fleet's
 * timeouts, the plate in its dynamic data, and online while the cab is enabled. A disabled or
 * deleted cab's codes, and codes a cab no longer has, are set offline. Hips documents "Create
 * Static QR Code" and "Connect a Static QR Code" (printed codes are connected by their code).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { HipsMerchantConfig } from '../config.js';

const HIPS_TIMEOUT_MS = 10_000;
export const HIPS_QR_WEBHOOK_PATH = '/webhooks/hips/qr';

const qrAnswer = z.looseObject({ qr_code: z.string(), qr_data: z.string().min(1), status: z.string() });

/** Thrown with words for the admin: what failed and what to do (the PUT answers 502 with it). */
export class HipsProvisionError extends Error {
  override name = 'HipsProvisionError';
}

export interface HipsQrProvisioning {
  /** Connects every code (online when `enabled`); returns the first one's `qr_data` for the tablet. */
  provisionCab(cab: { cabId: string; plate: string; qrCodes: string[]; enabled?: boolean }): Promise<{ qrContent: string | null }>;
  /** Sets each code offline at Hips (a code Hips does not know is already off). */
  retireQrCodes(qrCodes: string[]): Promise<void>;
}

export function createHipsQrProvisioning(config: HipsMerchantConfig, deps: { publicUrl(): string; fetch?: typeof fetch; logger?: Logger }): HipsQrProvisioning {
  const doFetch = deps.fetch ?? fetch;
  const base = config.apiUrl.replace(/\/+$/, '');

  async function call(method: 'POST' | 'PATCH', path: string, body: unknown, what: string): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: { authorization: config.merchantKey, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(HIPS_TIMEOUT_MS),
      });
    } catch (err) {
      throw new HipsProvisionError(`could not ${what}: Hips could not be reached (${(err as Error).message}); try again`);
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text.slice(0, 200);
    }
    if (res.status === 401 || res.status === 403) {
      deps.logger?.error({ status: res.status }, 'Hips refused the merchant key: check HIPS_MERCHANT_KEY');
      throw new HipsProvisionError(`could not ${what}: Hips refused the merchant key (${res.status}); check HIPS_MERCHANT_KEY`);
    }
    return { status: res.status, body: parsed };
  }

  const failed = (what: string, answer: { status: number; body: unknown }) =>
    new HipsProvisionError(`could not ${what}: Hips answered ${answer.status} (${hipsMessage(answer.body)})`);

  async function connect(qrCode: string, settings: Record<string, unknown>, cabId: string): Promise<string> {
    const path = `/v2/qrs/${encodeURIComponent(qrCode)}`;
    const what = `connect the Hips QR ${qrCode} for cab ${cabId}`;
    let answer = await call('PATCH', path, settings, what);
    if (answer.status === 404) {
      const created = await call('POST', '/v2/qrs', { qr_code: qrCode, ...settings }, `create the Hips QR ${qrCode} for cab ${cabId}`);
      // Made by someone else in between: connect that one.
      answer = created.status === 409 ? await call('PATCH', path, settings, what) : created;
    }
    if (answer.status < 200 || answer.status > 299) throw failed(what, answer);
    const qr = qrAnswer.safeParse(answer.body);
    if (!qr.success) throw new HipsProvisionError(`could not ${what}: Hips answered without qr_data`);
    return qr.data.qr_data;
  }

  return {
    async provisionCab(cab) {
      const settings = {
        qr_start_webhook_url: `${deps.publicUrl().replace(/\/+$/, '')}${HIPS_QR_WEBHOOK_PATH}`,
        allow_tip: true,
        order_timeout_seconds: config.orderTimeoutSeconds,
        payment_timeout_seconds: config.paymentTimeoutSeconds,
        asynchronous: false,
        status: cab.enabled === false ? 'offline' : 'online',
        // Hips reposts it with every scan; the payer's page can show which car it is.
        dynamic: { plate: cab.plate },
      };
      let first: string | null = null;
      for (const qrCode of cab.qrCodes) {
        const qrData = await connect(qrCode, settings, cab.cabId);
        first ??= qrData;
      }
      return { qrContent: first };
    },

    async retireQrCodes(qrCodes) {
      for (const qrCode of qrCodes) {
        const what = `set the Hips QR ${qrCode} offline`;
        const answer = await call('PATCH', `/v2/qrs/${encodeURIComponent(qrCode)}`, { status: 'offline' }, what);
        if (answer.status === 404) continue;
        if (answer.status < 200 || answer.status > 299) throw failed(what, answer);
      }
    },
  };
}

/** Hips errors are `{"error": {"type", "message"}}`. */
function hipsMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof message === 'string') return message.slice(0, 300);
  return typeof body === 'string' && body ? body : 'no details';
}
