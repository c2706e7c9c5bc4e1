/**
 * electron/main.ts with electron, electron-updater and the core mocked: the order and the
 * substance of the wiring (sandbox, scheme, guards, IPC, window, clean quit).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  const calls: string[] = [];
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  return { calls, ready, resolveReady: () => resolveReady(), windows: [] as any[], handlers: new Map<string, unknown>(), cores: [] as any[], userData: '' };
});

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    enableSandbox: () => h.calls.push('enableSandbox'),
    requestSingleInstanceLock: () => true,
    whenReady: () => h.ready,
    getPath: (name: string) => (name === 'userData' ? h.userData : '/tmp'),
    getVersion: () => '9.9.9',
    quit: () => h.calls.push('quit'),
    exit: (code: number) => h.calls.push(`exit:${code}`),
  });
  class BrowserWindow extends EventEmitter {
    webContents = Object.assign(new EventEmitter(), { reload() {}, forcefullyCrashRenderer() {} });
    constructor(readonly options: any) {
      super();
      h.windows.push(this);
    }
    removeMenu() {}
    loadURL(url: string) {
      h.calls.push(`loadURL:${url}`);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
  }
  const session = {
    defaultSession: {
      setPermissionRequestHandler: () => h.calls.push('permissionRequest'),
      setPermissionCheckHandler: () => h.calls.push('permissionCheck'),
      setDevicePermissionHandler: () => h.calls.push('devicePermission'),
      webRequest: { onHeadersReceived: () => h.calls.push('csp') },
      protocol: { handle: (scheme: string) => h.calls.push(`protocol.handle:${scheme}`) },
    },
  };
  // A stand-in keychain: reversible, and plainly not the plain text.
  const safeStorage = {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => 'gnome_libsecret',
    encryptString: (plain: string) => Buffer.from(`sealed:${Buffer.from(plain).toString('hex')}`),
    decryptString: (sealed: Buffer) => Buffer.from(sealed.toString().replace(/^sealed:/, ''), 'hex').toString(),
  };
  return {
    app,
    BrowserWindow,
    session,
    safeStorage,
    dialog: { showErrorBox: (title: string, text: string) => h.calls.push(`error:${title}:${text}`) },
    protocol: { registerSchemesAsPrivileged: (schemes: { scheme: string }[]) => h.calls.push(`privileged:${schemes.map((s) => s.scheme).join()}`) },
    ipcMain: { handle: (channel: string, fn: unknown) => h.handlers.set(channel, fn), removeHandler: (channel: string) => h.handlers.delete(channel) },
    powerSaveBlocker: {
      start: () => {
        h.calls.push('powerSaveBlocker');
        return 1;
      },
      isStarted: () => true,
      stop: () => h.calls.push('powerSaveBlocker.stop'),
    },
  };
});
vi.mock('electron-updater', () => ({ default: { autoUpdater: {} } }));
vi.mock('../../electron/core/index.js', async () => {
  const { MemoryCore } = await import('./helpers/memory-core.js');
  return {
    createKioskCore: (config: unknown) => {
      const core = Object.assign(new MemoryCore(), { config });
      h.cores.push(core);
      return core;
    },
  };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-main-'));
h.userData = dir;
writeFileSync(
  path.join(dir, 'kiosk-config.json'),
  JSON.stringify({ relayUrl: 'https://relay.example', pspUrl: 'https://psp.example', cabId: 'cab-3', deviceToken: 'd'.repeat(20) }),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signalSpy = vi.spyOn(process, 'once').mockImplementation(((event: string) => {
  h.calls.push(`process.once:${event}`);
  return process;
}) as never);
delete process.env.KIOSK_CONFIG;
delete process.env.ELECTRON_RENDERER_URL;
const { app } = await import('electron');
await import('../../electron/main.js');
signalSpy.mockRestore();

describe('main process wiring', () => {
  it('enables the sandbox and registers the app scheme before ready, and handles signals', () => {
    expect(h.calls).toContain('enableSandbox');
    expect(h.calls).toContain('privileged:app');
    expect(h.calls).toContain('process.once:SIGINT');
    expect(h.calls).toContain('process.once:SIGTERM');
    expect(h.windows).toHaveLength(0);
    expect(app.listenerCount('web-contents-created')).toBe(1);
  });

  it('on ready: hardens the session, starts the core in main, registers IPC, opens the sandboxed window', async () => {
    h.resolveReady();
    await vi.waitFor(() => expect(h.windows).toHaveLength(1));
    for (const step of [
      'permissionRequest',
      'permissionCheck',
      'devicePermission',
      'csp',
      'protocol.handle:app',
      'powerSaveBlocker',
      'loadURL:app://cabpay/index.html',
    ]) {
      expect(h.calls).toContain(step);
    }
    const core = h.cores[0];
    expect(core.started).toBe(true);
    expect(core.config).toMatchObject({ cabId: 'cab-3', dataDir: dir, appVersion: '9.9.9', deviceToken: 'd'.repeat(20) });
    // The token left the config file for the secret store, sealed with safeStorage, owner-only.
    expect(JSON.parse(readFileSync(path.join(dir, 'kiosk-config.json'), 'utf8'))).not.toHaveProperty('deviceToken');
    const secrets = readFileSync(path.join(dir, 'secrets.json'), 'utf8');
    expect(JSON.parse(secrets)).toMatchObject({ protection: 'safeStorage', values: { deviceToken: expect.any(String) } });
    expect(secrets).not.toContain('d'.repeat(20));
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect([...h.handlers.keys()].sort()).toEqual(['cabpay:command', 'cabpay:getState']);
    const prefs = h.windows[0].options.webPreferences;
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false });
    expect(prefs.preload).toMatch(/preload[\\/]preload\.cjs$/);
    expect(h.windows[0].options.kiosk).toBe(false); // not packaged: a normal window
  });

  it('holds the quit until the core has stopped, then quits', async () => {
    const event = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    app.emit('before-quit', event);
    expect(event.prevented).toBe(true);
    await vi.waitFor(() => expect(h.calls.at(-1)).toBe('quit'));
    expect(h.cores[0].stopped).toBe(true);
    expect(h.handlers.size).toBe(0);
    expect(h.calls).toContain('powerSaveBlocker.stop');
    const again = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    app.emit('before-quit', again);
    expect(again.prevented).toBe(false);
  });
});
