/**
 * Releases signed by the fleet: `cabpay-release.sig` beside a release's files holds a JWS
 * (EdDSA, Ed25519) over a manifest of the version and every file's SHA-512 and size, plus the
 * key rotations that lead from the key built into the app to the key that signed it. The
 * private key lives where the builds are made, never on the relay; the relay only checks that
 * the file is there and describes the folder, the kiosk verifies it before installing.
 */
import {
  CompactSign,
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  importJWK,
  importSPKI,
  type CryptoKey,
  type JWK,
  type KeyObject,
} from 'jose';
import { z } from 'zod';
import { zodIssuesText } from './zod-issues.js';

export const SIGNATURE_FILE = 'cabpay-release.sig';
/** What the feed serves a version's signature as: /updates/<cabId>/cabpay-release-<version>.sig. */
export const signatureFeedName = (version: string) => `cabpay-release-${version}.sig`;
export const SIGNATURE_FEED_NAME = /^cabpay-release-(.+)\.sig$/;

const ALG = 'EdDSA';
type Key = CryptoKey | KeyObject;

export const releaseManifest = z.object({
  format: z.literal('cabpay-release/1'),
  version: z.string().min(1),
  files: z.array(z.object({ name: z.string().min(1), sha512: z.string().min(1), size: z.number().int().nonnegative() })).min(1),
  signedAt: z.string(),
});
export type ReleaseManifest = z.infer<typeof releaseManifest>;

const ed25519Jwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(43) });

export const keyRotation = z.object({
  format: z.literal('cabpay-key-rotation/1'),
  /** The new release key, as a public JWK. */
  next: ed25519Jwk,
  issuedAt: z.string(),
});

export const releaseSignatureFile = z.object({
  format: z.literal('cabpay-release-signature/1'),
  /** Compact JWS of the manifest, signed by the last key of `rotations` (or the built-in key). */
  release: z.string().min(1),
  /** Compact JWSs, in order: each signed by the key before it, the first by the built-in key. */
  rotations: z.array(z.string().min(1)).default([]),
});
export type ReleaseSignatureFile = z.infer<typeof releaseSignatureFile>;

/** Why a release is refused; the kiosk reports the code to the relay. */
export type ReleaseRefusalCode = 'unsigned' | 'bad_signature' | 'bad_rotation' | 'wrong_version' | 'altered';

export type Verified<T> = { ok: true; value: T } | { ok: false; error: { code: ReleaseRefusalCode; message: string } };

const refuse = (code: ReleaseRefusalCode, message: string): Verified<never> => ({ ok: false, error: { code, message } });

export async function keyIdOf(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK);
}

/** The public key from SPKI PEM (what keygen writes and the app builds in). */
export function importReleasePublicKey(spkiPem: string): Promise<Key> {
  return importSPKI(spkiPem, ALG, { extractable: true });
}

/** Reads a signature file's text; the manifest inside is not verified here (see verifyRelease). */
export function parseSignatureFile(text: string): { ok: true; value: ReleaseSignatureFile; manifest: ReleaseManifest } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `${SIGNATURE_FILE} is not JSON (${(err as Error).message})` };
  }
  const file = releaseSignatureFile.safeParse(raw);
  if (!file.success) return { ok: false, message: `${SIGNATURE_FILE} is not a release signature: ${zodIssuesText(file.error)}` };
  const manifest = unverifiedPayload(file.data.release, releaseManifest);
  if (!manifest) return { ok: false, message: `${SIGNATURE_FILE} holds no release manifest` };
  return { ok: true, value: file.data, manifest };
}

function unverifiedPayload<T>(jws: string, schema: z.ZodType<T>): T | null {
  try {
    decodeProtectedHeader(jws);
    const payload = jws.split('.')[1] ?? '';
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(base64UrlDecode(payload))));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function base64UrlDecode(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function sign(payload: unknown, key: Key, publicJwk: JWK): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: ALG, kid: await keyIdOf(publicJwk) }).sign(key);
}

/** Signs a manifest: run where the builds are made, with the fleet's private release key. */
export async function signRelease(
  manifest: Omit<ReleaseManifest, 'format' | 'signedAt'>,
  keys: { privateKey: Key; publicKey: Key },
  rotations: string[] = [],
  now = new Date(),
): Promise<ReleaseSignatureFile> {
  const full: ReleaseManifest = { format: 'cabpay-release/1', ...manifest, signedAt: now.toISOString() };
  return { format: 'cabpay-release-signature/1', release: await sign(full, keys.privateKey, await exportJWK(keys.publicKey)), rotations };
}

/** A rotation statement: the old key names its successor. */
export async function signRotation(oldKeys: { privateKey: Key; publicKey: Key }, nextPublicKey: Key, now = new Date()): Promise<string> {
  const next = await exportJWK(nextPublicKey);
  const statement = { format: 'cabpay-key-rotation/1', next: { kty: next.kty, crv: next.crv, x: next.x }, issuedAt: now.toISOString() };
  return sign(statement, oldKeys.privateKey, await exportJWK(oldKeys.publicKey));
}

/**
 * Verifies a signature file against the key built into the app: follows the rotation chain,
 * then checks the manifest's signature and that it is for `version`. The caller then checks
 * the downloaded bytes against the manifest (`fileInManifest`).
 */
export async function verifyRelease(text: string | null, trustedKey: Key, version: string): Promise<Verified<ReleaseManifest>> {
  if (text === null) return refuse('unsigned', `release ${version} has no ${SIGNATURE_FILE}: it was not signed with the fleet release key`);
  const parsed = parseSignatureFile(text);
  if (!parsed.ok) return refuse('unsigned', parsed.message);
  let key = trustedKey;
  for (const [i, rotation] of parsed.value.rotations.entries()) {
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(rotation, key, { algorithms: [ALG] }));
    } catch (err) {
      return refuse(
        'bad_rotation',
        `key rotation ${i + 1} is not signed by the key before it (${(err as Error).message}): the chain does not start at the key built into this app`,
      );
    }
    const statement = keyRotation.safeParse(safeJson(payload));
    if (!statement.success) return refuse('bad_rotation', `key rotation ${i + 1} is not a rotation statement`);
    key = (await importJWK({ ...statement.data.next, alg: ALG }, ALG)) as Key;
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(parsed.value.release, key, { algorithms: [ALG] }));
  } catch (err) {
    return refuse(
      'bad_signature',
      `release ${version} is not signed by the fleet release key${parsed.value.rotations.length ? ' (after its rotations)' : ''}: ${(err as Error).message}`,
    );
  }
  const manifest = releaseManifest.safeParse(safeJson(payload));
  if (!manifest.success) return refuse('bad_signature', `the signed manifest of ${version} is not a release manifest`);
  if (manifest.data.version !== version) return refuse('wrong_version', `the signature is for version ${manifest.data.version}, not ${version}`);
  return { ok: true, value: manifest.data };
}

export function fileInManifest(manifest: ReleaseManifest, sha512: string, size: number): Verified<string> {
  const entry = manifest.files.find((f) => f.sha512 === sha512 && f.size === size);
  if (!entry)
    return refuse(
      'altered',
      `the downloaded file (sha512 ${sha512.slice(0, 16)}…, ${size} bytes) is not one the fleet signed for ${manifest.version}: it was altered or replaced`,
    );
  return { ok: true, value: entry.name };
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
