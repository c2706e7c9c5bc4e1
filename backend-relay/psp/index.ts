/** The PSP registry: adding a PSP means adding an adapter here. */
import type { ResolvedRelayConfig } from '../config.js';
import { createHipsAdapter } from './hips.js';
import type { PspAdapter } from './psp-adapter.js';

export type { PspAdapter, WebhookEndpoint, HookVerdict, HookRoute } from './psp-adapter.js';

export async function createPspAdapters(config: ResolvedRelayConfig): Promise<PspAdapter[]> {
  return [await createHipsAdapter(config.hipsPublicKeyPem)];
}
