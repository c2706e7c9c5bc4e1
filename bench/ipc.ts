/**
 * Messages between the bench runner and its tablet worker processes (Node IPC), validated
 * with zod on both sides so a mismatch fails loudly instead of skewing the figures.
 */
import { z } from 'zod';

export const cabCredential = z.object({ cabId: z.string().min(1), token: z.string().min(1) });
export type CabCredential = z.infer<typeof cabCredential>;

/** One event the simulated tablet applied (first delivery of its id, in seq order). */
export const receipt = z.object({
  /** The hook's own key: sessionId for QR sessions, merchantOrderId for orders. */
  key: z.string(),
  cabId: z.string(),
  id: z.string(),
  seq: z.number().int(),
  /** Epoch ms with sub-ms precision (performance.timeOrigin + performance.now()). */
  at: z.number(),
});
export type Receipt = z.infer<typeof receipt>;

export const workerCounters = z.object({
  connected: z.number().int(),
  /** The same event id delivered again (after a lost ack or a reconnect): acked, not applied. */
  redeliveries: z.number().int(),
  /** An event whose seq was not lastSeq + 1: left unacked, as the kiosk does. */
  gaps: z.number().int(),
  /** Events ignored on purpose while `dropEvents` was on (the storm's queued backlog). */
  dropped: z.number().int(),
  connectErrors: z.number().int(),
  /** Cabs whose lastSeq reached the target set by `expectSeqs`. */
  synced: z.number().int(),
});
export type WorkerCounters = z.infer<typeof workerCounters>;

export const toWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('connect'), url: z.string(), cabs: z.array(cabCredential), concurrency: z.number().int().positive() }),
  z.object({ type: z.literal('dropEvents'), on: z.boolean() }),
  /** The seq each cab must reach to count as resynced (the storm phase). */
  z.object({ type: z.literal('expectSeqs'), seqs: z.record(z.string(), z.number().int()) }),
  z.object({ type: z.literal('report') }),
  z.object({ type: z.literal('close') }),
]);
export type ToWorker = z.infer<typeof toWorker>;

export const fromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('connected'), counters: workerCounters }),
  z.object({ type: z.literal('report'), receipts: z.array(receipt), counters: workerCounters }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);
export type FromWorker = z.infer<typeof fromWorker>;
