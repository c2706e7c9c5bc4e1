/** The kiosk core's entry point: no `electron` import here or below. */
export { createKioskCore, type KioskCoreOptions } from './core.js';
export type { KioskCore } from './kiosk-core.js';
export { kioskConfigSchema, loadKioskConfig, type KioskConfig } from './config.js';
export { nextDelay, classifyResponse } from './backoff.js';
