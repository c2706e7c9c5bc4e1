/**
 * HitPay (PayNow): no static QR, so the relay creates a payment request with a dynamic QR per
 * attempt (`payments/hitpay-provider.ts`) and HitPay calls `/webhooks/hitpay` when it is paid.
 * Both hook styles are verified with the salt (`hitpay-hmac.ts`) and mapped in `hitpay-hook.ts`.
 */
import type { Logger } from 'pino';
import type { HitpayConfig } from '../config.js';
import { createHitpayProvider } from '../payments/hitpay-provider.js';
import { verifyHitpayHook } from './hitpay-hook.js';
import type { PspAdapter } from './psp-adapter.js';

export const HITPAY_WEBHOOK_PATH = '/webhooks/hitpay';

export interface HitpayAdapterDeps {
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Tests and the sandbox inject their own; defaults to the global fetch. */
  fetch?: typeof fetch;
  now?: () => Date;
  timeoutMs?: number;
}

export function createHitpayAdapter(config: HitpayConfig, deps: HitpayAdapterDeps = {}): PspAdapter {
  return {
    name: 'hitpay',
    webhooks: [
      {
        kind: 'payments',
        path: HITPAY_WEBHOOK_PATH,
        verify: async (request) => verifyHitpayHook(request, config.salt),
      },
    ],
    provider: createHitpayProvider({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      qrTtlSeconds: config.qrTtlSeconds,
      fetch: deps.fetch,
      now: deps.now,
      timeoutMs: deps.timeoutMs,
      logger: deps.logger,
    }),
  };
}
