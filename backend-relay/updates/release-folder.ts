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
import { releaseVersion } from './version.js';

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
    .array(z.object({ url: z.string().regex(RELEASE_FILE_NAME, 'must be a file name in the same folder'), sha512: z.string().min(1), size: z.number().int().nonnegative().optional() }))
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
  let names: string[];
  try {
    names = readdirSync(folder, { withFileTypes: true })
      .filter((e) => e.isFile() && RELEASE_FILE_NAME.test(e.name) && (CHANNEL_FILE.test(e.name) || ARTIFACT_FILE.test(e.name)))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new ReleaseFolderError(`cannot read ${folder} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): copy the electron-builder output (release/) there first`);
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
      const why = feed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
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
      if (entry.sha512 !== file.sha512) throw new ReleaseFolderError(`${entry.url} does not match the SHA-512 in ${channel}: the copy is damaged or from another build`);
    }
  }
  if (version === undefined) throw new ReleaseFolderError(`no version found in ${folder}`);
  if (expectedVersion !== undefined && expectedVersion !== version) {
    throw new ReleaseFolderError(`the feeds in ${folder} are for version ${version}, not ${expectedVersion}`);
  }
  return { version, dir, channels, files };
}
