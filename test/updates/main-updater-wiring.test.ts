/**
 * electron/main.ts as a packaged app, with electron and electron-updater mocked: the updater is
 * pointed at the cab's own feed on the relay with its device token, and uses the update
 * marker in userData.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  return { ready, resolveReady: () => resolveReady(), userData: '', feeds: [] as unknown[], updater: null as any };
});

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const app = Object.assign(new EventEmitter(), {
    isPackaged: true,
    enableSandbox: () => {},
    requestSingleInstanceLock: () => true,
    whenReady: () => h.ready,
    getPath: (name: string) => (name === 'userData' ? h.userData : '/tmp'),
    getVersion: () => '1.0.0',
    quit: () => {},
    exit: () => {},
  });
  class BrowserWindow extends EventEmitter {
    webContents = Object.assign(new EventEmitter(), { reload() {}, forcefullyCrashRenderer() {} });
    constructor(readonly options: unknown) {
      super();
    }
    removeMenu() {}
    setMenu() {}
    loadURL() {
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
  }
  const noop = () => {};
  return {
    app,
    BrowserWindow,
    session: {
      defaultSession: {
        setPermissionRequestHandler: noop,
        setPermissionCheckHandler: noop,
        setDevicePermissionHandler: noop,
        webRequest: { onHeadersReceived: noop },
        protocol: { handle: noop },
      },
    },
    safeStorage: { isEncryptionAvailable: () => false },
    dialog: { showErrorBox: noop },
    protocol: { registerSchemesAsPrivileged: noop },
    ipcMain: { handle: noop, removeHandler: noop },
    powerSaveBlocker: { start: () => 1, isStarted: () => true, stop: noop },
    screen: { getAllDisplays: () => [] },
  };
});
vi.mock('electron-updater', async () => {
  const { EventEmitter } = await import('node:events');
  h.updater = Object.assign(new EventEmitter(), {
    autoDownload: false,
    autoInstallOnAppQuit: true,
    logger: null,
    requestHeaders: null,
    setFeedURL: (feed: unknown) => h.feeds.push(feed),
    checkForUpdates: () => Promise.resolve(null),
    quitAndInstall: () => {},
  });
  return { default: { autoUpdater: h.updater } };
});
vi.mock('../../electron/core/index.js', async () => {
  const { MemoryCore } = await import('../shell/helpers/memory-core.js');
  return { createKioskCore: () => new MemoryCore() };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-main-updates-'));
h.userData = dir;
writeFileSync(
  path.join(dir, 'kiosk-config.json'),
  JSON.stringify({ relayUrl: 'https://relay.fleet.example', pspUrl: 'https://psp.example', cabId: 'taxi-12', deviceToken: 't'.repeat(24) }),
);
writeFileSync(path.join(dir, 'pending-update.json'), JSON.stringify({ version: '1.0.0', downloadedAt: '2026-11-21T00:00:00Z' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onceSpy = vi.spyOn(process, 'once').mockImplementation((() => process) as never);
delete process.env.KIOSK_CONFIG;
delete process.env.ELECTRON_RENDERER_URL;
delete process.env.CABPAY_UPDATE_URL;
await import('../../electron/main.js');
onceSpy.mockRestore();

describe('packaged kiosk updater wiring', () => {
  it('reads the cab’s feed on the relay with its device token, and clears a marker for the running version', async () => {
    h.resolveReady();
    await vi.waitFor(() => expect(h.feeds).toHaveLength(1));
    expect(h.feeds[0]).toEqual({
      provider: 'generic',
      url: 'https://relay.fleet.example/updates/taxi-12/',
      requestHeaders: { authorization: `Bearer ${'t'.repeat(24)}` },
    });
    expect(h.updater.requestHeaders).toEqual({ authorization: `Bearer ${'t'.repeat(24)}` });
    expect(h.updater.autoDownload).toBe(true);
    expect(h.updater.autoInstallOnAppQuit).toBe(false);
    // The marker named 1.0.0, which now runs: the update was installed, so it is gone.
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(dir, 'pending-update.json'))).toBe(false);
  });
});
