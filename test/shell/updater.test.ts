import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReleaseGuard } from '../../electron/release-guard.js';
import { canInstallNow, pendingUpdateFile, relayUpdateFeed, startUpdater } from '../../electron/updater.js';
import type { UpdateRefusalReport } from '../../protocol/relay-protocol.js';
import type { RideView } from '../../protocol/kiosk-api.js';
import { baseSnapshot, MemoryCore } from './helpers/memory-core.js';

const ride = (state: RideView['state']): RideView => ({
  rideId: 'r1',
  merchantOrderId: 'cab-7.r1',
  state,
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: null,
  lines: [],
  orderAmount: 0,
  currency: 'SEK',
  order: 'none',
  tipAmount: null,
  paymentQr: null,
  failure: null,
  refusedEvent: null,
});

describe('canInstallNow', () => {
  it('allows installing only with no ride, an empty outbox and no pending rides', () => {
    expect(canInstallNow(baseSnapshot())).toBe(true);
    expect(canInstallNow(baseSnapshot({ ride: ride('idle') }))).toBe(true);
    for (const state of ['on_ride', 'ended', 'awaiting_payment', 'paid', 'failed', 'canceled'] as const) {
      expect(canInstallNow(baseSnapshot({ ride: ride(state) })), state).toBe(false);
    }
    expect(canInstallNow(baseSnapshot({ outboxDepth: 1 }))).toBe(false);
    expect(canInstallNow(baseSnapshot({ pendingRides: 1 }))).toBe(false);
  });
});

class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = true;
  logger: unknown = null;
  requestHeaders: Record<string, string> | null = null;
  feeds: unknown[] = [];
  checks = 0;
  installs: [boolean | undefined, boolean | undefined][] = [];
  failChecks = false;
  checkForUpdates(): Promise<unknown> {
    this.checks++;
    return this.failChecks ? Promise.reject(new Error('ENOTFOUND updates.example')) : Promise.resolve(null);
  }
  setFeedURL(options: unknown): void {
    this.feeds.push(options);
  }
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void {
    this.installs.push([isSilent, isForceRunAfter]);
  }
}

/** A guard that takes every download as signed (the signature itself: test/updates). */
const acceptSigned: ReleaseGuard = { verify: async () => ({ ok: true, value: 'cabpay-0.2.0.AppImage' }), reportRefusal: async () => {} };

describe('startUpdater', () => {
  const log = pino({ level: 'silent' });
  let updater: FakeUpdater;
  let core: MemoryCore;
  let stop: () => void;

  beforeEach(() => {
    vi.useFakeTimers();
    updater = new FakeUpdater();
    core = new MemoryCore();
    stop = startUpdater({ guard: acceptSigned, updater, core, log, intervalMs: 60_000, jitterMs: 10_000, settleMs: 5_000, random: () => 0.5 });
  });
  afterEach(() => {
    stop();
    vi.useRealTimers();
  });

  it('downloads in the background and never installs on quit by itself', () => {
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(false);
  });

  it('checks after the jitter, then every interval plus jitter; failures are not fatal', async () => {
    updater.failChecks = true;
    await vi.advanceTimersByTimeAsync(4_999);
    expect(updater.checks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(updater.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(65_000);
    expect(updater.checks).toBe(2);
    updater.emit('error', new Error('signature mismatch'));
    expect(updater.installs).toEqual([]);
  });

  it('waits through a ride and a non-empty outbox, then installs once idle has settled', async () => {
    core.publish({ ride: ride('on_ride') });
    updater.emit('update-downloaded', { version: '0.2.0', downloadedFile: '/cache/cabpay-0.2.0.AppImage' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(updater.installs).toEqual([]);

    core.publish({ ride: null, outboxDepth: 1 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(updater.installs).toEqual([]);

    core.publish({ outboxDepth: 0 });
    await vi.advanceTimersByTimeAsync(4_000);
    expect(updater.installs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(updater.installs).toEqual([[true, true]]);
  });

  it('cancels a pending install when a ride starts during the settle time', async () => {
    updater.emit('update-downloaded', { version: '0.2.0', downloadedFile: '/cache/cabpay-0.2.0.AppImage' });
    await vi.advanceTimersByTimeAsync(3_000);
    core.publish({ ride: ride('on_ride') });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(updater.installs).toEqual([]);
  });

  it('never installs a download the guard refuses, reports it, and forgets an earlier accepted one', async () => {
    stop();
    const reports: UpdateRefusalReport[] = [];
    const refuseAltered: ReleaseGuard = {
      verify: async (r) =>
        r.version === '0.3.0'
          ? { ok: false, error: { code: 'altered', message: 'not a file the fleet signed' } }
          : { ok: true, value: 'cabpay-0.2.0.AppImage' },
      reportRefusal: async (report) => void reports.push(report),
    };
    core.publish({ ride: ride('on_ride') });
    stop = startUpdater({ guard: refuseAltered, updater, core, log, settleMs: 5_000, jitterMs: 10_000, intervalMs: 60_000, random: () => 0.5 });
    updater.emit('update-downloaded', { version: '0.2.0', downloadedFile: '/cache/a' });
    await vi.advanceTimersByTimeAsync(0);
    // The cache now holds 0.3.0, which is refused: installing now would install it.
    updater.emit('update-downloaded', { version: '0.3.0', downloadedFile: '/cache/b' });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([{ version: '0.3.0', code: 'altered', message: 'not a file the fleet signed' }]);
    core.publish({ ride: null });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(updater.installs).toEqual([]);
  });

  it('refuses a download electron-updater names no file for', async () => {
    stop();
    const reports: UpdateRefusalReport[] = [];
    stop = startUpdater({ guard: { ...acceptSigned, reportRefusal: async (r) => void reports.push(r) }, updater, core, log, settleMs: 5_000 });
    updater.emit('update-downloaded', { version: '0.2.0' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(updater.installs).toEqual([]);
    expect(reports.map((r) => r.code)).toEqual(['unverifiable']);
  });

  it('does nothing on idle states before an update is downloaded', async () => {
    core.publish({ outboxDepth: 0 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(updater.installs).toEqual([]);
  });
});

describe('the relay feed and a pending update across a power cut', () => {
  const log = pino({ level: 'silent' });
  const config = { relayUrl: 'https://relay.fleet.example/base', cabId: 'cab-7', deviceToken: 'device-token-0123456789' };
  let updater: FakeUpdater;
  let dir: string;

  beforeEach(() => {
    vi.useFakeTimers();
    updater = new FakeUpdater();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-updater-'));
  });
  afterEach(() => vi.useRealTimers());

  it('points electron-updater at the cab’s feed on the relay, with its device token on every request', () => {
    const feed = relayUpdateFeed(config);
    expect(feed).toEqual({
      provider: 'generic',
      url: 'https://relay.fleet.example/base/updates/cab-7/',
      requestHeaders: { authorization: 'Bearer device-token-0123456789' },
    });
    const stop = startUpdater({ updater, core: new MemoryCore(), log, feed, guard: acceptSigned });
    expect(updater.feeds).toEqual([feed]);
    expect(updater.requestHeaders).toEqual({ authorization: 'Bearer device-token-0123456789' });
    stop();
  });

  it('records a downloaded update durably, and after a restart checks soon instead of after the jitter', async () => {
    const file = path.join(dir, 'pending-update.json');
    const opts = { guard: acceptSigned, core: new MemoryCore(), log, jitterMs: 3_600_000, resumeDelayMs: 1_000, random: () => 0.9 };
    const stop = startUpdater({ ...opts, updater, pending: { file, currentVersion: '1.0.0' } });
    updater.emit('update-downloaded', { version: '1.1.0', downloadedFile: '/cache/cabpay-1.1.0.AppImage' });
    await vi.advanceTimersByTimeAsync(0); // the signature check
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: '1.1.0' });
    stop(); // the power cut: no install happened

    const after = new FakeUpdater();
    const stop2 = startUpdater({ ...opts, updater: after, pending: { file, currentVersion: '1.0.0' } });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(after.checks).toBe(1); // not 0.9 h later
    stop2();
  });

  it('drops the marker once the new version runs, and then waits the jitter as usual', async () => {
    const file = path.join(dir, 'pending-update.json');
    pendingUpdateFile.write(file, '1.1.0');
    const stop = startUpdater({
      guard: acceptSigned,
      updater,
      core: new MemoryCore(),
      log,
      jitterMs: 10_000,
      resumeDelayMs: 1_000,
      random: () => 0.5,
      pending: { file, currentVersion: '1.1.0' },
    });
    expect(existsSync(file)).toBe(false);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(updater.checks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(updater.checks).toBe(1);
    stop();
  });

  it('keeps running when the feed cannot be set', () => {
    updater.setFeedURL = () => {
      throw new Error('Invalid URL');
    };
    const stop = startUpdater({ guard: acceptSigned, updater, core: new MemoryCore(), log, feed: relayUpdateFeed(config) });
    expect(updater.requestHeaders).toBeNull();
    expect(updater.autoDownload).toBe(true);
    stop();
  });

  it('ignores a torn marker instead of failing', () => {
    const file = path.join(dir, 'pending-update.json');
    writeFileSync(file, '{"vers');
    expect(pendingUpdateFile.read(file)).toBeNull();
    const stop = startUpdater({ guard: acceptSigned, updater, core: new MemoryCore(), log, pending: { file, currentVersion: '1.0.0' } });
    stop();
  });
});
