/**
 * The harness's side of one kiosk core process: start, command, watch snapshots, SIGKILL and
 * restart on the same data directory. Waiters outlive restarts, so a ride's script does not
 * care whether the process under it was just killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KioskCommand, KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { Result } from '../../protocol/result.js';
import { repoRoot } from '../lib/service.js';
import type { FromKiosk, ToKiosk } from './ipc.js';

const ENTRY = resolve(repoRoot, 'scripts/chaos/kiosk-process.ts');
const START_TIMEOUT_MS = 60_000;

export interface KioskHandleOptions {
  cabId: string;
  env: Record<string, string>;
  logFile: string;
}

interface Waiter {
  predicate: (s: KioskSnapshot) => boolean;
  resolve: (s: KioskSnapshot) => void;
}

export class KioskHandle {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: Result<null>) => void>();
  private readonly waiters = new Set<Waiter>();
  /** The latest snapshot from any incarnation of the process. */
  snapshot: KioskSnapshot | null = null;
  restarts = 0;

  constructor(private readonly options: KioskHandleOptions) {}

  get cabId(): string {
    return this.options.cabId;
  }

  start(): Promise<void> {
    if (this.ready) return this.ready;
    const log = openSync(this.options.logFile, 'a');
    const child = fork(ENTRY, [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    this.child = child;
    this.ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(
        () => rejectReady(new Error(`kiosk ${this.cabId} did not start within ${START_TIMEOUT_MS} ms; see ${this.options.logFile}`)),
        START_TIMEOUT_MS,
      );
      child.on('message', (message: FromKiosk) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolveReady();
        } else if (message.type === 'fatal') {
          clearTimeout(timer);
          rejectReady(new Error(`kiosk ${this.cabId}: ${message.message}`));
        } else this.receive(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        rejectReady(new Error(`kiosk ${this.cabId} exited (${signal ?? code}) before it was ready; see ${this.options.logFile}`));
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
        // Commands sent to a dead process have no answer: the caller retries on the next incarnation.
        for (const [id, answer] of this.pending) {
          this.pending.delete(id);
          answer({ ok: false, error: { code: 'kiosk_down', message: 'the kiosk process died before answering' } });
        }
      });
    });
    return this.ready;
  }

  private receive(message: FromKiosk): void {
    if (message.type === 'state') {
      this.snapshot = message.snapshot;
      for (const waiter of this.waiters) {
        if (waiter.predicate(message.snapshot)) {
          this.waiters.delete(waiter);
          waiter.resolve(message.snapshot);
        }
      }
    } else if (message.type === 'result') {
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    }
  }

  /** Runs a command, waiting for the process to be up (again) first. */
  async execute(command: KioskCommand): Promise<Result<null>> {
    for (;;) {
      await this.start();
      const child = this.child;
      if (!child?.connected) {
        // Dying but its exit not seen yet: let the event loop deliver it before trying again.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const id = this.nextId++;
      const answer = new Promise<Result<null>>((r) => this.pending.set(id, r));
      child.send({ type: 'command', id, command } satisfies ToKiosk);
      const result = await answer;
      if (!result.ok && result.error.code === 'kiosk_down') continue;
      return result;
    }
  }

  /** Resolves with the first snapshot (now or later, from any incarnation) that satisfies the predicate. */
  waitFor(predicate: (s: KioskSnapshot) => boolean, timeoutMs: number): Promise<KioskSnapshot | null> {
    if (this.snapshot && predicate(this.snapshot)) return Promise.resolve(this.snapshot);
    return new Promise((resolveWait) => {
      const waiter: Waiter = {
        predicate,
        resolve: (s) => {
          clearTimeout(timer);
          resolveWait(s);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolveWait(null);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** kill -9: a power cut in the middle of whatever the core was doing. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    this.restarts++;
  }

  /** A clean stop; resolves once the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.send({ type: 'stop' } satisfies ToKiosk);
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
