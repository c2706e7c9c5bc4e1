/** Secrets at rest on the tablet: the owner-only file (Node/preview) and safeStorage (Electron, mocked). */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { hashPin } from '../../electron/core/pin.js';
import { SecretStore, type SecretCipher } from '../../electron/core/secret-store.js';
import { readKioskSetup } from '../../electron/kiosk-config-source.js';
import { safeStorageCipher } from '../../electron/safe-storage-cipher.js';

const log = pino({ level: 'silent' });
const TOKEN = 'device-token-0123456789abcdef';

/** A stand-in for Electron's safeStorage: reversible, never the plain text. */
const fakeSafeStorage = (backend = 'gnome_libsecret') => ({
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => backend,
  encryptString: (plain: string) => Buffer.from(`sealed:${Buffer.from(plain).toString('hex')}`),
  decryptString: (sealed: Buffer) => {
    if (!sealed.toString().startsWith('sealed:')) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    return Buffer.from(sealed.toString().slice('sealed:'.length), 'hex').toString();
  },
});

function provisionedCab(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-secrets-'));
  const file = path.join(dir, 'kiosk-config.json');
  writeFileSync(file, JSON.stringify({ relayUrl: 'https://relay.example', pspUrl: 'https://psp.example', cabId: 'cab-5', deviceToken: TOKEN, ...extra }), {
    mode: 0o640,
  });
  return { dir, file };
}

describe('secrets at rest', () => {
  it('without a keychain: moves the token and PIN hash out of the config into an owner-only file, and reads them back at the next start', () => {
    const pinHash = hashPin('2468');
    const { dir, file } = provisionedCab({ driverPinHash: pinHash });
    const first = readKioskSetup({}, dir, null);
    expect(first.config.deviceToken).toBe(TOKEN);
    expect(first.driver.driverPinHash).toBe(pinHash);
    expect(first.secrets.protection).toBe('file');

    const config = JSON.parse(readFileSync(file, 'utf8'));
    expect(config).not.toHaveProperty('deviceToken');
    expect(config).not.toHaveProperty('driverPinHash');
    expect(config.cabId).toBe('cab-5');
    expect(statSync(file).mode & 0o777).toBe(0o640); // the config keeps its own permissions
    const secretsFile = path.join(dir, 'secrets.json');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);

    const again = readKioskSetup({}, dir, null);
    expect(again.config.deviceToken).toBe(TOKEN);
    expect(again.driver.driverPinHash).toBe(pinHash);

    // Loosened by hand: tightened again on the next start.
    chmodSync(secretsFile, 0o644);
    readKioskSetup({}, dir, null);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
  });

  it('with safeStorage: the file holds only sealed values; a new token in the config replaces the stored one', () => {
    const { dir, file } = provisionedCab();
    const cipher = safeStorageCipher(fakeSafeStorage(), 'linux', log);
    expect(cipher?.kind).toBe('safeStorage');
    const setup = readKioskSetup({}, dir, cipher);
    expect(setup.config.deviceToken).toBe(TOKEN);
    const stored = readFileSync(path.join(dir, 'secrets.json'), 'utf8');
    expect(JSON.parse(stored).protection).toBe('safeStorage');
    expect(stored).not.toContain(TOKEN);

    // Re-provisioned (fleet rotate-token): the new token is written into the config again.
    const rotated = 'rotated-token-0123456789abcdef';
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), deviceToken: rotated }));
    expect(readKioskSetup({}, dir, cipher).config.deviceToken).toBe(rotated);
    expect(readKioskSetup({}, dir, cipher).config.deviceToken).toBe(rotated);
  });

  it('a file kept by permissions is sealed once a keychain appears; a sealed one without the keychain says what to do', () => {
    const { dir } = provisionedCab();
    readKioskSetup({}, dir, null);
    expect(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).toContain(TOKEN);
    const cipher = safeStorageCipher(fakeSafeStorage(), 'win32', log)!;
    expect(readKioskSetup({}, dir, cipher).config.deviceToken).toBe(TOKEN);
    expect(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).not.toContain(TOKEN);

    expect(() => readKioskSetup({}, dir, null)).toThrow(
      /sealed with the OS keychain, which is not available now: delete it and put the deviceToken .* back into the kiosk config/,
    );
    const otherKeychain: SecretCipher = {
      kind: 'safeStorage',
      encrypt: (p) => Buffer.from(p),
      decrypt: () => {
        throw new Error('bad decrypt');
      },
    };
    expect(() => SecretStore.open(dir, otherKeychain)).toThrow(/cannot be opened with this OS keychain \(bad decrypt\)/);
  });

  it('no keychain, or Linux basic_text (a fixed password): file permissions only', () => {
    expect(safeStorageCipher({ ...fakeSafeStorage(), isEncryptionAvailable: () => false }, 'linux', log)).toBeNull();
    expect(safeStorageCipher(fakeSafeStorage('basic_text'), 'linux', log)).toBeNull();
  });

  it('a config without a token and no stored one is refused, naming the field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-secrets-'));
    writeFileSync(path.join(dir, 'kiosk-config.json'), JSON.stringify({ relayUrl: 'https://relay.example', pspUrl: 'https://psp.example', cabId: 'cab-5' }));
    expect(() => readKioskSetup({}, dir, null)).toThrow(/deviceToken/);
  });
});
