/** `npm run relay`: the relay as a process, configured from the environment. */
import { pino } from 'pino';
import { buildRelayApp } from './app.js';
import { RelayConfigError, loadRelayConfig } from './config.js';
import { createLogger } from './logger.js';
import { SecretKeyError } from './secret-box.js';

/**
 * Log lines go out asynchronously: a synchronous write per line held the event loop on every
 * webhook (issue 7 profile). Lines are never held back (each write starts at once, or joins
 * the one in flight); only those still in flight are lost if the process is killed.
 * Batching lines (`minLength: 4096`) was measured slower, not faster: sonic-boom measures the
 * growing buffer's byte length on every line (steady p99 at 700 hooks/s 19–21 → 36–43 ms).
 */
const logOutput = pino.destination({ dest: 1, sync: false });

/** What is still buffered reaches stdout before an exit. */
function flushLogs(): void {
  try {
    logOutput.flushSync();
  } catch {
    // stdout already gone (the parent died): nothing left to tell
  }
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadRelayConfig(process.env);
  } catch (err) {
    if (err instanceof RelayConfigError) {
      createLogger('info').fatal(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const app = await buildRelayApp(config, { logger: createLogger(config.logLevel, logOutput) });
  await app.listen();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => {
        flushLogs();
        process.exit(0);
      })
      .catch((err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        flushLogs();
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  flushLogs();
  if (err instanceof SecretKeyError) {
    // The stored secrets cannot be read with this key (or without one): say what to set.
    createLogger('info').fatal(err.message);
    process.exit(2);
  }
  createLogger('info').fatal({ err }, 'the relay failed to start');
  process.exit(1);
});
