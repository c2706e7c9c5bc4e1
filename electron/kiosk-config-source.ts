/** Where the Electron kiosk finds its config: KIOSK_CONFIG, else `<userData>/kiosk-config.json`. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadKioskConfig, type KioskConfig } from './core/config.js';

export const CONFIG_FILE_NAME = 'kiosk-config.json';

export function configPathFor(env: NodeJS.ProcessEnv, userDataDir: string): string {
  return env.KIOSK_CONFIG && env.KIOSK_CONFIG.length > 0 ? env.KIOSK_CONFIG : path.join(userDataDir, CONFIG_FILE_NAME);
}

/** Reads and validates the config; the SQLite data lives in userData unless the config says otherwise. */
export function readKioskConfig(env: NodeJS.ProcessEnv, userDataDir: string): KioskConfig {
  const file = configPathFor(env, userDataDir);
  if (!existsSync(file)) {
    throw new Error(
      `No kiosk config at ${file}. Provision the cab with \`npm run fleet -- add\` and write its relayUrl, pspUrl, ` +
        `cabId and deviceToken as JSON to ${path.join(userDataDir, CONFIG_FILE_NAME)}, or set KIOSK_CONFIG to such a file.`,
    );
  }
  const config = loadKioskConfig(file);
  return { ...config, dataDir: config.dataDir ?? userDataDir };
}
