/**
 * The Electron main process: a thin shell around the kiosk core. The core (SQLite, outbox,
 * relay socket) lives here and survives renderer crashes; the window only shows snapshots.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, safeStorage, session } from 'electron';
import electronUpdater from 'electron-updater';
import { pino } from 'pino';
import { jsonTerminalSafe } from '../protocol/terminal-text.js';
import { APP_ORIGIN, appLocation } from './app-origin.js';
import { registerAppScheme, serveAppProtocol } from './app-protocol.js';
import { createKioskCore } from './core/index.js';
import type { KioskCore } from './core/kiosk-core.js';
import { contentSecurityPolicy, originOf } from './csp.js';
import { registerIpc } from './ipc.js';
import { readKioskSetup } from './kiosk-config-source.js';
import { safeStorageCipher } from './safe-storage-cipher.js';
import { keepDisplayAwake } from './power.js';
import { watchRenderer } from './renderer-recovery.js';
import { hardenSession, hardenWebContents } from './security.js';
import { claimSingleInstance } from './single-instance.js';
import { relayUpdateFeed, startUpdater } from './updater.js';
import { pinUpdaterSession, UPDATER_SESSION_PARTITION } from './updater-tls.js';
import { relayReleaseGuard } from './release-guard.js';
import { relayLinkSecurity } from './core/relay-link.js';
import { RELEASE_PUBLIC_KEY_PEM } from '../build/release-public-key.js';
import { createMainWindow } from './window.js';

// The core logs what the relay sends: nothing in it reaches a terminal raw.
const log = pino({ name: 'kiosk', hooks: { streamWrite: jsonTerminalSafe } });
const here = path.dirname(fileURLToPath(import.meta.url));
const location = appLocation(app.isPackaged, process.env.ELECTRON_RENDERER_URL);

let mainWindow: BrowserWindow | null = null;
let core: KioskCore | null = null;
const cleanups: (() => void)[] = [];

registerAppScheme(); // must precede `ready`
app.enableSandbox();

if (!claimSingleInstance(app, () => mainWindow)) {
  app.quit();
} else {
  // Every webContents, present and future, gets the navigation/window/webview guards.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, { location, log }));
  app.whenReady().then(start).catch(fatal);
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', stopCoreThenQuit);
  process.once('SIGINT', () => app.quit());
  process.once('SIGTERM', () => app.quit());
}

async function start(): Promise<void> {
  // The relay sees the installed version, which is what a rollout tracks.
  // The device token and PIN hash move from the config file into the secret store (secret-store.ts).
  const setup = readKioskSetup(process.env, app.getPath('userData'), safeStorageCipher(safeStorage, process.platform, log));
  log.info({ file: setup.secrets.file, protection: setup.secrets.protection }, 'kiosk secrets at rest');
  const config = { ...setup.config, appVersion: app.getVersion() };
  const devServer = location.origin !== APP_ORIGIN;
  const csp = contentSecurityPolicy({
    connectSrc: [originOf(config.relayUrl), ...(devServer ? [location.origin.replace(/^http/, 'ws')] : [])],
    allowInlineScripts: devServer,
  });
  hardenSession(session.defaultSession, { csp, log });
  serveAppProtocol(session.defaultSession, { rendererDir: path.join(here, '../renderer'), csp });

  // The location and receipt base URL live in the same config file (driver-config.ts).
  core = createKioskCore(config, { driver: setup.driver });
  await core.start();
  log.info({ cabId: config.cabId, dataDir: config.dataDir, version: app.getVersion() }, 'kiosk core started');

  cleanups.push(registerIpc({ core, location, log, targets: () => (mainWindow && !mainWindow.isDestroyed() ? [mainWindow.webContents] : []) }));
  mainWindow = createMainWindow({
    preloadPath: path.join(here, '../preload/preload.cjs'),
    entryUrl: location.entryUrl,
    kiosk: app.isPackaged && process.env.CABPAY_WINDOWED !== '1',
    devTools: !app.isPackaged,
  });
  watchRenderer(mainWindow, { log });
  cleanups.push(keepDisplayAwake());

  if (app.isPackaged) {
    const { autoUpdater } = electronUpdater;
    // Each cab reads the release its rollout assigns from the relay, with its device token;
    // CABPAY_UPDATE_URL still points a tablet at another generic feed without rebuilding.
    const override = process.env.CABPAY_UPDATE_URL;
    if (override) autoUpdater.setFeedURL({ provider: 'generic', url: override });
    const feed = override ? undefined : relayUpdateFeed(config);
    const pending = { file: path.join(app.getPath('userData'), 'pending-update.json'), currentVersion: app.getVersion() };
    const link = relayLinkSecurity(config);
    if (!link.ok) throw new Error(link.error.message);
    if (link.value.caCert || link.value.pins.size > 0) {
      pinUpdaterSession(session.fromPartition(UPDATER_SESSION_PARTITION, { cache: false }), config.relayUrl, link.value, (hostname) =>
        log.error({ hostname }, 'update download refused: the relay certificate does not match the pinned CA or keys'),
      );
    }
    if (RELEASE_PUBLIC_KEY_PEM === null) log.error('no fleet release key is built into this kiosk (build/release-public-key.ts): every update will be refused');
    const guard = relayReleaseGuard({
      trustedKeyPem: RELEASE_PUBLIC_KEY_PEM,
      feed: feed ?? { url: override!, requestHeaders: {} },
      tls: link.value.tls,
      log,
    });
    cleanups.push(startUpdater({ updater: autoUpdater, core, log, feed, pending, guard }));
  }
}

/** A core that cannot stop in this time is abandoned: SQLite's WAL keeps the data consistent. */
const CORE_STOP_TIMEOUT_MS = 5_000;

let coreStopped = false;
function stopCoreThenQuit(event: { preventDefault(): void }): void {
  if (coreStopped || !core) return;
  // Hold the quit until the store is closed cleanly, then quit for real.
  event.preventDefault();
  coreStopped = true;
  for (const cleanup of cleanups.splice(0)) cleanup();
  const timeout = setTimeout(() => {
    log.error('core stop timed out; exiting');
    app.exit(1);
  }, CORE_STOP_TIMEOUT_MS);
  core
    .stop()
    .catch((err: unknown) => log.error({ err }, 'core stop failed'))
    .finally(() => {
      clearTimeout(timeout);
      app.quit();
    });
}

function fatal(err: unknown): void {
  log.fatal({ err }, 'kiosk failed to start');
  dialog.showErrorBox('cabpay cannot start', (err as Error).message);
  app.exit(1);
}
