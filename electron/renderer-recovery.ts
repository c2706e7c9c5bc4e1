/**
 * The renderer is disposable: the core, its socket and its database live in main. When the
 * page crashes or hangs, reload it; the UI rebuilds itself from the next snapshot.
 */
import type { BrowserWindow } from 'electron';
import type { Logger } from 'pino';

export interface RecoveryOptions {
  log?: Logger;
  /** How long a hang may last before the renderer is killed and reloaded. */
  hangGraceMs?: number;
  /** Delay before a reload after a crash, doubled per crash within a minute (crash loops). */
  reloadDelayMs?: number;
}

export function watchRenderer(win: BrowserWindow, opts: RecoveryOptions = {}): void {
  const hangGraceMs = opts.hangGraceMs ?? 10_000;
  const baseDelay = opts.reloadDelayMs ?? 500;
  const contents = win.webContents;
  let recentCrashes: number[] = [];
  let hangTimer: ReturnType<typeof setTimeout> | undefined;

  const reload = (why: string): void => {
    if (win.isDestroyed()) return;
    const now = Date.now();
    recentCrashes = [...recentCrashes.filter((t) => now - t < 60_000), now];
    const delay = Math.min(30_000, baseDelay * 2 ** (recentCrashes.length - 1));
    opts.log?.warn({ why, delay, crashesLastMinute: recentCrashes.length }, 'reloading the renderer');
    setTimeout(() => {
      if (!win.isDestroyed()) contents.reload();
    }, delay);
  };

  contents.on('render-process-gone', (_event, details) => {
    opts.log?.error({ reason: details.reason, exitCode: details.exitCode }, 'renderer process gone');
    if (details.reason !== 'clean-exit') reload(`render-process-gone: ${details.reason}`);
  });

  // A page that failed to load (dev server not up yet, a bad build) is retried the same way.
  contents.on('did-fail-load', (_event, errorCode, errorDescription, validatedURL, isMainFrame) => {
    if (!isMainFrame || errorCode === -3) return; // -3 is ERR_ABORTED: a navigation replaced it
    opts.log?.error({ errorCode, errorDescription, url: validatedURL }, 'renderer failed to load');
    reload(`did-fail-load: ${errorDescription}`);
  });

  win.on('unresponsive', () => {
    opts.log?.warn('renderer unresponsive');
    clearTimeout(hangTimer);
    hangTimer = setTimeout(() => {
      if (win.isDestroyed()) return;
      // Killing it fires render-process-gone, which reloads.
      contents.forcefullyCrashRenderer();
    }, hangGraceMs);
  });
  win.on('responsive', () => {
    clearTimeout(hangTimer);
    opts.log?.info('renderer responsive again');
  });
  win.on('closed', () => clearTimeout(hangTimer));
}
