/** Child processes for the bench: Node (+ tsx for TypeScript), with the open-files limit raised to the hard limit. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Runs `node [--import tsx] <script>` under bash so `ulimit -n` can be raised first (10,000
 * sockets need more than the usual 1024). `exec` keeps the pid, so kill -9 hits node itself.
 */
export function spawnNode(script: string, options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions; nodeArgs?: string[] } = {}): ChildProcess {
  // A built bundle (.mjs) runs on plain node: tsx's loader alone costs about a second of start-up.
  const loader = script.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const args = [...loader, ...(options.nodeArgs ?? []), script].map(shellQuote).join(' ');
  return spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec node ${args}`], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'],
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Resident set size of a process in KB, from /proc (Linux). */
export function rssKb(pid: number): Promise<number> {
  return import('node:fs/promises').then(async (fs) => {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (!m) throw new Error(`no VmRSS for pid ${pid}`);
    return Number(m[1]);
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux, 100 Hz ticks). */
export async function cpuMs(pid: number): Promise<number> {
  const fs = await import('node:fs/promises');
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
