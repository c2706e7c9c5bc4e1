/** `npm run relay`: the relay as a process, configured from the environment. */
import { pino } from 'pino';
import { buildRelayApp } from './app.js';
import { RelayConfigError, loadRelayConfig } from './config.js';
import { createLogger } from './logger.js';

/**
 * Log lines go out asynchronously and in batches: a synchronous write per line held the event
 * loop on every webhook, and an fs.write per line still cost 7 % of the main thread at 700
 * hooks/s (issue 7 profiles). Lines wait until 4 KiB are buffered or 100 ms have passed, so a
 * kill -9 can lose at most the last 100 ms of lines (never an event: those are in the store).
 */
const logOutput = pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });

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
  createLogger('info').fatal({ err }, 'the relay failed to start');
  process.exit(1);
});
