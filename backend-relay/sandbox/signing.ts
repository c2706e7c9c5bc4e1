/**
 * The sandbox's RS256 webhook signing key. Generated once and kept in the database, so a relay
 * that trusts the served public PEM keeps trusting the sandbox across restarts.
 */
import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { HIPS_ISSUER } from '../../protocol/hips.js';
import type { Db } from './db.js';

export interface WebhookSigner {
  publicKeyPem: string;
  /** A JWT with `iss: "hips.com"`, `iat`, `exp` and `data` = the webhook content. */
  sign(data: Record<string, unknown>): Promise<string>;
}

const JWT_LIFETIME = '1h';

export async function loadOrCreateSigner(db: Db): Promise<WebhookSigner> {
  const read = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  let privatePem = read.get('signing_private_pem')?.value;
  let publicPem = read.get('signing_public_pem')?.value;
  if (!privatePem || !publicPem) {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privatePem = await exportPKCS8(pair.privateKey);
    publicPem = await exportSPKI(pair.publicKey);
    const write = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      write.run('signing_private_pem', privatePem);
      write.run('signing_public_pem', publicPem);
    })();
  }
  const privateKey = await importPKCS8(privatePem, 'RS256');
  return {
    publicKeyPem: publicPem,
    sign: (data) =>
      new SignJWT({ data })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(HIPS_ISSUER)
        .setIssuedAt()
        .setExpirationTime(JWT_LIFETIME)
        .sign(privateKey),
  };
}
