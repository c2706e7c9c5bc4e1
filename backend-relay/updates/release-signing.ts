/**
 * The fleet release key, used where the builds are made (never on the relay):
 *   keygen  an Ed25519 pair; the private key file is readable by its owner only
 *   sign    writes cabpay-release.sig into an electron-builder output folder
 *   rotate  the old key signs the next public key; releases signed by the next key carry the chain
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SIGNATURE_FILE, keyRotation, signRelease, signRotation } from '../../protocol/release-signature.js';
import { readReleaseFiles } from './release-folder.js';

export class SigningError extends Error {
  override name = 'SigningError';
}

export interface ReleaseKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** The module the kiosk is built with: main.ts imports the key from it (bundled at build time). */
export function appKeyModule(publicPem: string): string {
  return `/**
 * The fleet release key's public half, built into the kiosk: an update installs only when its
 * cabpay-release.sig verifies against this key (or a rotation chain that starts at it).
 * Written by \`npm run fleet -- release keygen --app-key build/release-public-key.ts\`.
 */
export const RELEASE_PUBLIC_KEY_PEM: string | null = ${JSON.stringify(publicPem)};
`;
}

/** Writes a new key pair; refuses to overwrite a key. */
export function generateReleaseKey(outDir: string, name = 'cabpay-release-key'): ReleaseKeyFiles & { publicPem: string } {
  const privateKeyFile = path.join(outDir, `${name}.pem`);
  const publicKeyFile = path.join(outDir, `${name}.pub.pem`);
  for (const f of [privateKeyFile, publicKeyFile]) {
    if (existsSync(f))
      throw new SigningError(`${f} already exists: a release key is never overwritten (move it away first, or rotate to a new key with a new --name)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(privateKeyFile, 0o600);
  writeFileSync(publicKeyFile, publicPem, { flag: 'wx' });
  return { privateKeyFile, publicKeyFile, publicPem };
}

function readPrivateKey(file: string): { privateKey: KeyObject; publicKey: KeyObject } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new SigningError(`cannot read the release key ${file} (${(err as Error).message}): give the private key keygen wrote`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningError(`${file} is a ${privateKey.asymmetricKeyType} key, not the Ed25519 release key`);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function readPublicKey(file: string): KeyObject {
  try {
    const key = createPublicKey(readFileSync(file));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not Ed25519`);
    return key;
  } catch (err) {
    throw new SigningError(`cannot read the public key ${file} (${(err as Error).message})`);
  }
}

const chainFile = z.object({ format: z.literal('cabpay-key-rotations/1'), rotations: z.array(z.string().min(1)) });

function readChain(file: string | undefined): string[] {
  if (file === undefined || !existsSync(file)) return [];
  const parsed = chainFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new SigningError(`${file} is not a rotation chain written by fleet release rotate`);
  return parsed.data.rotations;
}

/** Signs every file of a built release; `chain` holds the rotations from the app's key to this one. */
export async function signReleaseFolder(folder: string, keyFile: string, chain?: string): Promise<{ version: string; files: number; file: string }> {
  const keys = readPrivateKey(keyFile);
  const release = await readReleaseFiles(folder).catch((err: Error) => {
    throw new SigningError(err.message);
  });
  const files = release.files.filter((f) => f.name !== SIGNATURE_FILE).map((f) => ({ name: f.name, sha512: f.sha512, size: f.size }));
  const signature = await signRelease({ version: release.version, files }, keys, readChain(chain));
  const target = path.join(folder, SIGNATURE_FILE);
  writeFileSync(`${target}.tmp`, `${JSON.stringify(signature, null, 2)}\n`);
  renameSync(`${target}.tmp`, target);
  return { version: release.version, files: files.length, file: target };
}

/**
 * The old key names the next one. The chain file grows by one statement; the next builds are
 * signed with the new key and `--chain`, and can also be built with the new key in the app.
 */
export async function rotateReleaseKey(oldKeyFile: string, nextPublicKeyFile: string, chain: string): Promise<{ rotations: number }> {
  const old = readPrivateKey(oldKeyFile);
  const next = readPublicKey(nextPublicKeyFile);
  const rotations = readChain(chain);
  // The old key must be the newest in the chain (or the app's own key), or the chain would fork.
  const last = rotations.at(-1);
  if (last !== undefined) {
    const named = keyRotation.safeParse(JSON.parse(Buffer.from(last.split('.')[1] ?? '', 'base64url').toString('utf8')));
    if (!named.success || named.data.next.x !== old.publicKey.export({ format: 'jwk' }).x) {
      throw new SigningError(`the last rotation in ${chain} names another key than ${oldKeyFile}: rotate from the newest key`);
    }
  }
  rotations.push(await signRotation(old, next));
  writeFileSync(chain, `${JSON.stringify({ format: 'cabpay-key-rotations/1', rotations }, null, 2)}\n`);
  return { rotations: rotations.length };
}
