/** Release folders shaped like electron-builder's output, for the update feed tests. */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebUpdater } from 'electron-updater/out/DebUpdater.js';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import type { RelayTlsOptions } from '../../electron/core/relay-link.js';
import { NodeUpdaterExecutor } from './node-executor.js';
import { createLogger } from '../../backend-relay/logger.js';
import { addCab, makeSigner, relayConfig } from '../relay/helpers.js';
import { SIGNATURE_FILE, signRelease } from '../../protocol/release-signature.js';
import { readReleaseFiles } from '../../backend-relay/updates/release-folder.js';

export interface ReleaseKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function makeReleaseKeys(): ReleaseKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: createPublicKey(privateKey), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The fleet key the test releases are signed with (the kiosk under test trusts it). */
export const TEST_RELEASE_KEYS = makeReleaseKeys();

/** Writes cabpay-release.sig over the folder as `fleet release sign` would. */
export async function signFolder(
  folder: string,
  keys: Pick<ReleaseKeys, 'privateKey' | 'publicKey'> = TEST_RELEASE_KEYS,
  rotations: string[] = [],
): Promise<void> {
  const release = await readReleaseFiles(folder);
  const files = release.files.filter((f) => f.name !== SIGNATURE_FILE).map(({ name, sha512, size }) => ({ name, sha512, size }));
  writeFileSync(path.join(folder, SIGNATURE_FILE), JSON.stringify(await signRelease({ version: release.version, files }, keys, rotations)));
}

export function tempDir(prefix = 'cabpay-updates-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('base64');

export interface FakeRelease {
  version: string;
  dir: string;
  /** Artifact name → content. */
  files: Map<string, Buffer>;
}

/**
 * Writes <updatesDir>/<version>/ with an AppImage, a deb, an NSIS installer with its blockmap,
 * and latest-linux.yml / latest.yml that describe them, as `electron-builder` would, signed
 * with the test fleet key unless `signWith` is null.
 */
export async function writeRelease(
  updatesDir: string,
  version: string,
  opts: { dir?: string; yamlExtra?: string; signWith?: Pick<ReleaseKeys, 'privateKey' | 'publicKey'> | null } = {},
): Promise<FakeRelease> {
  const dir = opts.dir ?? version;
  const folder = path.join(updatesDir, dir);
  mkdirSync(folder, { recursive: true });
  const files = new Map<string, Buffer>([
    [`cabpay-${version}-x86_64.AppImage`, Buffer.concat([Buffer.from(`AppImage ${version}\n`), randomBytes(48 * 1024)])],
    [`cabpay-${version}-amd64.deb`, Buffer.concat([Buffer.from(`deb ${version}\n`), randomBytes(32 * 1024)])],
    [`cabpay-${version}-x64.exe`, Buffer.concat([Buffer.from(`MZ nsis ${version}\n`), randomBytes(40 * 1024)])],
    [`cabpay-${version}-x64.exe.blockmap`, randomBytes(900)],
  ]);
  for (const [name, data] of files) writeFileSync(path.join(folder, name), data);
  const entry = (name: string) => `  - url: ${name}\n    sha512: ${sha512(files.get(name)!)}\n    size: ${files.get(name)!.length}\n`;
  const appImage = `cabpay-${version}-x86_64.AppImage`;
  const deb = `cabpay-${version}-amd64.deb`;
  const exe = `cabpay-${version}-x64.exe`;
  const releaseDate = `'2026-11-21T12:00:00.000Z'`;
  writeFileSync(
    path.join(folder, 'latest-linux.yml'),
    `version: ${version}\nfiles:\n${entry(appImage)}${entry(deb)}path: ${appImage}\nsha512: ${sha512(files.get(appImage)!)}\nreleaseDate: ${releaseDate}\n${opts.yamlExtra ?? ''}`,
  );
  writeFileSync(
    path.join(folder, 'latest.yml'),
    `version: ${version}\nfiles:\n${entry(exe)}path: ${exe}\nsha512: ${sha512(files.get(exe)!)}\nreleaseDate: ${releaseDate}\n${opts.yamlExtra ?? ''}`,
  );
  // A feed with stagingPercentage is refused before its signature is looked at; sign it anyway.
  if (opts.signWith !== null) await signFolder(folder, opts.signWith ?? TEST_RELEASE_KEYS).catch(() => {});
  return { version, dir, files };
}

/** A relay with RELAY_UPDATES_DIR, in process, on an ephemeral port. */
export async function startRelayWithUpdates(over: { updatesDir?: string; tls?: { certFile: string; keyFile: string } } = {}) {
  const dir = tempDir('cabpay-updates-relay-');
  const signer = await makeSigner(dir);
  const updatesDir = over.updatesDir ?? path.join(dir, 'updates');
  mkdirSync(updatesDir, { recursive: true });
  const config = relayConfig(dir, signer, { updatesDir, ...(over.tls ? { tls: over.tls } : {}) });
  const app: RelayApp = await buildRelayApp(config, { logger: createLogger('silent') });
  const url = await app.listen();
  return { dir, signer, updatesDir, app, url, config };
}

/** Registers cabs and returns their device tokens. */
export async function addCabs(url: string, ids: string[]): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const id of ids) tokens.set(id, await addCab(url, id));
  return tokens;
}

/** A real electron-updater DebUpdater for a tablet running `version`, outside Electron. */
export function tabletUpdater(feedUrl: string | null, token: string, version: string, home = tempDir('cabpay-tablet-'), tls: RelayTlsOptions = {}) {
  // What electron-builder puts in resources/: where the update cache lives.
  writeFileSync(path.join(home, 'app-update.yml'), `provider: generic\nurl: ${feedUrl ?? 'https://built-in.invalid/'}\nupdaterCacheDirName: cabpay-updater\n`);
  const app = {
    version,
    name: 'cabpay',
    isPackaged: true,
    appUpdateConfigPath: path.join(home, 'app-update.yml'),
    userDataPath: path.join(home, 'userData'),
    baseCachePath: path.join(home, 'cache'),
    whenReady: () => Promise.resolve(),
    relaunch() {},
    quit() {},
    onQuit() {},
  };
  const updater = new DebUpdater(undefined, app as any);
  // Outside Electron there is no net module: Node's http, set before the provider is made.
  const executor = new NodeUpdaterExecutor(tls);
  (updater as any).httpExecutor = executor;
  if (feedUrl !== null) {
    updater.setFeedURL({ provider: 'generic', url: feedUrl } as any);
    updater.requestHeaders = { authorization: `Bearer ${token}` };
  }
  updater.autoDownload = false;
  updater.autoInstallOnAppQuit = false;
  updater.logger = null;
  return { updater, home, executor };
}
