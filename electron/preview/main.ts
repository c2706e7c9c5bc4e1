/**
 * `npm run preview`: the kiosk core under plain Node plus the preview host, so the real UI
 * runs in a browser where no Electron binary exists.
 *
 * Env: KIOSK_CONFIG (JSON config file, required), PREVIEW_PORT (default 5173, 0 = ephemeral),
 * PREVIEW_HOST (default 127.0.0.1), PREVIEW_STATIC_DIR (default renderer/dist).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { jsonTerminalSafe } from '../../protocol/terminal-text.js';
import { z } from 'zod';
import { loadKioskConfig, type KioskConfig } from '../core/config.js';
import { loadDriverConfig } from '../core/driver-config.js';
import { startPreviewHost } from './host.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

// The core logs what the relay sends: nothing in it reaches a terminal raw.
const log = pino({ name: 'preview', hooks: { streamWrite: jsonTerminalSafe } });

const previewEnv = z.object({
  KIOSK_CONFIG: z.string({ error: 'not set' }).min(1, 'empty'),
  PREVIEW_PORT: z.coerce.number().int().min(0).max(65535).default(5173),
  PREVIEW_HOST: z.string().min(1).default('127.0.0.1'),
  PREVIEW_STATIC_DIR: z.string().min(1).default('renderer/dist'),
});

const configHelp =
  'Set KIOSK_CONFIG to a JSON file like {"relayUrl":"http://127.0.0.1:8787","pspUrl":"http://127.0.0.1:8788",' +
  '"cabId":"cab-1","deviceToken":"<from `npm run fleet -- add`>","locale":"sv","currency":"SEK"}, ' +
  'or run `npm start`, which creates a demo cab and its config for you.';

function readEnv(): z.infer<typeof previewEnv> {
  const parsed = previewEnv.safeParse(process.env);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    throw new Error(`${problems}. ${configHelp}`);
  }
  return parsed.data;
}

function readConfig(file: string): KioskConfig {
  if (!existsSync(file)) throw new Error(`KIOSK_CONFIG points to ${file}, which does not exist. ${configHelp}`);
  const config = loadKioskConfig(file);
  return { ...config, dataDir: config.dataDir ?? path.resolve('.cabpay', `kiosk-${config.cabId}`) };
}

async function main(): Promise<void> {
  const env = readEnv();
  const config = readConfig(env.KIOSK_CONFIG);
  const staticDir = path.resolve(env.PREVIEW_STATIC_DIR);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`No built renderer in ${staticDir}. Run \`npm run build:renderer\` (or \`npm run preview\`, which builds it first).`);
  }

  // Loaded only once the config is known good, so config mistakes are reported at once.
  const { createKioskCore } = await import('../core/index.js');
  const core = createKioskCore(config, { driver: loadDriverConfig(env.KIOSK_CONFIG) });
  await core.start();
  let host;
  try {
    host = await startPreviewHost({ core, port: env.PREVIEW_PORT, host: env.PREVIEW_HOST, staticDir, logger: log });
  } catch (err) {
    await core.stop();
    throw err;
  }
  log.info({ url: host.url, cabId: config.cabId, dataDir: config.dataDir }, 'listening');

  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    try {
      // The host first, so no command reaches a core that is shutting down.
      await host.close();
      await core.stop();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'unclean stop');
      process.exit(1);
    }
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));
}

main().catch((err: unknown) => {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
});
