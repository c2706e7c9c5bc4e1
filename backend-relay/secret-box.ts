/**
 * Secrets the relay has to keep readable (the Vipps webhook secret it verifies hooks with, the
 * passengers' Vipps check-in tokens it pushes payments with) are sealed at rest with AES-256-GCM
 * under RELAY_SECRETS_KEY, so a copy of the database alone does not give them away. Each value is
 * bound to where it is stored (`aad`), so a sealed value moved to another row does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** 32 bytes as 64 hex digits, or as base64 / base64url; anything else is a clear error. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)
      ? Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : null;
  if (!key || key.length !== KEY_BYTES)
    throw new SecretKeyError(
      `RELAY_SECRETS_KEY must be ${KEY_BYTES} random bytes, as 64 hex digits or 44 base64 characters (make one with: openssl rand -base64 32)`,
    );
  return key;
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(keyText: string) {
    this.key = parseSecretsKey(keyText);
  }

  /** `enc:v1:<iv>.<ciphertext>.<tag>`, base64url; `aad` names where the value is kept. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** The plain value; a clear error when the key (or the place) is not the one it was sealed with. */
  open(stored: string, aad: string): string {
    const [iv, body, tag] = stored.slice(PREFIX.length).split('.');
    if (!isSealed(stored) || iv === undefined || body === undefined || tag === undefined)
      throw new SecretKeyError(`the stored secret ${aad} is not a sealed value (enc:v1:…); the database may be damaged`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(`RELAY_SECRETS_KEY does not open the stored secret ${aad}: set it to the key the database was written with`);
    }
  }
}
