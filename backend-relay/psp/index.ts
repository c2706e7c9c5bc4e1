/** The PSP registry: adding a PSP means adding an adapter here. */
import type { HitpayConfig, ResolvedRelayConfig, VippsConfig } from '../config.js';
import { createHipsProvider } from '../payments/hips-provider.js';
import { createHipsAdapter } from './hips.js';
import type { PspAdapter } from './psp-adapter.js';
import type { PspDeps } from './psp-deps.js';

export type { PspAdapter, WebhookEndpoint, HookVerdict, HookRoute } from './psp-adapter.js';
export type { PspDeps } from './psp-deps.js';

export async function createPspAdapters(config: ResolvedRelayConfig, deps: PspDeps): Promise<PspAdapter[]> {
  const hips = await createHipsAdapter(config.hipsPublicKeyPem);
  if (config.hipsMerchant) hips.provider = createHipsProvider(config.hipsMerchant, { fetch: deps.fetch, logger: deps.logger });
  const adapters: PspAdapter[] = [hips];
  // Vipps hooks can be verified with the secret alone (registered out of band), so the adapter
  // is built when either the full group or just the secret is set.
  if (config.vipps || config.vippsWebhookSecret) {
    const { createVippsAdapter } = (await loadAdapterModule('vipps')) as { createVippsAdapter: AdapterFactory<VippsAdapterConfig> };
    adapters.push(await createVippsAdapter(config.vipps ?? { webhookSecret: config.vippsWebhookSecret! }, deps));
  }
  if (config.hitpay) {
    const { createHitpayAdapter } = (await loadAdapterModule('hitpay')) as { createHitpayAdapter: AdapterFactory<HitpayConfig> };
    adapters.push(await createHitpayAdapter(config.hitpay, deps));
  }
  return adapters;
}

type AdapterFactory<C> = (config: C, deps: PspDeps) => PspAdapter | Promise<PspAdapter>;
/** The full Vipps group, or only the secret of a webhook registered out of band (verify only). */
export type VippsAdapterConfig = VippsConfig | { webhookSecret: string };

/** Loaded only when configured, so a relay without Vipps or HitPay never loads their code. */
async function loadAdapterModule(name: 'vipps' | 'hitpay'): Promise<unknown> {
  // ts-ignore: the Vipps and HitPay adapters are written in parallel; remove once both are committed.
  // @ts-ignore
  if (name === 'vipps') return import('./vipps.js');
  // @ts-ignore
  return import('./hitpay.js');
}
