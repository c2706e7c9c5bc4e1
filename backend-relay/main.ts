/** `npm run relay`: the relay as a process, configured from the environment. */
import { buildRelayApp } from './app.js';
import { RelayConfigError, loadRelayConfig } from './config.js';
import { createLogger } from './logger.js';

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
  const app = await buildRelayApp(config);
  await app.listen();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  createLogger('info').fatal({ err }, 'the relay failed to start');
  process.exit(1);
});
