/**
 * HTTPS for a single relay node without a proxy: the certificate and key come from files
 * (RELAY_TLS_CERT_FILE, RELAY_TLS_KEY_FILE) and are replaced in place on SIGHUP or when the
 * files change, so a renewed certificate never needs a restart (which would drop every tablet).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Result } from '../protocol/result.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** The leaf certificate's fingerprint and expiry, for the log. */
  fingerprint256: string;
  validTo: string;
}

/** Reads both files and checks that they parse and that the key belongs to the certificate. */
export function readTlsMaterial(files: TlsFiles): Result<TlsMaterial> {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(files.certFile, 'utf8');
  } catch (err) {
    return fail(
      'tls_cert_unreadable',
      `RELAY_TLS_CERT_FILE ${files.certFile} cannot be read (${(err as Error).message}): point it at the PEM certificate (chain) of this relay`,
    );
  }
  try {
    key = readFileSync(files.keyFile, 'utf8');
  } catch (err) {
    return fail(
      'tls_key_unreadable',
      `RELAY_TLS_KEY_FILE ${files.keyFile} cannot be read (${(err as Error).message}): point it at the PEM private key of the certificate`,
    );
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    return fail('tls_cert_invalid', `RELAY_TLS_CERT_FILE ${files.certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) {
      return fail(
        'tls_key_mismatch',
        `RELAY_TLS_KEY_FILE ${files.keyFile} is not the private key of the certificate in ${files.certFile}: install the matching pair`,
      );
    }
  } catch (err) {
    return fail('tls_key_invalid', `RELAY_TLS_KEY_FILE ${files.keyFile} is not a PEM private key (${(err as Error).message})`);
  }
  return { ok: true, value: { cert, key, fingerprint256: leaf.fingerprint256, validTo: leaf.validTo } };
}

function fail(code: string, message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

/** Waits this long after the last change, so a renewer writing cert then key reloads once. */
export const TLS_RELOAD_DEBOUNCE_MS = 300;

export interface TlsReloader {
  /** Reads the files again and, if they are good, serves them to new connections. */
  reload(reason: string): Result<TlsMaterial>;
  close(): void;
}

/**
 * Serves new certificates to new connections (`setSecureContext`); connections already open
 * keep theirs. A bad pair is logged and the old one stays in use.
 */
export function watchTlsFiles(server: TlsServer, files: TlsFiles, logger: Logger): TlsReloader {
  const reload = (reason: string): Result<TlsMaterial> => {
    const material = readTlsMaterial(files);
    if (!material.ok) {
      logger.error({ reason, error: material.error }, 'TLS certificate not reloaded; the previous one stays in use');
      return material;
    }
    server.setSecureContext({ cert: material.value.cert, key: material.value.key });
    logger.info({ reason, fingerprint256: material.value.fingerprint256, validTo: material.value.validTo }, 'TLS certificate loaded');
    return material;
  };

  // Renewers (certbot, cert-manager) replace files by rename: watch the folders, not the inodes.
  const names = new Set([path.resolve(files.certFile), path.resolve(files.keyFile)]);
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([...names].map((n) => path.dirname(n)))) {
    try {
      const watcher = watch(dir, (_event, name) => {
        if (name !== null && !names.has(path.join(dir, name.toString()))) return;
        clearTimeout(timer);
        timer = setTimeout(() => reload('file changed'), TLS_RELOAD_DEBOUNCE_MS);
        timer.unref();
      });
      watcher.on('error', (err) => logger.warn({ err, dir }, 'cannot watch the TLS files; reload them with SIGHUP'));
      watchers.push(watcher);
    } catch (err) {
      logger.warn({ err, dir }, 'cannot watch the TLS files; reload them with SIGHUP');
    }
  }

  return {
    reload,
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** Sent on every response while the relay is reached over TLS: browsers never fall back to http. */
export const HSTS_VALUE = 'max-age=31536000';
