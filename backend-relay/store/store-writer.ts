/**
 * The store writer thread (see writer-thread.ts): its own connection to the relay database,
 * the store's write methods group-committed there, one reply per write after its commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openRelayDatabase, openSqliteRelayStore } from './sqlite-store.js';
import {
  DRILL_EXIT_CODE,
  WRITE_METHODS,
  type WriteMethod,
  type WriterReply,
  type WriterReplyBatch,
  type WriterRequest,
  type WriterThreadData,
  RESEND_ALONE,
  packBatch,
  unpackBatch,
  withoutEchoedData,
  type WriterEnvelope,
} from './store-writer-protocol.js';

const port = parentPort;
if (!port) throw new Error('store-writer runs as a worker thread of the relay (writer-thread.ts)');
const { dbPath, exitOnWrite } = z
  .object({ dbPath: z.string().min(1), exitOnWrite: z.enum(WRITE_METHODS).optional() })
  .parse(workerData) satisfies WriterThreadData;

// The main thread has migrated the database already; this connection only writes.
const store = (() => {
  try {
    return openSqliteRelayStore(openRelayDatabase(dbPath, { migrate: false }), { writerThread: false, lazyWritesAlreadyHeld: true });
  } catch (err) {
    // better-sqlite3's SqliteError loses its message crossing threads; a plain Error keeps it.
    // eslint-disable-next-line preserve-caught-error -- the cause is what cannot cross; its text is in the message
    throw new Error(`cannot open ${dbPath}: ${describe(err)}`);
  }
})();
const writes = new Set<string>(WRITE_METHODS);

let replies: WriterReplyBatch = [];
/** Replies settled in one turn (one group commit's writes) go back as one message. */
function reply(r: WriterReply): void {
  replies.push(r);
  if (replies.length > 1) return;
  queueMicrotask(() => {
    const batch = replies;
    replies = [];
    // A value that cannot go back is answered with an error instead (the write did commit).
    const unsendable = (id: number, reason: string) => {
      for (const envelope of packBatch(
        [{ id, ok: false, error: { message: `the write committed, but its result ${reason}`, code: 'unserializable' } }],
        () => {},
      ))
        port!.postMessage(envelope);
    };
    for (const envelope of packBatch(batch, unsendable)) port!.postMessage(envelope);
  });
}

function handle(request: WriterRequest): void {
  // In a worker thread, process.exit ends the thread only.
  if (request.method === exitOnWrite) process.exit(DRILL_EXIT_CODE);
  const failed = (err: unknown) => reply({ id: request.id, ok: false, error: { message: describe(err), code: (err as { code?: string }).code } });
  if (request.method === 'close') {
    store.close().then(() => reply({ id: request.id, ok: true, value: undefined }), failed);
    return;
  }
  if (!writes.has(request.method)) {
    failed(new Error(`"${String(request.method)}" is not a relay store write`));
    return;
  }
  const write = store[request.method as WriteMethod] as (...args: unknown[]) => Promise<unknown>;
  write.apply(store, request.args).then((value) => reply({ id: request.id, ok: true, value: withoutEchoedData(request.method, value) }), failed);
}

port.on('message', (envelope: WriterEnvelope) => {
  // Unreadable: one write alone is refused; a batch's writes are sent again one by one, so the
  // others in it still commit.
  const alone = envelope.ids.length === 1;
  const batch = unpackBatch<WriterRequest>(envelope, (id, reason) =>
    reply({
      id,
      ok: false,
      error: alone ? { message: `the relay store refused this write: ${reason}`, code: 'unserializable' } : { message: reason, code: RESEND_ALONE },
    }),
  );
  for (const request of batch ?? []) handle(request);
});

function describe(err: unknown): string {
  const { message, code } = (err ?? {}) as { message?: string; code?: string };
  return [code, message ?? String(err)].filter(Boolean).join(': ');
}
