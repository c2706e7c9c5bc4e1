/** One kiosk per tablet: a second launch focuses the running one and exits. */
import type { App, BrowserWindow } from 'electron';

/** Returns false when another instance holds the lock; the caller must then quit at once. */
export function claimSingleInstance(app: App, focusTarget: () => BrowserWindow | null): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', () => {
    const win = focusTarget();
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  return true;
}
