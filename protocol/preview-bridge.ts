/**
 * The preview host's local WebSocket (path `/bridge`), which carries `window.cabpay` to the
 * kiosk core running under Node, for the browser preview. Same core, same snapshots as IPC.
 */
import { z } from 'zod';
import { kioskCommand, type KioskSnapshot } from './kiosk-api.js';
import type { Result } from './result.js';

export const PREVIEW_BRIDGE_PATH = '/bridge';

/** Browser → host. */
export const bridgeRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('command'), id: z.number().int().nonnegative(), command: kioskCommand }),
  z.object({ type: z.literal('getState'), id: z.number().int().nonnegative() }),
]);
export type BridgeRequest = z.infer<typeof bridgeRequest>;

/** Host → browser. A `state` message is pushed on connect and after every change. */
export type BridgeMessage = { type: 'result'; id: number; result: Result<null> } | { type: 'state'; id?: number; snapshot: KioskSnapshot };
