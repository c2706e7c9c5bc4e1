/** The messages between the relay's main thread and its store writer thread (writer-thread.ts). */
import type { RelayStore } from './relay-store.js';

/** The RelayStore methods that write; everything else reads committed state directly. */
export const WRITE_METHODS = [
  'putCab',
  'setTokenHash',
  'deleteCab',
  'markSeen',
  'appendEvent',
  'recordUnrouted',
  'markAcked',
  'markAckedThrough',
  'prune',
] as const satisfies readonly (keyof RelayStore)[];
export type WriteMethod = (typeof WRITE_METHODS)[number];

export interface WriterRequest {
  id: number;
  method: WriteMethod | 'close';
  args: unknown[];
}

/** Each side sends what one turn of its event loop produced as one message (postMessage is costly). */
export type WriterRequestBatch = WriterRequest[];

export type WriterReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } };

export type WriterReplyBatch = WriterReply[];
