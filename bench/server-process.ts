/**
 * The relay (or the baseline) as a real child process. Its pino stdout goes to a file, read
 * for the `listening` line, so a busy runner never applies back-pressure to the server's logs.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { exited, spawnNode } from './spawn.js';

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM and wait (the relay closes its database cleanly). */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown code runs, as in a power cut. */
  kill9(): Promise<void>;
}

export async function startServer(
  script: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const fd = openSync(logFile, 'a');
  const offset = safeSize(logFile);
  const child = spawnNode(script, { env, stdio: ['ignore', fd, fd], nodeArgs: options.nodeArgs });
  closeSync(fd);
  const url = await waitForListening(child, logFile, offset, options.timeoutMs ?? 60_000);
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    pid: child.pid!,
    child,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const code = await Promise.race([exited(child), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`${script} did not stop within 20 s of SIGTERM (log: ${logFile})`);
      }
      return code;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

function safeSize(file: string): number {
  try {
    return readFileSync(file).length;
  } catch {
    return 0;
  }
}

async function waitForListening(child: ChildProcess, logFile: string, offset: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before listening; see ${logFile}:\n${tail(logFile, offset)}`);
    }
    const text = readFileSync(logFile, 'utf8').slice(offset);
    for (const line of text.split('\n')) {
      if (!line.includes('"msg":"listening"')) continue;
      const parsed = JSON.parse(line) as { url?: unknown };
      if (typeof parsed.url === 'string') return parsed.url;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not log "listening" within ${timeoutMs} ms; see ${logFile}:\n${tail(logFile, offset)}`);
}

function tail(file: string, offset: number): string {
  return readFileSync(file, 'utf8').slice(offset).split('\n').slice(-15).join('\n');
}
