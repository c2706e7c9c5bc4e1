/**
 * Deny by default, as Signal Desktop and Actual Budget do: the kiosk renderer may load only
 * its own pages, open no windows, attach no webviews, request no permissions, and runs under a
 * strict CSP. Everything the UI needs goes through `window.cabpay`.
 */
import type { Session, WebContents } from 'electron';
import type { Logger } from 'pino';
import { isAppUrl, type AppLocation } from './app-origin.js';

/** Permissions, device access and the CSP for every page of the session. */
export function hardenSession(session: Session, opts: { csp: string; log?: Logger }): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    opts.log?.warn({ permission }, 'permission request denied');
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    // Drop any CSP spelled differently so ours is the one that applies.
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-security-policy') delete headers[name];
    }
    headers['Content-Security-Policy'] = [opts.csp];
    headers['X-Content-Type-Options'] = ['nosniff'];
    callback({ responseHeaders: headers });
  });
}

/** Guards for one webContents (wired for every one through `web-contents-created`). */
export function hardenWebContents(contents: WebContents, opts: { location: AppLocation; log?: Logger }): void {
  const { location, log } = opts;
  contents.setWindowOpenHandler(({ url }) => {
    log?.warn({ url }, 'window.open denied');
    return { action: 'deny' };
  });
  const stayHome = (event: { preventDefault(): void; url?: string }, legacyUrl: string): void => {
    // Electron puts the target on the event; the positional url is deprecated.
    const url = typeof event.url === 'string' ? event.url : legacyUrl;
    if (typeof url === 'string' && isAppUrl(url, location)) return;
    log?.warn({ url }, 'navigation away from the app denied');
    event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => {
    log?.warn('webview attach denied');
    event.preventDefault();
  });
}
