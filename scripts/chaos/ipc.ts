/**
 * The messages between the chaos harness and a kiosk core process (Node IPC, JSON).
 * Commands go in, snapshots and command results come out.
 */
import { z } from 'zod';
import { kioskCommand, type KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { Result } from '../../protocol/result.js';

export const toKiosk = z.discriminatedUnion('type', [
  z.object({ type: z.literal('command'), id: z.number().int(), command: kioskCommand }),
  /** A clean stop (SIGTERM does the same); a crash is a SIGKILL from the harness. */
  z.object({ type: z.literal('stop') }),
]);
export type ToKiosk = z.infer<typeof toKiosk>;

export type FromKiosk =
  | { type: 'ready'; pid: number }
  | { type: 'state'; snapshot: KioskSnapshot }
  | { type: 'result'; id: number; result: Result<null> }
  | { type: 'fatal'; message: string };
