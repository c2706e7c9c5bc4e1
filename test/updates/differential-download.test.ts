/**
 * A differential update through the relay with electron-updater's own downloader: the old and
 * new blockmaps are found under the cab's feed (the old one in the older release's folder),
 * unchanged blocks are copied from the installed file, and the changed ones arrive as one
 * multipart/byteranges response that electron-updater's DataSplitter takes apart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { CancellationToken } from 'builder-util-runtime';
import { GenericDifferentialDownloader } from 'electron-updater/out/differentialDownloader/GenericDifferentialDownloader.js';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from '../relay/helpers.js';
import { addCabs, sha512, startRelayWithUpdates, tempDir, signFolder } from './fixtures.js';
import { NodeUpdaterExecutor } from './node-executor.js';

const BLOCK = 4096;
const blockmapOf = (data: Buffer) => {
  const sizes: number[] = [];
  const checksums: string[] = [];
  for (let off = 0; off < data.length; off += BLOCK) {
    const block = data.subarray(off, off + BLOCK);
    sizes.push(block.length);
    checksums.push(createHash('sha256').update(block).digest('base64'));
  }
  return { version: '2', files: [{ name: 'file', offset: 0, checksums, sizes }] };
};

async function writeWindowsRelease(updatesDir: string, version: string, exe: Buffer) {
  const folder = path.join(updatesDir, version);
  mkdirSync(folder, { recursive: true });
  const name = `cabpay-${version}-x64.exe`;
  writeFileSync(path.join(folder, name), exe);
  writeFileSync(path.join(folder, `${name}.blockmap`), gzipSync(JSON.stringify(blockmapOf(exe))));
  writeFileSync(
    path.join(folder, 'latest.yml'),
    `version: ${version}\nfiles:\n  - url: ${name}\n    sha512: ${sha512(exe)}\n    size: ${exe.length}\npath: ${name}\nsha512: ${sha512(exe)}\nreleaseDate: '2026-11-21T12:00:00.000Z'\n`,
  );
  await signFolder(folder);
}

describe('differential download through the relay', () => {
  let relay: Awaited<ReturnType<typeof startRelayWithUpdates>>;
  let token: string;
  const cabId = 'cab-diff';
  const oldExe = randomBytes(BLOCK * 40);
  const newExe = Buffer.from(oldExe);
  // Changed blocks 3, 7–8 and 30: three separate ranges, one of them two blocks long.
  for (const b of [3, 7, 8, 30]) randomBytes(BLOCK).copy(newExe, b * BLOCK);

  beforeAll(async () => {
    relay = await startRelayWithUpdates();
    token = (await addCabs(relay.url, [cabId])).get(cabId)!;
    await writeWindowsRelease(relay.updatesDir, '1.0.0', oldExe);
    await writeWindowsRelease(relay.updatesDir, '1.1.0', newExe);
    for (const version of ['1.0.0', '1.1.0']) expect((await admin(relay.url, 'POST', '/admin/releases', { version })).status).toBe(201);
    await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 100 });
  });
  afterAll(async () => {
    await relay?.app.close();
  });

  it('copies unchanged blocks and fetches only the changed ones, in one multi-range request', async () => {
    const executor = new NodeUpdaterExecutor();
    const ranges: string[] = [];
    const createRequest = executor.createRequest.bind(executor);
    executor.createRequest = (options: any, callback: any) => {
      if (options.headers?.Range) ranges.push(options.headers.Range);
      return createRequest(options, callback);
    };
    const headers = { authorization: `Bearer ${token}` };
    const provider = new GenericProvider({ provider: 'generic', url: `${relay.url}/updates/${cabId}/` }, { channel: null, isAddNoCacheQuery: false } as any, {
      platform: 'win32',
      executor: executor as any,
      isUseMultipleRangeRequest: true,
    });
    provider.setRequestHeaders(headers);
    const info = await provider.getLatestVersion();
    const [file] = provider.resolveFiles(info);
    expect(info.version).toBe('1.1.0');

    // The blockmap URLs electron-updater derives: the old one names 1.0.0's installer.
    const [oldMapUrl, newMapUrl] = (await provider.getBlockMapFiles(file!.url, '1.0.0', '1.1.0')) as URL[];
    expect(oldMapUrl!.href).toBe(`${relay.url}/updates/${cabId}/cabpay-1.0.0-x64.exe.blockmap`);
    const fetchMap = async (url: URL) => {
      const res = await fetch(url, { headers });
      expect(res.status, url.href).toBe(200);
      return JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString());
    };
    const oldMap = await fetchMap(oldMapUrl!);
    const newMap = await fetchMap(newMapUrl!);

    const dir = tempDir('cabpay-diff-');
    const oldFile = path.join(dir, 'installed.exe');
    const newFile = path.join(dir, 'update.exe');
    writeFileSync(oldFile, oldExe);
    const silent = { info() {}, warn() {}, error() {}, debug: undefined };
    const downloader = new GenericDifferentialDownloader(file!.info as any, executor as any, {
      newUrl: file!.url,
      oldFile,
      newFile,
      logger: silent as any,
      isUseMultipleRangeRequest: true,
      requestHeaders: headers,
      cancellationToken: new CancellationToken(),
    });
    await downloader.download(oldMap, newMap);

    expect(sha512(readFileSync(newFile))).toBe(file!.info.sha512);
    expect(ranges).toEqual([`bytes=${3 * BLOCK}-${4 * BLOCK - 1}, ${7 * BLOCK}-${9 * BLOCK - 1}, ${30 * BLOCK}-${31 * BLOCK - 1}`]);
  });
});
