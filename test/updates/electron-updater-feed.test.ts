/**
 * The relay's per-cab feed, read by electron-updater's own code: its generic provider (Windows
 * and Linux channel files), and a whole DebUpdater that checks, compares versions, downloads
 * and verifies the SHA-512 over real HTTP with the cab's device token.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { relayReleaseGuard } from '../../electron/release-guard.js';
import { relayUpdateFeed, startUpdater } from '../../electron/updater.js';
import { MemoryCore } from '../shell/helpers/memory-core.js';
import { rolloutBucket } from '../../backend-relay/updates/rollout.js';
import { admin } from '../relay/helpers.js';
import { NodeUpdaterExecutor } from './node-executor.js';
import { TEST_RELEASE_KEYS, addCabs, sha512, startRelayWithUpdates, tabletUpdater, writeRelease, type FakeRelease } from './fixtures.js';

/** The kiosk's release guard, trusting the test fleet key, for one cab's feed. */
function guardFor(feed: ReturnType<typeof relayUpdateFeed>) {
  return relayReleaseGuard({ trustedKeyPem: TEST_RELEASE_KEYS.publicPem, feed, log: pino({ level: 'silent' }) });
}

/** Cab ids whose stable bucket is inside / outside a 30% rollout. */
function cabsAround(percent: number) {
  const ids = Array.from({ length: 200 }, (_, i) => `cab-${i}`);
  const inside = ids.find((id) => rolloutBucket(id) < percent)!;
  const outside = ids.find((id) => rolloutBucket(id) >= percent)!;
  return { inside, outside };
}

function genericProvider(feedUrl: string, token: string, platform: 'linux' | 'win32') {
  const updaterStub = { channel: null, isAddNoCacheQuery: false } as any;
  const provider = new GenericProvider({ provider: 'generic', url: feedUrl }, updaterStub, {
    platform,
    executor: new NodeUpdaterExecutor() as any,
    isUseMultipleRangeRequest: true,
  });
  provider.setRequestHeaders({ authorization: `Bearer ${token}` });
  return provider;
}

describe('feed served by the relay, read by electron-updater', () => {
  let relay: Awaited<ReturnType<typeof startRelayWithUpdates>>;
  let v1: FakeRelease;
  let v2: FakeRelease;
  let tokens: Map<string, string>;
  const { inside, outside } = cabsAround(30);
  const feed = (cabId: string) => `${relay.url}/updates/${cabId}/`;

  beforeAll(async () => {
    process.env.TEST_UPDATER_ARCH = 'x64'; // latest-linux.yml whatever this machine is
    relay = await startRelayWithUpdates();
    tokens = await addCabs(relay.url, [inside, outside]);
    v1 = await writeRelease(relay.updatesDir, '1.0.0');
    v2 = await writeRelease(relay.updatesDir, '1.1.0');
    for (const version of ['1.0.0', '1.1.0']) expect((await admin(relay.url, 'POST', '/admin/releases', { version })).status).toBe(201);
    expect((await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 })).status).toBe(200);
    const res = await admin(relay.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 30 });
    expect(res.body.rollout).toMatchObject({ targetVersion: '1.1.0', stableVersion: '1.0.0', percent: 30 });
  });
  afterAll(async () => {
    await relay?.app.close();
  });

  it('GenericProvider on Linux: the cab inside 30% gets 1.1.0, the cab outside keeps 1.0.0', async () => {
    const infoIn = await genericProvider(feed(inside), tokens.get(inside)!, 'linux').getLatestVersion();
    const infoOut = await genericProvider(feed(outside), tokens.get(outside)!, 'linux').getLatestVersion();
    expect(infoIn.version).toBe('1.1.0');
    expect(infoOut.version).toBe('1.0.0');

    const files = genericProvider(feed(inside), tokens.get(inside)!, 'linux').resolveFiles(infoIn);
    expect(files.map((f) => f.url.href)).toEqual([`${feed(inside)}cabpay-1.1.0-x86_64.AppImage`, `${feed(inside)}cabpay-1.1.0-amd64.deb`]);
    // The resolved URLs download the very bytes the feed's checksums describe.
    for (const f of files) {
      const res = await fetch(f.url, { headers: { authorization: `Bearer ${tokens.get(inside)}` } });
      expect(res.status).toBe(200);
      expect(sha512(Buffer.from(await res.arrayBuffer()))).toBe(f.info.sha512);
    }
  });

  it('GenericProvider on Windows reads latest.yml and resolves the NSIS installer', async () => {
    const provider = genericProvider(feed(outside), tokens.get(outside)!, 'win32');
    const info = await provider.getLatestVersion();
    expect(info.version).toBe('1.0.0');
    const [file] = provider.resolveFiles(info);
    expect(file?.url.href).toBe(`${feed(outside)}cabpay-1.0.0-x64.exe`);
    expect(file?.info.sha512).toBe(sha512(v1.files.get('cabpay-1.0.0-x64.exe')!));
  });

  it('refuses a wrong or missing device token, and another cab’s token', async () => {
    await expect(genericProvider(feed(inside), 'not-the-token', 'linux').getLatestVersion()).rejects.toThrow(/401/);
    await expect(genericProvider(feed(inside), tokens.get(outside)!, 'linux').getLatestVersion()).rejects.toThrow(/401/);
    const res = await fetch(`${feed(inside)}latest-linux.yml`);
    expect(res.status).toBe(401);
  });

  it('a whole DebUpdater inside the rollout finds 1.1.0, downloads and verifies it; outside sees no update', async () => {
    const tabletIn = tabletUpdater(feed(inside), tokens.get(inside)!, '1.0.0');
    const check = await tabletIn.updater.checkForUpdates();
    expect(check?.isUpdateAvailable).toBe(true);
    expect(check?.updateInfo.version).toBe('1.1.0');
    const downloaded = await tabletIn.updater.downloadUpdate();
    const debFile = downloaded.find((f) => f.endsWith('.deb'))!;
    expect(readFileSync(debFile).equals(v2.files.get('cabpay-1.1.0-amd64.deb')!)).toBe(true);

    const tabletOut = tabletUpdater(feed(outside), tokens.get(outside)!, '1.0.0');
    const none = await tabletOut.updater.checkForUpdates();
    expect(none?.isUpdateAvailable).toBe(false);
    expect(none?.updateInfo.version).toBe('1.0.0');
  });

  it('a downloaded update survives a power cut: the next process finds it cached, without downloading again', async () => {
    const { updater, home } = tabletUpdater(feed(inside), tokens.get(inside)!, '1.0.0');
    await updater.checkForUpdates();
    const [first] = await updater.downloadUpdate();
    expect(first && existsSync(first)).toBe(true);

    // "Power cut": a new updater process with the same cache folder.
    const { updater: again, executor } = tabletUpdater(feed(inside), tokens.get(inside)!, '1.0.0', home);
    const downloaded = new Promise<{ version: string }>((resolve) => again.once('update-downloaded', resolve));
    again.autoDownload = true;
    await again.checkForUpdates();
    expect((await downloaded).version).toBe('1.1.0');
    expect(executor.downloads).toEqual([]);
  });

  it('the kiosk updater (electron/updater.ts) on a real DebUpdater: relay feed, token, download, install only when idle', async () => {
    const { updater } = tabletUpdater(null, '', '1.0.0');
    const installs: unknown[][] = [];
    (updater as any).quitAndInstall = (...args: unknown[]) => installs.push(args);
    const core = new MemoryCore();
    core.publish({ outboxDepth: 1 }); // an order still waiting to go out
    const downloaded = new Promise<{ version: string }>((resolve) => updater.once('update-downloaded', resolve));
    const stop = startUpdater({
      updater: updater as any,
      core,
      log: pino({ level: 'silent' }),
      feed: relayUpdateFeed({ relayUrl: relay.url, cabId: inside, deviceToken: tokens.get(inside)! }),
      guard: guardFor(relayUpdateFeed({ relayUrl: relay.url, cabId: inside, deviceToken: tokens.get(inside)! })),
      jitterMs: 0,
      settleMs: 50,
    });
    try {
      expect((await downloaded).version).toBe('1.1.0');
      await new Promise((r) => setTimeout(r, 200));
      expect(installs).toEqual([]); // not with an unsent order
      core.publish({ outboxDepth: 0 });
      await vi.waitFor(() => expect(installs).toEqual([[true, true]]), { timeout: 5_000 });
    } finally {
      stop();
    }
  });

  it('power cut between download and install: the restarted kiosk checks at once, reuses the download and installs when idle', async () => {
    const log = pino({ level: 'silent' });
    const feedFor = relayUpdateFeed({ relayUrl: relay.url, cabId: inside, deviceToken: tokens.get(inside)! });
    const first = tabletUpdater(null, '', '1.0.0');
    const pending = { file: path.join(first.home, 'pending-update.json'), currentVersion: '1.0.0' };
    const busy = new MemoryCore();
    busy.publish({ outboxDepth: 2 }); // never idle before the power cut
    const downloaded = new Promise((resolve) => first.updater.once('update-downloaded', resolve));
    const stopFirst = startUpdater({
      updater: first.updater as any,
      core: busy,
      log,
      feed: feedFor,
      guard: guardFor(feedFor),
      pending,
      jitterMs: 0,
      settleMs: 20,
    });
    await downloaded;
    // The marker is written once the download's signature is verified.
    await vi.waitFor(() => expect(existsSync(pending.file)).toBe(true), { timeout: 5_000 });
    stopFirst(); // the power goes

    // Restart: a check would normally wait up to the jitter (an hour here); the marker makes it prompt.
    const second = tabletUpdater(null, '', '1.0.0', first.home);
    const installs: unknown[][] = [];
    (second.updater as any).quitAndInstall = (...args: unknown[]) => installs.push(args);
    const stopSecond = startUpdater({
      updater: second.updater as any,
      core: new MemoryCore(),
      log,
      feed: feedFor,
      guard: guardFor(feedFor),
      pending,
      jitterMs: 3_600_000,
      resumeDelayMs: 10,
      settleMs: 20,
    });
    try {
      await vi.waitFor(() => expect(installs).toEqual([[true, true]]), { timeout: 10_000 });
      expect(second.executor.downloads).toEqual([]);
    } finally {
      stopSecond();
    }
  });
});
