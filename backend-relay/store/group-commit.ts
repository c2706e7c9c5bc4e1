/**
 * Group commit: with synchronous=FULL every SQLite commit waits for an fsync (milliseconds on
 * real disks), so one transaction per webhook and per ack caps the relay at a few hundred
 * writes a second. This wrapper queues the store's writes and runs everything queued within
 * one event-loop turn in a single transaction, one fsync for all of them.
 *
 * Durability is unchanged: each write's promise settles only after the shared commit, so a
 * 2xx still means committed. Each write keeps its own atomicity: the store's own
 * `db.transaction` calls become savepoints inside the shared one, so a failing write rolls
 * back alone and rejects only its own promise.
 */
import type Database from 'better-sqlite3';
import type { RelayStore } from './relay-store.js';
import { FlushSchedule } from './flush-schedule.js';
import { isLazyWrite, WRITE_METHODS } from './store-writer-protocol.js';

/** A commit this slow held every webhook in its batch; worth a log line (the disk's fsync). */
export const SLOW_COMMIT_MS = 100;
/**
 * A batch this full commits at the next microtask checkpoint instead of waiting for
 * setImmediate. Under a flood of I/O (a reconnect storm of thousands of tablets) libuv's poll
 * phase can run for seconds before the check phase: every handshake then waited for one
 * giant commit at the end, and no tablet was resynced until all of them were.
 */
export const MAX_BATCH_WRITES = 256;

interface QueuedWrite {
  run: () => Promise<unknown>;
  resolve: (value: Promise<unknown>) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private readonly schedule = new FlushSchedule(() => this.flush());
  private fullBatchScheduled = false;
  /** Transactions committed and writes they carried, for metrics and tests. */
  readonly stats = { commits: 0, writes: 0, slowCommits: 0, maxCommitMs: 0 };

  constructor(
    private readonly db: Database.Database,
    private readonly onSlowCommit: (ms: number, writes: number) => void = reportSlowCommit,
  ) {}

  /**
   * Queues a write. `run` must do its database work synchronously (better-sqlite3 does) and
   * may report its outcome as a promise; that outcome is passed on only after the commit.
   */
  enqueue<T>(run: () => Promise<T>, options: { lazy?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: Promise<unknown>) => void, reject });
      this.schedule.queued(options.lazy ?? false);
      if (this.queue.length >= MAX_BATCH_WRITES && !this.fullBatchScheduled) {
        this.fullBatchScheduled = true;
        // A microtask, not a synchronous flush: the caller may be inside a transaction of its own.
        queueMicrotask(() => {
          this.fullBatchScheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Runs the queued writes in one transaction now. */
  flush(): void {
    this.schedule.flushing();
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Promise<unknown>[] = [];
    const started = performance.now();
    try {
      // IMMEDIATE: the relay's main connection writes too (payments, rollouts); a deferred
      // transaction that read first could not take the write lock after its commit.
      this.db
        .transaction(() => {
          for (const write of batch) {
            let outcome: Promise<unknown>;
            try {
              outcome = write.run();
            } catch (err) {
              outcome = Promise.reject(err);
            }
            outcome.catch(() => {}); // observed below, after the commit
            outcomes.push(outcome);
          }
        })
        .immediate();
    } catch (err) {
      // The commit itself failed: nothing in the batch is durable.
      for (const write of batch) write.reject(err);
      return;
    }
    const ms = performance.now() - started;
    this.stats.commits++;
    this.stats.writes += batch.length;
    this.stats.maxCommitMs = Math.max(this.stats.maxCommitMs, ms);
    if (ms >= SLOW_COMMIT_MS) {
      this.stats.slowCommits++;
      this.onSlowCommit(ms, batch.length);
    }
    batch.forEach((write, i) => write.resolve(outcomes[i]!));
  }
}

/**
 * The store has no logger; this line has the relay's pino shape (level 40 = warn) so log
 * tooling and the benchmark pick it up from the same output.
 */
function reportSlowCommit(ms: number, writes: number): void {
  process.stderr.write(
    `${JSON.stringify({ level: 40, time: new Date().toISOString(), service: 'relay', commitMs: Math.round(ms), writes, msg: 'slow SQLite commit: the disk held every write in this batch' })}\n`,
  );
}

/**
 * Routes the store's own write methods through a GroupCommit on its connection (installed
 * by the store's constructor). Reads stay direct: they only ever see committed state, since
 * a batch runs synchronously from begin to commit. `holdLazyWrites: false` where the sender
 * already held them (the writer thread's store).
 */
export function installGroupCommit(db: Database.Database, store: RelayStore, options: { holdLazyWrites: boolean } = { holdLazyWrites: true }): GroupCommit {
  const group = new GroupCommit(db);
  const writable = store as unknown as Record<string, unknown>;
  for (const name of WRITE_METHODS) {
    const write = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    writable[name] = (...args: unknown[]) => group.enqueue(() => write(...args), { lazy: options.holdLazyWrites && isLazyWrite(name, args) });
  }
  // Closing must not strand queued writes: commit them first.
  const close = store.close.bind(store);
  writable.close = async () => {
    group.flush();
    await close();
  };
  return group;
}
