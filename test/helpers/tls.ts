/** Certificates made at test time with the openssl CLI: a fleet CA, leaves it signs, self-signed leaves. */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertFiles {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo (what a public-key pin names). */
  spkiSha256: string;
  fingerprint256: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function files(dir: string, name: string): CertFiles {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const certPem = readFileSync(certFile, 'utf8');
  const x509 = new X509Certificate(certPem);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    certFile,
    keyFile,
    certPem,
    keyPem: readFileSync(keyFile, 'utf8'),
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    fingerprint256: x509.fingerprint256,
  };
}

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

/** A self-signed certificate for localhost and 127.0.0.1 (its own CA). */
export function selfSignedCert(name = 'relay', dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-tls-'))): CertFiles {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      SAN,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  return files(dir, name);
}

/** A fleet CA and a function that issues localhost leaves signed by it. */
export function fleetCa(dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-ca-'))): CertFiles & { issue(name: string): CertFiles } {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=cabpay test fleet CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  const ca = files(dir, 'ca');
  return {
    ...ca,
    issue(name: string) {
      openssl(
        ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`],
        dir,
      );
      writeFileSync(path.join(dir, `${name}.ext`), `${SAN}\n`);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-days',
          '2',
          '-extfile',
          `${name}.ext`,
          '-out',
          `${name}.crt`,
        ],
        dir,
      );
      return files(dir, name);
    },
  };
}
