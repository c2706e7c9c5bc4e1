/** The messages between the relay's main thread and its store writer thread (writer-thread.ts). */
import { deserialize, serialize } from 'node:v8';
import type { NewEvent, RelayStore, StoredEvent } from './relay-store.js';

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

export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string; code?: string } };

export type WriterReplyBatch = WriterReply[];

/**
 * What crosses between the threads: the ids in the open, the batch serialized. postMessage
 * serializes on one side and deserializes on the other where nobody can catch a failure: a
 * value too deep for the sender threw out of a timer (the process died), one too deep for the
 * receiver was dropped (its writes never settled). Here either failure settles the ids it
 * concerns with an error.
 */
export interface WriterEnvelope {
  ids: number[];
  payload: Uint8Array;
}

/**
 * Packs what can be packed. When the batch as a whole cannot be serialized, each item is tried
 * alone; `refused` gets the ids that cannot, with the reason.
 */
export function packBatch<T extends { id: number }>(batch: T[], refused: (id: number, reason: string) => void): WriterEnvelope[] {
  try {
    return [{ ids: batch.map((item) => item.id), payload: serialize(batch) }];
  } catch (err) {
    if (batch.length === 1) {
      refused(batch[0]!.id, `it cannot be passed between the relay's threads (${(err as Error).message})`);
      return [];
    }
    return batch.flatMap((item) => packBatch([item], refused));
  }
}

/** The writer's answer for each write of a batch it could not read: send it again alone. */
export const RESEND_ALONE = 'resend_alone';

/** The batch, or null after `refused` was told about every id in it. */
export function unpackBatch<T>(envelope: WriterEnvelope, refused: (id: number, reason: string) => void): T[] | null {
  try {
    return deserialize(envelope.payload) as T[];
  } catch (err) {
    for (const id of envelope.ids) refused(id, `it could not be read on the other side of the relay's threads (${(err as Error).message})`);
    return null;
  }
}

type AppendResult = Awaited<ReturnType<RelayStore['appendEvent']>>;

/**
 * A stored event's data is the caller's own, so it does not travel back from the writer: it
 * would be serialized twice more for nothing, and the sender put it back from its request.
 */
export function withoutEchoedData(method: string, value: unknown): unknown {
  if (method !== 'appendEvent') return value;
  const result = value as AppendResult;
  return result.status === 'stored' ? { ...result, event: { ...result.event, data: undefined } } : result;
}

export function withEchoedData(request: WriterRequest, value: unknown): unknown {
  if (request.method !== 'appendEvent') return value;
  const result = value as AppendResult;
  if (result.status !== 'stored') return result;
  const event: StoredEvent = { ...result.event, data: (request.args[0] as NewEvent).data };
  return { ...result, event };
}
