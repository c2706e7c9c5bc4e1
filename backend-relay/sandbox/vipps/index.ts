/**
 * The Vipps MobilePay part of the PSP sandbox: registers its routes on the sandbox's Fastify app,
 * keeps its state in the same SQLite file (`vipps_` tables) and stops with the app.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DeadlineTimers } from '../deadline-timers.js';
import type { SandboxConfig } from '../sandbox-config.js';
import type { SandboxStore } from '../store.js';
import { VippsDeliverer } from './delivery.js';
import { EPaymentFlow } from './epayment.js';
import { VippsFaults } from './faults.js';
import { registerVippsRoutes } from './routes.js';
import { defaultVippsSettings, VIPPS_DEMO_CREDENTIALS, type VippsCredentials } from './settings.js';
import { VippsStore } from './store.js';

export { signVippsRequest } from './hmac.js';
export * from './settings.js';

export interface VippsSandboxDeps {
  store: SandboxStore;
  config: SandboxConfig;
  log: Logger;
  credentials?: VippsCredentials;
}

export function registerVippsSandbox(app: FastifyInstance, deps: VippsSandboxDeps): void {
  const store = new VippsStore(deps.store.db);
  const settings = defaultVippsSettings();
  const faults = new VippsFaults();
  const timers = new DeadlineTimers();
  const shutdown = new AbortController();
  const deliverer = new VippsDeliverer(store, faults, () => settings, deps.log);
  const payments = new EPaymentFlow({ store, deliverer, timers, settings: () => settings, publicUrl: () => deps.config.publicUrl });
  registerVippsRoutes(app, {
    store,
    deliverer,
    payments,
    faults,
    settings,
    credentials: deps.credentials ?? VIPPS_DEMO_CREDENTIALS,
    config: deps.config,
    shutdown: shutdown.signal,
  });
  // Resume what the last run left: expiry deadlines and undelivered webhooks.
  app.addHook('onListen', async () => {
    payments.rearm();
    deliverer.resumePending();
  });
  app.addHook('onClose', async () => {
    shutdown.abort();
    timers.close();
    await deliverer.close();
  });
}
