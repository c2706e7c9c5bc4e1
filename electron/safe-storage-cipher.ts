/**
 * Electron's safeStorage as the kiosk's SecretCipher: the OS keychain (DPAPI on Windows, the
 * Keychain on macOS, the Secret Service or KWallet on Linux). On Linux without a keyring
 * Electron falls back to a fixed password ("basic_text"), which protects nothing: then the
 * secrets are kept in the owner-only file alone, and the log says so.
 */
import type { SafeStorage } from 'electron';
import type { Logger } from 'pino';
import type { SecretCipher } from './core/secret-store.js';

export function safeStorageCipher(
  safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & { getSelectedStorageBackend?: () => string },
  platform: NodeJS.Platform,
  log: Logger,
): SecretCipher | null {
  if (!safeStorage.isEncryptionAvailable()) {
    log.warn('the OS offers no keychain for safeStorage: the device token and PIN hash are protected by file permissions only (0600)');
    return null;
  }
  if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
    log.warn('no Linux keyring (safeStorage backend basic_text): the device token and PIN hash are protected by file permissions only (0600)');
    return null;
  }
  return {
    kind: 'safeStorage',
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (sealed) => safeStorage.decryptString(sealed),
  };
}
