/**
 * Starts one of cabpay's server entry points as a child process and waits for its pino
 * "listening" line. Used by `npm start`, the chaos run, the benchmark and integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after the grace period; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once: a crash, for fault tests. */
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  name: string;
  /** Path of the entry, relative to the repo root: TypeScript (run through tsx) or a built .mjs bundle (plain node). */
  entry: string;
  env: Record<string, string | undefined>;
  /** Append the child's stdout and stderr to this file; otherwise they are dropped. */
  logFile?: string;
  /** Called with every log line (for echoing warnings). */
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

export function startService(opts: StartServiceOptions): Promise<Service> {
  // A built bundle skips tsx: registering its loader alone costs about a second of start-up.
  const loader = opts.entry.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...loader, resolve(repoRoot, opts.entry)], {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log: NodeJS.WritableStream | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    log = createWriteStream(opts.logFile, { flags: 'a' });
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const recent: string[] = [];

  return new Promise((resolveStart, rejectStart) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      rejectStart(new Error(`${opts.name} did not report "listening" within ${opts.timeoutMs ?? 30_000} ms. Last output:\n${recent.join('\n')}`));
    }, opts.timeoutMs ?? 30_000);

    const onLine = (line: string) => {
      log?.write(line + '\n');
      recent.push(line);
      if (recent.length > 30) recent.shift();
      opts.onLine?.(line);
      if (settled || !line.includes('"listening"')) return;
      try {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'listening' && parsed.url) {
          settled = true;
          clearTimeout(timer);
          resolveStart(makeService(opts.name, parsed.url, child, exited));
        }
      } catch {
        // not a JSON log line
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      rejectStart(new Error(`${opts.name} exited (${signal ?? code}) before listening. Last output:\n${recent.join('\n')}`));
    });
  });
}

function makeService(name: string, url: string, child: ChildProcess, exited: Promise<void>): Service {
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    url,
    child,
    async stop(graceMs = 5_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
