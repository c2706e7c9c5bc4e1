/** `npm run relay`: the relay as a process, configured from the environment. */
import { pino } from 'pino';
import { buildRelayApp, type RelayApp } from './app.js';
import { RelayConfigError, loadRelayConfig } from './config.js';
import { createLogger } from './logger.js';
import { SecretKeyError } from './secret-box.js';

/**
 * Log lines go out asynchronously: a synchronous write per line held the event loop on every
 * webhook (docs/performance.md). Lines are never held back (each write starts at once, or joins
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

/** After a fatal error, how long closing gracefully may take before the process exits anyway. */
const FATAL_CLOSE_DEADLINE_MS = 10_000;

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
  let app: RelayApp | null = null;
  let stopping = false;
  let fatal = false;
  const exit = () => {
    flushLogs();
    process.exit(fatal ? 1 : 0);
  };
  /** Closes gracefully (sockets, in-flight requests, the database), then exits: 1 after a fatal error. */
  const stop = (reason: string) => {
    if (stopping || !app) return;
    stopping = true;
    app.logger.info({ reason }, 'shutting down');
    app
      .close()
      .then(exit)
      .catch((err: unknown) => {
        app?.logger.error({ err }, 'shutdown failed');
        fatal = true;
        exit();
      });
  };
  // The fatal line is logged by the app; a relay that cannot write must not run on.
  const onFatal = () => {
    fatal = true;
    setTimeout(() => {
      app?.logger.error({ deadlineMs: FATAL_CLOSE_DEADLINE_MS }, 'closing took too long; exiting anyway');
      exit();
    }, FATAL_CLOSE_DEADLINE_MS).unref();
    stop('fatal');
  };
  app = await buildRelayApp(config, { logger: createLogger(config.logLevel, logOutput), onFatal });
  if (fatal) {
    stop('fatal'); // the writer died while the app was being built
    return;
  }
  await app.listen();
  // A renewed certificate is served to new connections; open tablet sockets stay up.
  process.on('SIGHUP', () => void app?.reloadTls());
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
