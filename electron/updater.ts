/**
 * Background updates through electron-updater: check now and then (with jitter, so a fleet
 * does not hit the update server at once), download in the background, install only a release
 * the fleet signed (release-guard.ts) and only when no ride or payment can be disturbed.
 * Update errors are logged, never fatal.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { KioskSnapshot } from '../protocol/kiosk-api.js';
import type { KioskCore } from './core/kiosk-core.js';
import type { ReleaseGuard } from './release-guard.js';

/** The part of electron-updater's AppUpdater this module drives. */
export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  logger: unknown;
  /** Sent with every feed and download request (electron-updater's AppUpdater.requestHeaders). */
  requestHeaders: OutgoingHttpHeaders | null;
  /** electron-updater's UpdateDownloadedEvent carries the file it would install. */
  on(event: 'update-downloaded', listener: (info: { version: string; downloadedFile?: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  checkForUpdates(): Promise<unknown>;
  setFeedURL(options: RelayFeed): void;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
}

/**
 * The install gate: no ride in progress, no unsent order in the outbox, and no earlier ride
 * still waiting for its payment confirmation.
 */
export function canInstallNow(snapshot: KioskSnapshot): boolean {
  const rideIdle = snapshot.ride === null || snapshot.ride.state === 'idle';
  return rideIdle && snapshot.outboxDepth === 0 && snapshot.pendingRides === 0;
}

/** electron-updater's generic provider pointed at this cab's feed on the relay. */
export interface RelayFeed {
  provider: 'generic';
  url: string;
  requestHeaders: { authorization: string };
}

/**
 * The relay serves each cab the release its staged rollout assigns, at
 * <relayUrl>/updates/<cabId>/latest*.yml, to the cab's device token only.
 */
export function relayUpdateFeed(config: { relayUrl: string; cabId: string; deviceToken: string }): RelayFeed {
  const base = config.relayUrl.endsWith('/') ? config.relayUrl : `${config.relayUrl}/`;
  return {
    provider: 'generic',
    url: new URL(`updates/${encodeURIComponent(config.cabId)}/`, base).href,
    requestHeaders: { authorization: `Bearer ${config.deviceToken}` },
  };
}

const pendingMarker = z.object({ version: z.string().min(1), downloadedAt: z.string() });

/**
 * A small file naming the update that is downloaded but not installed yet. electron-updater
 * keeps the file itself in its cache (and checks its SHA-512 before reuse); the marker tells
 * the next start, after a power cut, to look again at once instead of after the jitter.
 */
export const pendingUpdateFile = {
  read(file: string): { version: string } | null {
    try {
      const parsed = pendingMarker.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null; // absent or torn: the normal check finds the cached update anyway
    }
  },
  /** Write, fsync, rename: a power cut leaves the old marker or the new one, never half. */
  write(file: string, version: string): void {
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ version, downloadedAt: new Date().toISOString() }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  },
  remove(file: string): void {
    rmSync(file, { force: true });
  },
};

export interface UpdaterOptions {
  updater: UpdaterLike;
  core: Pick<KioskCore, 'getState' | 'onState'>;
  log: Logger;
  /** Every downloaded release is verified against the fleet release key before it may install. */
  guard: ReleaseGuard;
  /** Between checks; default 4 h. */
  intervalMs?: number;
  /** Random extra delay before each check; default 30 min. */
  jitterMs?: number;
  /** How long the gate must hold before installing, so a driver starting a ride is not cut off; default 60 s. */
  settleMs?: number;
  random?: () => number;
  /** Where to check: this cab's feed on the relay. Unset: the feed built into the app. */
  feed?: RelayFeed;
  /** The pending-update marker (in userData) and the running version it is compared with. */
  pending?: { file: string; currentVersion: string };
  /** First check after a start with a downloaded update pending; default 30 s. */
  resumeDelayMs?: number;
}

export function startUpdater(opts: UpdaterOptions): () => void {
  const { updater, core, log } = opts;
  const intervalMs = opts.intervalMs ?? 4 * 60 * 60_000;
  const jitterMs = opts.jitterMs ?? 30 * 60_000;
  const settleMs = opts.settleMs ?? 60_000;
  const random = opts.random ?? Math.random;
  const resumeDelayMs = opts.resumeDelayMs ?? 30_000;

  updater.autoDownload = true;
  // Never install behind our back on quit: only through the gate below.
  updater.autoInstallOnAppQuit = false;
  updater.logger = {
    info: (m: unknown) => log.info({ updater: m }, 'updater'),
    warn: (m: unknown) => log.warn({ updater: m }, 'updater'),
    error: (m: unknown) => log.error({ updater: m }, 'updater'),
    debug: (m: unknown) => log.debug({ updater: m }, 'updater'),
  };
  if (opts.feed) {
    try {
      updater.setFeedURL(opts.feed);
      // setFeedURL keeps only the URL; the token goes on every request through requestHeaders.
      updater.requestHeaders = { ...opts.feed.requestHeaders };
    } catch (err) {
      // Never fatal: the kiosk keeps taking payments, on the feed built into the app.
      log.error({ err, url: opts.feed.url }, 'cannot use the relay update feed');
    }
  }

  let stopped = false;
  let downloaded: string | null = null;
  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  let settleTimer: ReturnType<typeof setTimeout> | undefined;

  const scheduleCheck = (delay: number): void => {
    checkTimer = setTimeout(() => {
      updater.checkForUpdates().catch((err: unknown) => log.warn({ err }, 'update check failed'));
      if (!stopped) scheduleCheck(intervalMs + random() * jitterMs);
    }, delay);
  };

  const considerInstall = (snapshot: KioskSnapshot): void => {
    if (stopped || downloaded === null) return;
    if (!canInstallNow(snapshot)) {
      clearTimeout(settleTimer);
      settleTimer = undefined;
      return;
    }
    settleTimer ??= setTimeout(() => {
      settleTimer = undefined;
      // Re-read: the state may have changed without a snapshot we acted on.
      if (stopped || !canInstallNow(core.getState())) return;
      log.info({ version: downloaded }, 'installing the downloaded update');
      try {
        updater.quitAndInstall(true, true);
      } catch (err) {
        log.error({ err }, 'update install failed');
      }
    }, settleMs);
  };

  updater.on('error', (err) => log.warn({ err }, 'updater error'));
  let downloads = 0;
  updater.on('update-downloaded', (info) => {
    // Whatever was accepted before, the file electron-updater would install now is this one.
    downloaded = null;
    const download = ++downloads;
    void verify(info).then((accepted) => {
      if (!accepted || stopped || download !== downloads) return;
      downloaded = info.version;
      log.info({ version: info.version }, 'signed update downloaded; waiting for an idle moment');
      if (opts.pending) {
        try {
          pendingUpdateFile.write(opts.pending.file, info.version);
        } catch (err) {
          log.warn({ err }, 'could not record the pending update; it is found at the next check anyway');
        }
      }
      considerInstall(core.getState());
    });
  });

  /** True when the fleet signed exactly this download; a refusal is logged and reported. */
  async function verify(info: { version: string; downloadedFile?: string }): Promise<boolean> {
    const verdict = info.downloadedFile
      ? await opts.guard.verify({ version: info.version, downloadedFile: info.downloadedFile }).catch((err: unknown) => ({
          ok: false as const,
          error: { code: 'unverifiable' as const, message: `the downloaded file cannot be checked (${(err as Error).message})` },
        }))
      : { ok: false as const, error: { code: 'unverifiable' as const, message: 'electron-updater named no downloaded file to check' } };
    if (verdict.ok) return true;
    log.error({ version: info.version, refusal: verdict.error }, 'update refused: not installing it');
    if (opts.pending) pendingUpdateFile.remove(opts.pending.file);
    await opts.guard.reportRefusal({ version: info.version, code: verdict.error.code, message: verdict.error.message.slice(0, 1000) });
    return false;
  }
  const unsubscribe = core.onState(considerInstall);
  scheduleCheck(firstCheckDelay());

  /** Soon after a power cut with an update waiting; otherwise spread over the jitter. */
  function firstCheckDelay(): number {
    if (!opts.pending) return random() * jitterMs;
    const marker = pendingUpdateFile.read(opts.pending.file);
    if (marker && marker.version !== opts.pending.currentVersion) {
      log.info({ version: marker.version }, 'an update was downloaded before the restart; checking soon to install it');
      return resumeDelayMs;
    }
    // Installed (or never there): nothing pending any more.
    if (marker) pendingUpdateFile.remove(opts.pending.file);
    return random() * jitterMs;
  }

  return () => {
    stopped = true;
    clearTimeout(checkTimer);
    clearTimeout(settleTimer);
    unsubscribe();
  };
}
