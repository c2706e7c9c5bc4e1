import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canInstallNow, startUpdater } from '../../electron/updater.js';
import type { RideView } from '../../protocol/kiosk-api.js';
import { baseSnapshot, MemoryCore } from './helpers/memory-core.js';

const ride = (state: RideView['state']): RideView => ({
  rideId: 'r1', merchantOrderId: 'cab-7.r1', state, startedAt: '2026-01-01T00:00:00Z', endedAt: null,
  lines: [], orderAmount: 0, currency: 'SEK', order: 'none', failure: null,
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
  checks = 0;
  installs: [boolean | undefined, boolean | undefined][] = [];
  failChecks = false;
  checkForUpdates(): Promise<unknown> {
    this.checks++;
    return this.failChecks ? Promise.reject(new Error('ENOTFOUND updates.example')) : Promise.resolve(null);
  }
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void {
    this.installs.push([isSilent, isForceRunAfter]);
  }
}

describe('startUpdater', () => {
  const log = pino({ level: 'silent' });
  let updater: FakeUpdater;
  let core: MemoryCore;
  let stop: () => void;

  beforeEach(() => {
    vi.useFakeTimers();
    updater = new FakeUpdater();
    core = new MemoryCore();
    stop = startUpdater({ updater, core, log, intervalMs: 60_000, jitterMs: 10_000, settleMs: 5_000, random: () => 0.5 });
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
    updater.emit('update-downloaded', { version: '0.2.0' });
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
    updater.emit('update-downloaded', { version: '0.2.0' });
    await vi.advanceTimersByTimeAsync(3_000);
    core.publish({ ride: ride('on_ride') });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(updater.installs).toEqual([]);
  });

  it('does nothing on idle states before an update is downloaded', async () => {
    core.publish({ outboxDepth: 0 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(updater.installs).toEqual([]);
  });
});
