/** Where the Electron kiosk finds its config: KIOSK_CONFIG, else `<userData>/kiosk-config.json`. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadKioskConfig, parseKioskConfig, readConfigJson, type KioskConfig } from './core/config.js';
import { parseDriverConfig, type DriverConfig } from './core/driver-config.js';
import { SecretStore, withSecretsFromStore, type SecretCipher } from './core/secret-store.js';

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

/**
 * The config and driver settings, with the device token and PIN hash kept in the secret store
 * (secret-store.ts): moved there from the config file at the first start after provisioning.
 */
export function readKioskSetup(
  env: NodeJS.ProcessEnv,
  userDataDir: string,
  cipher: SecretCipher | null,
): { config: KioskConfig; driver: DriverConfig; secrets: SecretStore } {
  const file = configPathFor(env, userDataDir);
  if (!existsSync(file)) readKioskConfig(env, userDataDir); // throws the provisioning hint
  const raw = readConfigJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`The kiosk config ${file} is invalid: it must be a JSON object`);
  const dataDir = typeof (raw as { dataDir?: unknown }).dataDir === 'string' ? (raw as { dataDir: string }).dataDir : userDataDir;
  const secrets = SecretStore.open(dataDir, cipher);
  const merged = withSecretsFromStore(file, raw as Record<string, unknown>, secrets);
  const config = parseKioskConfig(merged, file);
  return { config: { ...config, dataDir: config.dataDir ?? userDataDir }, driver: parseDriverConfig(merged, file), secrets };
}
