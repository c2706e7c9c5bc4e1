/** The one kiosk window: sandboxed, isolated, no Node, no menu, full screen on the tablet. */
import { BrowserWindow, type BrowserWindowConstructorOptions } from 'electron';

export interface MainWindowOptions {
  preloadPath: string;
  /** Kiosk + fullscreen on the tablet; a normal window for development. */
  kiosk: boolean;
  devTools: boolean;
  width?: number;
  height?: number;
}

export function mainWindowOptions(opts: MainWindowOptions): BrowserWindowConstructorOptions {
  return {
    width: opts.width ?? 1280,
    height: opts.height ?? 800,
    kiosk: opts.kiosk,
    fullscreen: opts.kiosk,
    autoHideMenuBar: true,
    show: false, // shown on ready-to-show, so the driver never sees a white flash
    backgroundColor: '#000000',
    title: 'cabpay',
    webPreferences: {
      preload: opts.preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: opts.devTools,
    },
  };
}

export function createMainWindow(opts: MainWindowOptions & { entryUrl: string }): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(opts));
  win.removeMenu();
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.entryUrl);
  return win;
}
