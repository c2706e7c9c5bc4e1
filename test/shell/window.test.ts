import { describe, expect, it, vi } from 'vitest';

const created = vi.hoisted(() => [] as { options: Record<string, unknown>; calls: string[]; loaded: string[] }[]);
vi.mock('electron', () => ({
  BrowserWindow: class {
    readonly record = { options: {} as Record<string, unknown>, calls: [] as string[], loaded: [] as string[] };
    constructor(options: Record<string, unknown>) {
      this.record.options = options;
      created.push(this.record);
    }
    removeMenu() {
      this.record.calls.push('removeMenu');
    }
    once(event: string) {
      this.record.calls.push(`once:${event}`);
    }
    loadURL(url: string) {
      this.record.loaded.push(url);
      return Promise.resolve();
    }
  },
}));

const { createMainWindow, mainWindowOptions } = await import('../../electron/window.js');

describe('main window', () => {
  const base = { preloadPath: '/app/out/preload/preload.cjs', kiosk: true, devTools: false };

  it('is sandboxed, isolated, without Node, webviews or insecure content', () => {
    const prefs = mainWindowOptions(base).webPreferences!;
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      devTools: false,
      preload: '/app/out/preload/preload.cjs',
    });
  });

  it('is 1280×800, kiosk and fullscreen on the tablet, hidden until ready', () => {
    const options = mainWindowOptions(base);
    expect(options).toMatchObject({ width: 1280, height: 800, kiosk: true, fullscreen: true, show: false, autoHideMenuBar: true });
    expect(mainWindowOptions({ ...base, kiosk: false })).toMatchObject({ kiosk: false, fullscreen: false });
  });

  it('creates the window without a menu and loads the app entry', () => {
    createMainWindow({ ...base, entryUrl: 'app://cabpay/index.html' });
    const record = created.at(-1)!;
    expect((record.options.webPreferences as Record<string, unknown>).sandbox).toBe(true);
    expect(record.calls).toContain('removeMenu');
    expect(record.calls).toContain('once:ready-to-show');
    expect(record.loaded).toEqual(['app://cabpay/index.html']);
  });
});
