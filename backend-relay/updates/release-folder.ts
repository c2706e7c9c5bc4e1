/**
 * Reads a release folder (electron-builder's output for one version) and checks it before it
 * is published: its latest*.yml feeds parse with electron-updater's own parser, agree on the
 * version, and every file they name is there with the size and SHA-512 they state.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseUpdateInfo } from 'electron-updater/out/providers/Provider.js';
import { z } from 'zod';
import { parseSignatureFile, SIGNATURE_FILE } from '../../protocol/release-signature.js';
import { releaseVersion } from './version.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** latest.yml (Windows), latest-linux.yml, latest-linux-arm64.yml, latest-mac.yml. */
export const CHANNEL_FILE = /^latest(-linux(-[a-z0-9]+)?|-mac)?\.yml$/;
/**
 * What electron-builder produces for tablets: installers, update packages and blockmaps.
 * Everything else in its output (builder-debug.yml, builder-effective-config.yaml, unpacked
 * folders) is neither indexed nor served.
 */
export const ARTIFACT_FILE = /\.(AppImage|deb|rpm|pacman|snap|exe|msi|7z|nupkg|zip|dmg|pkg|blockmap)$/;
/** A plain file name: no directories, no leading dot. */
export const RELEASE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$/;

const feedSchema = z.object({
  version: releaseVersion,
  files: z
    .array(
      z.object({
        url: z.string().regex(RELEASE_FILE_NAME, 'must be a file name in the same folder'),
        sha512: z.string().min(1),
        size: z.number().int().nonnegative().optional(),
      }),
    )
    .min(1, 'lists no files'),
  stagingPercentage: z.undefined({ error: 'must not be set: the relay stages rollouts per cab; remove stagingPercentage' }).optional(),
});

export interface ReleaseFile {
  name: string;
  size: number;
  /** Base64, as in latest*.yml. */
  sha512: string;
}

export interface ScannedRelease {
  version: string;
  dir: string;
  channels: string[];
  files: ReleaseFile[];
}

export class ReleaseFolderError extends Error {
  override name = 'ReleaseFolderError';
}

export function sha512File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('base64')));
  });
}

/** `dir` is a folder name directly under `updatesDir`. Throws ReleaseFolderError saying what to fix. */
export async function scanReleaseFolder(updatesDir: string, dir: string, expectedVersion?: string): Promise<ScannedRelease> {
  if (!RELEASE_FILE_NAME.test(dir)) throw new ReleaseFolderError(`dir "${dir}" must be a plain folder name under RELAY_UPDATES_DIR`);
  const folder = path.join(updatesDir, dir);
  const { version, channels, files } = await readReleaseFiles(folder, expectedVersion);
  checkSignatureFile(folder, version, files);
  return { version, dir, channels, files };
}

/**
 * The release in an electron-builder output folder: its feeds and the files they name, with
 * sizes and hashes (also what `fleet release sign` signs). The signature file is listed too.
 */
export async function readReleaseFiles(folder: string, expectedVersion?: string): Promise<{ version: string; channels: string[]; files: ReleaseFile[] }> {
  let names: string[];
  try {
    names = readdirSync(folder, { withFileTypes: true })
      .filter((e) => e.isFile() && RELEASE_FILE_NAME.test(e.name) && isReleaseFileName(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new ReleaseFolderError(
      `cannot read ${folder} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): copy the electron-builder output (release/) there first`,
    );
  }
  const channels = names.filter((n) => CHANNEL_FILE.test(n));
  if (channels.length === 0) throw new ReleaseFolderError(`${folder} holds no latest*.yml: copy the whole electron-builder output, feeds included`);

  const files: ReleaseFile[] = [];
  for (const name of names) {
    const full = path.join(folder, name);
    files.push({ name, size: statSync(full).size, sha512: await sha512File(full) });
  }
  const byName = new Map(files.map((f) => [f.name, f]));

  let version: string | undefined;
  for (const channel of channels) {
    const raw = readFileSync(path.join(folder, channel), 'utf8');
    let parsed: unknown;
    try {
      parsed = parseUpdateInfo(raw, channel, pathToFileURL(path.join(folder, channel)));
    } catch (err) {
      throw new ReleaseFolderError(`${channel} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const feed = feedSchema.safeParse(parsed);
    if (!feed.success) {
      const why = zodIssuesText(feed.error);
      throw new ReleaseFolderError(`${channel}: ${why}`);
    }
    if (version !== undefined && feed.data.version !== version) {
      throw new ReleaseFolderError(`${channel} says version ${feed.data.version} but another feed says ${version}: one folder per version`);
    }
    version = feed.data.version;
    for (const entry of feed.data.files) {
      const file = byName.get(entry.url);
      if (!file) throw new ReleaseFolderError(`${channel} names ${entry.url}, which is not in ${folder}`);
      if (entry.size !== undefined && entry.size !== file.size) {
        throw new ReleaseFolderError(`${entry.url} is ${file.size} bytes but ${channel} says ${entry.size}: the copy is incomplete`);
      }
      if (entry.sha512 !== file.sha512)
        throw new ReleaseFolderError(`${entry.url} does not match the SHA-512 in ${channel}: the copy is damaged or from another build`);
    }
  }
  if (version === undefined) throw new ReleaseFolderError(`no version found in ${folder}`);
  if (expectedVersion !== undefined && expectedVersion !== version) {
    throw new ReleaseFolderError(`the feeds in ${folder} are for version ${version}, not ${expectedVersion}`);
  }
  return { version, channels, files };
}

/** Feeds, artifacts and the fleet's signature: everything a release folder publishes. */
export function isReleaseFileName(name: string): boolean {
  return CHANNEL_FILE.test(name) || ARTIFACT_FILE.test(name) || name === SIGNATURE_FILE;
}

/**
 * The relay never holds the release key, so it cannot tell a good signature from a bad one;
 * it refuses a folder that is unsigned or whose signed manifest does not describe it.
 */
function checkSignatureFile(folder: string, version: string, files: ReleaseFile[]): void {
  const signed = files.find((f) => f.name === SIGNATURE_FILE);
  const howToSign = `sign the build where it is made: npm run fleet -- release sign ${folder} --key <release key> (docs/deploy.md)`;
  if (!signed) throw new ReleaseFolderError(`${folder} has no ${SIGNATURE_FILE}: releases must be signed with the fleet release key; ${howToSign}`);
  const parsed = parseSignatureFile(readFileSync(path.join(folder, SIGNATURE_FILE), 'utf8'));
  if (!parsed.ok) throw new ReleaseFolderError(`${parsed.message}; ${howToSign}`);
  const manifest = parsed.manifest;
  if (manifest.version !== version)
    throw new ReleaseFolderError(`${SIGNATURE_FILE} signs version ${manifest.version} but the feeds say ${version}: sign this build again`);
  const listed = new Map(manifest.files.map((f) => [f.name, f]));
  for (const file of files) {
    if (file.name === SIGNATURE_FILE) continue;
    const entry = listed.get(file.name);
    if (!entry) throw new ReleaseFolderError(`${file.name} is not covered by ${SIGNATURE_FILE}: sign the folder again after the build is complete`);
    if (entry.sha512 !== file.sha512 || entry.size !== file.size)
      throw new ReleaseFolderError(`${file.name} is not the file that was signed (its SHA-512 or size differs): the copy is damaged or altered`);
  }
  for (const name of listed.keys()) {
    if (!files.some((f) => f.name === name))
      throw new ReleaseFolderError(`${SIGNATURE_FILE} signs ${name}, which is not in ${folder}: copy the whole signed folder`);
  }
}
