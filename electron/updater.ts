/**
 * Background updates through electron-updater: check now and then (with jitter, so a fleet
 * does not hit the update server at once), download in the background, and install only when
 * no ride or payment can be disturbed. Update errors are logged, never fatal.
 */
import type { Logger } from 'pino';
import type { KioskSnapshot } from '../protocol/kiosk-api.js';
import type { KioskCore } from './core/kiosk-core.js';

/** The part of electron-updater's AppUpdater this module drives. */
export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  logger: unknown;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  checkForUpdates(): Promise<unknown>;
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

export interface UpdaterOptions {
  updater: UpdaterLike;
  core: Pick<KioskCore, 'getState' | 'onState'>;
  log: Logger;
  /** Between checks; default 4 h. */
  intervalMs?: number;
  /** Random extra delay before each check; default 30 min. */
  jitterMs?: number;
  /** How long the gate must hold before installing, so a driver starting a ride is not cut off; default 60 s. */
  settleMs?: number;
  random?: () => number;
}

export function startUpdater(opts: UpdaterOptions): () => void {
  const { updater, core, log } = opts;
  const intervalMs = opts.intervalMs ?? 4 * 60 * 60_000;
  const jitterMs = opts.jitterMs ?? 30 * 60_000;
  const settleMs = opts.settleMs ?? 60_000;
  const random = opts.random ?? Math.random;

  updater.autoDownload = true;
  // Never install behind our back on quit: only through the gate below.
  updater.autoInstallOnAppQuit = false;
  updater.logger = {
    info: (m: unknown) => log.info({ updater: m }, 'updater'),
    warn: (m: unknown) => log.warn({ updater: m }, 'updater'),
    error: (m: unknown) => log.error({ updater: m }, 'updater'),
    debug: (m: unknown) => log.debug({ updater: m }, 'updater'),
  };

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
  updater.on('update-downloaded', (info) => {
    downloaded = info.version;
    log.info({ version: info.version }, 'update downloaded; waiting for an idle moment');
    considerInstall(core.getState());
  });
  const unsubscribe = core.onState(considerInstall);
  scheduleCheck(random() * jitterMs);

  return () => {
    stopped = true;
    clearTimeout(checkTimer);
    clearTimeout(settleTimer);
    unsubscribe();
  };
}
