/** The runner's side of the tablet workers: spread the cabs over processes, gather receipts. */
import type { ChildProcess } from 'node:child_process';
import { exited, spawnNode } from './spawn.js';
import { fromWorker, type CabCredential, type FromWorker, type Receipt, type ToWorker, type WorkerCounters } from './ipc.js';

const CABS_PER_WORKER = 2_500;

interface Worker {
  child: ChildProcess;
  waiting: ((m: FromWorker) => void)[];
}

export interface FleetReport {
  receipts: Receipt[];
  counters: WorkerCounters;
}

export class TabletFleet {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts enough workers for `cabCount` tablets (at least one, at most one per 2,500). */
  static async start(cabCount: number): Promise<TabletFleet> {
    const n = Math.max(1, Math.ceil(cabCount / CABS_PER_WORKER));
    const workers = await Promise.all(Array.from({ length: n }, () => startWorker()));
    return new TabletFleet(workers);
  }

  /** Connects every cab; resolves once each tablet's first attempt has succeeded or failed. */
  async connect(url: string, cabs: CabCredential[]): Promise<WorkerCounters> {
    const shares = this.workers.map((_, i) => cabs.filter((__, j) => j % this.workers.length === i));
    const answers = await Promise.all(this.workers.map((w, i) => ask(w, { type: 'connect', url, cabs: shares[i]!, concurrency: 100 }, 'connected')));
    return sumCounters(answers.map((a) => a.counters));
  }

  broadcast(message: ToWorker): void {
    for (const w of this.workers) w.child.send(message);
  }

  /** Splits the expected seqs over the workers (each ignores cabs it does not hold). */
  expectSeqs(seqs: Map<string, number>): void {
    this.broadcast({ type: 'expectSeqs', seqs: Object.fromEntries(seqs) });
  }

  /** Receipts since the last report, and the current counters. */
  async report(): Promise<FleetReport> {
    const answers = await Promise.all(this.workers.map((w) => ask(w, { type: 'report' }, 'report')));
    return {
      receipts: answers.flatMap((a) => a.receipts),
      counters: sumCounters(answers.map((a) => a.counters)),
    };
  }

  async close(): Promise<void> {
    for (const w of this.workers) if (w.child.connected) w.child.send({ type: 'close' } satisfies ToWorker);
    await Promise.race([Promise.all(this.workers.map((w) => exited(w.child))), new Promise((r) => setTimeout(r, 5_000))]);
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

function startWorker(): Promise<Worker> {
  const child = spawnNode('bench/tablet-worker.ts', { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const worker: Worker = { child, waiting: [] };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a tablet worker exited with code ${code} before it was ready`)));
    child.on('message', (raw: unknown) => {
      const parsed = fromWorker.safeParse(raw);
      if (!parsed.success) throw new Error(`unreadable message from a tablet worker: ${parsed.error.message}`);
      const m = parsed.data;
      if (m.type === 'ready') resolve(worker);
      else if (m.type === 'fatal') throw new Error(`tablet worker: ${m.message}`);
      else worker.waiting.shift()?.(m);
    });
  });
}

function ask<T extends FromWorker['type']>(w: Worker, message: ToWorker, answer: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    w.waiting.push((m) => {
      if (m.type === answer) resolve(m as Extract<FromWorker, { type: T }>);
      else reject(new Error(`expected ${answer} from a tablet worker, got ${m.type}`));
    });
    w.child.send(message);
  });
}

function sumCounters(all: WorkerCounters[]): WorkerCounters {
  const total: WorkerCounters = { connected: 0, redeliveries: 0, gaps: 0, dropped: 0, connectErrors: 0, synced: 0 };
  for (const c of all) for (const k of Object.keys(total) as (keyof WorkerCounters)[]) total[k] += c[k];
  return total;
}
