/**
 * The relay store's writes run on a worker thread with its own SQLite connection
 * (`store-writer.ts`). With synchronous=FULL every commit waits for an fsync; on the main
 * thread that wait blocked every webhook, handshake and socket write behind it (29 % of the
 * main thread's wall time at 2,000 cabs and 700 hooks/s; docs/performance.md). On the writer thread the main thread keeps
 * serving while the disk syncs, and the next group commit gathers what arrived meanwhile.
 *
 * Durability is unchanged: a write's promise settles only after the writer's commit, so a
 * 2xx still means committed. Reads stay on the main thread's connection and see a commit
 * only once it is durable (WAL makes a commit visible after its fsync).
 */
import { Worker } from 'node:worker_threads';
import { FlushSchedule } from './flush-schedule.js';
import {
  isLazyWrite,
  type WriteMethod,
  type WriterReply,
  type WriterRequest,
  type WriterRequestBatch,
  type WriterThreadData,
  RESEND_ALONE,
  packBatch,
  unpackBatch,
  withEchoedData,
  type WriterEnvelope,
} from './store-writer-protocol.js';

/** Bundled (out/relay/main.mjs): the writer's own bundle beside it. From source: through tsx. */
function writerEntry(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./store-writer.dev.mjs', import.meta.url) : new URL('./store-writer.mjs', import.meta.url);
}

export class StoreWriterError extends Error {
  override name = 'StoreWriterError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface WriterThreadOptions {
  /**
   * Called once when the thread fails or exits other than through close(): every write from
   * then on fails, so the relay must stop and be restarted (app.ts, main.ts).
   */
  onFailure?: (err: StoreWriterError) => void;
  /** The fault drill (WriterThreadData.exitOnWrite). */
  exitOnWrite?: WriteMethod;
}

export class WriterThread {
  private readonly worker: Worker;
  /** Each write until its reply; the request is kept to send it again alone (see `RESEND_ALONE`). */
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void; request: WriterRequest; alone: boolean }>();
  private nextId = 1;
  private outgoing: WriterRequestBatch = [];
  private readonly schedule = new FlushSchedule(() => this.flush());
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    dbPath: string,
    private readonly options: WriterThreadOptions = {},
  ) {
    const workerData: WriterThreadData = { dbPath, exitOnWrite: options.exitOnWrite };
    this.worker = new Worker(writerEntry(), { workerData });
    // Referenced only while a write is in flight: an idle writer must not keep a process alive.
    this.worker.unref();
    this.worker.on('message', (envelope: WriterEnvelope) => {
      const replies = unpackBatch<WriterReply>(envelope, (id, reason) => this.refuse(id, reason));
      for (const reply of replies ?? []) {
        if (!reply.ok && reply.error.code === RESEND_ALONE) this.resendAlone(reply.id);
        else this.settle(reply);
      }
    });
    this.worker.on('error', (err: unknown) => {
      const { message, code } = (err ?? {}) as { message?: string; code?: string };
      this.fail(new StoreWriterError(`the relay store's writer thread failed: ${message ?? code ?? String(err)}`, code));
    });
    this.worker.on('exit', (code) => {
      this.fail(
        this.closing
          ? new StoreWriterError('the relay store is closed; this write came after close()')
          : new StoreWriterError(`the relay store's writer thread exited (code ${code}); restart the relay`),
      );
    });
  }

  /** Null while the writer is healthy; the reason every write now fails otherwise. */
  get error(): Error | null {
    return this.failure;
  }

  call(method: WriteMethod | 'close', args: unknown[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing && method !== 'close') return Promise.reject(new StoreWriterError('the relay store is closed; this write came after close()'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      const request: WriterRequest = { id, method, args };
      this.pending.set(id, { resolve, reject, request, alone: false });
      this.send(request);
    });
  }

  /**
   * Requests made in one event-loop turn go as one message after its I/O callbacks (each
   * webhook is a callback of its own): one wake-up of the writer per turn instead of one per
   * write. They would have shared one group commit anyway. Lazy writes (acks) wait for the
   * next such message, or LAZY_FLUSH_MS: an ack arrives in a turn of its own, so each cost a
   * message and a wake-up of the writer. Having waited here, they commit at once there.
   */
  private send(request: WriterRequest): void {
    this.outgoing.push(request);
    this.schedule.queued(isLazyWrite(request.method, request.args));
  }

  private flush(): void {
    this.schedule.flushing();
    const batch = this.outgoing;
    this.outgoing = [];
    if (batch.length === 0 || this.failure) return;
    // A write that cannot be serialized fails alone, with a reason; the rest of its batch goes.
    for (const envelope of packBatch(batch, (id, reason) => this.refuse(id, reason))) this.worker.postMessage(envelope);
  }

  /** The writer could not read a batch: each of its writes goes again on its own, so only the bad one fails. */
  private resendAlone(id: number): void {
    const waiter = this.pending.get(id);
    if (!waiter || this.failure) return;
    if (waiter.alone) {
      this.refuse(id, 'the writer thread could not read it');
      return;
    }
    waiter.alone = true;
    for (const envelope of packBatch([waiter.request], (bad, reason) => this.refuse(bad, reason))) this.worker.postMessage(envelope);
  }

  private refuse(id: number, reason: string): void {
    this.settle({ id, ok: false, error: { message: `the relay store refused this write: ${reason}`, code: 'unserializable' } });
  }

  /** Commits what is queued, closes the writer's connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) await this.call('close', []);
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private settle(reply: WriterReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve(withEchoedData(waiter.request, reply.value));
    else waiter.reject(new StoreWriterError(reply.error.message, reply.error.code));
  }

  private fail(err: StoreWriterError): void {
    const first = this.failure === null;
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
    if (first && !this.closing) this.options.onFailure?.(err);
  }
}
