/** The PSP registry: adding a PSP means adding an adapter here. */
import type { ResolvedRelayConfig } from '../config.js';
import { createHipsProvider } from '../payments/hips-provider.js';
import { HIPS_REPLAY_WINDOW_MS, createHipsAdapter } from './hips.js';
import { createHipsQrProvisioning } from './hips-qr.js';
import type { PspAdapter } from './psp-adapter.js';
import type { PspDeps } from './psp-deps.js';
import { VIPPS_HOOK_MAX_SKEW_MS } from './vipps-hmac.js';

export type { PspAdapter, WebhookEndpoint, HookVerdict, HookRoute } from './psp-adapter.js';
export type { PspDeps } from './psp-deps.js';

/**
 * The longest time after its first arrival that any PSP's hook could still verify: a Hips token's
 * lifetime, a Vipps date header's skew either way. HitPay's form hooks carry no time at all;
 * their replays are bounded by the payment row (a final row ignores updates), not by time.
 */
export const HOOK_REPLAY_WINDOW_MS = Math.max(HIPS_REPLAY_WINDOW_MS, 2 * VIPPS_HOOK_MAX_SKEW_MS);

export async function createPspAdapters(config: ResolvedRelayConfig, deps: PspDeps): Promise<PspAdapter[]> {
  const hips = await createHipsAdapter(config.hipsPublicKeyPem);
  if (config.hipsMerchant) {
    hips.provider = createHipsProvider(config.hipsMerchant, { fetch: deps.fetch, logger: deps.logger, timeoutMs: deps.timeoutMs });
    const qrs = createHipsQrProvisioning(config.hipsMerchant, { publicUrl: deps.publicUrl, fetch: deps.fetch, logger: deps.logger });
    hips.provisionCab = (cab) => qrs.provisionCab(cab);
    hips.retireQrCodes = (codes) => qrs.retireQrCodes(codes);
  }
  const adapters: PspAdapter[] = [hips];
  // Loaded only when configured. Vipps hooks can be verified with the secret alone (a webhook
  // registered out of band), so its adapter is built when either the group or the secret is set.
  if (config.vipps || config.vippsWebhookSecret) {
    const { createVippsAdapter } = await import('./vipps.js');
    adapters.push(createVippsAdapter(config.vipps ?? { webhookSecret: config.vippsWebhookSecret }, deps));
  }
  if (config.hitpay) {
    const { createHitpayAdapter } = await import('./hitpay.js');
    adapters.push(createHitpayAdapter(config.hitpay, { logger: deps.logger, fetch: deps.fetch, timeoutMs: deps.timeoutMs }));
  }
  return adapters;
}
