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

/**
 * Bookkeeping nobody waits on: acks (a tablet's handshake lastSeq re-acks anything a crash
 * forgets), one per delivered event, and the status a tablet reports (`markSeen` with a
 * status; the plain `markSeen` of a new connection stays eager, liveness depends on it).
 * They do not start a commit, nor a message to the writer thread, of their own: they ride
 * along with the next one, or go after LAZY_FLUSH_MS at the latest. Their promises still
 * settle only after their commit.
 */
export const isLazyWrite = (name: string, args: unknown[]) => name === 'markAcked' || (name === 'markSeen' && args[2] !== undefined);
export const LAZY_FLUSH_MS = 20;

/** What the writer thread starts with (its workerData). */
export interface WriterThreadData {
  dbPath: string;
  /**
   * A fault drill (RELAY_DEBUG_WRITER_EXIT_ON, never in production): the thread ends, as a
   * crash would, when asked for this write, leaving it uncommitted and unanswered.
   */
  exitOnWrite?: WriteMethod;
}
/** The writer thread's exit code in the fault drill. */
export const DRILL_EXIT_CODE = 70;

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
