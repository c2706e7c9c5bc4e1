/**
 * The tablet's secrets at rest: the device token and the driver PIN hash. They are provisioned
 * in the kiosk config file; at start they move into `secrets.json` beside the kiosk database
 * and out of the config. The file is readable by the kiosk's user only (0600), and its values
 * are sealed with the OS keychain (Electron's safeStorage) where one is available. The core
 * never imports `electron`: the shell passes a SecretCipher, Node/preview none.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Seals and opens values; Electron's safeStorage in the shell (safe-storage-cipher.ts). */
export interface SecretCipher {
  /** Named in the file, so a value sealed one way is never opened another. */
  readonly kind: 'safeStorage';
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

export const SECRETS_FILE = 'secrets.json';
export const SECRET_NAMES = ['deviceToken', 'driverPinHash'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const secretsFile = z.object({
  format: z.literal('cabpay-secrets/1'),
  protection: z.enum(['safeStorage', 'file']),
  values: z.record(z.string(), z.string()),
});

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

const REPROVISION = 'put the deviceToken (fleet rotate-token) and driverPinHash back into the kiosk config; they are moved here again at the next start';

export class SecretStore {
  private values = new Map<string, string>();

  private constructor(
    readonly file: string,
    private readonly cipher: SecretCipher | null,
  ) {}

  /** How the values are protected: by the OS keychain, or only by the file's permissions. */
  get protection(): 'safeStorage' | 'file' {
    return this.cipher ? 'safeStorage' : 'file';
  }

  static open(dir: string, cipher: SecretCipher | null): SecretStore {
    const store = new SecretStore(path.join(dir, SECRETS_FILE), cipher);
    store.load();
    return store;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    // Someone loosened the permissions: tighten them before reading.
    if ((statSync(this.file).mode & 0o077) !== 0) chmodSync(this.file, 0o600);
    let parsed;
    try {
      parsed = secretsFile.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (err) {
      throw new SecretStoreError(`${this.file} is unreadable (${(err as Error).message}): delete it and ${REPROVISION}`);
    }
    for (const [name, stored] of Object.entries(parsed.values)) {
      if (parsed.protection === 'file') {
        this.values.set(name, stored);
        continue;
      }
      if (!this.cipher) throw new SecretStoreError(`${this.file} was sealed with the OS keychain, which is not available now: delete it and ${REPROVISION}`);
      try {
        this.values.set(name, this.cipher.decrypt(Buffer.from(stored, 'base64')));
      } catch (err) {
        throw new SecretStoreError(`${this.file} cannot be opened with this OS keychain (${(err as Error).message}): delete it and ${REPROVISION}`);
      }
    }
    // Sealed only by permissions before, and the keychain is there now: seal it.
    if (parsed.protection === 'file' && this.cipher && this.values.size > 0) this.save();
  }

  get(name: SecretName): string | null {
    return this.values.get(name) ?? null;
  }

  /** Stores several values at once, durably (write, fsync, rename). */
  setAll(entries: Partial<Record<SecretName, string>>): void {
    for (const [name, value] of Object.entries(entries)) if (value !== undefined) this.values.set(name, value);
    this.save();
  }

  private save(): void {
    const values = Object.fromEntries([...this.values].map(([name, value]) => [name, this.cipher ? this.cipher.encrypt(value).toString('base64') : value]));
    writeDurably(this.file, JSON.stringify({ format: 'cabpay-secrets/1', protection: this.protection, values }));
  }
}

/** Write, fsync, rename: a power cut leaves the old file or the new one, never half; owner-only. */
function writeDurably(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Takes the secrets out of a parsed config file: moves any found there into the store (and
 * rewrites the file without them), and fills those missing from the store. The returned
 * object is the config as if the secrets were still in it.
 */
export function withSecretsFromStore(configFile: string, raw: Record<string, unknown>, store: SecretStore): Record<string, unknown> {
  const found: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) if (typeof raw[name] === 'string') found[name] = raw[name];
  if (Object.keys(found).length > 0) {
    store.setAll(found);
    // Only once the store has them durably do they leave the config.
    const rest = Object.fromEntries(Object.entries(raw).filter(([key]) => !(SECRET_NAMES as readonly string[]).includes(key)));
    const mode = statSync(configFile).mode & 0o777;
    writeDurably(configFile, `${JSON.stringify(rest, null, 2)}\n`);
    chmodSync(configFile, mode);
  }
  const merged: Record<string, unknown> = { ...raw };
  for (const name of SECRET_NAMES) {
    const value = store.get(name);
    if (value !== null) merged[name] = value;
  }
  return merged;
}
