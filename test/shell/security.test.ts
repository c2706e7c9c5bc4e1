import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({}));

const { hardenSession, hardenWebContents } = await import('../../electron/security.js');
const { appLocation } = await import('../../electron/app-origin.js');
const { contentSecurityPolicy } = await import('../../electron/csp.js');

type Handler = (...args: any[]) => any;

function fakeSession() {
  const handlers: Record<string, Handler> = {};
  const session = {
    setPermissionRequestHandler: (h: Handler) => (handlers.request = h),
    setPermissionCheckHandler: (h: Handler) => (handlers.check = h),
    setDevicePermissionHandler: (h: Handler) => (handlers.device = h),
    webRequest: { onHeadersReceived: (h: Handler) => (handlers.headers = h) },
  };
  return { session, handlers };
}

function fakeContents() {
  const contents = new EventEmitter() as EventEmitter & { setWindowOpenHandler(h: Handler): void; openHandler?: Handler };
  contents.setWindowOpenHandler = (h) => (contents.openHandler = h);
  return contents;
}

function navigationEvent() {
  return {
    prevented: false,
    preventDefault() {
      this.prevented = true;
    },
  };
}

const packaged = appLocation(true, undefined);
const csp = contentSecurityPolicy({ connectSrc: ['https://relay.example'] });

describe('session hardening', () => {
  it('denies every permission request, check and device', () => {
    const { session, handlers } = fakeSession();
    hardenSession(session as never, { csp });
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const callback = vi.fn();
      handlers.request!({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(handlers.check!({}, permission, 'app://cabpay')).toBe(false);
    }
    expect(handlers.device!({ deviceType: 'usb' })).toBe(false);
  });

  it('replaces any CSP on responses with ours, connect-src limited to the relay', () => {
    const { session, handlers } = fakeSession();
    hardenSession(session as never, { csp });
    const callback = vi.fn();
    handlers.headers!({ responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } }, callback);
    const headers = callback.mock.calls[0]![0].responseHeaders as Record<string, string[]>;
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['Content-Security-Policy']).toEqual([csp]);
    expect(headers['X-Other']).toEqual(['1']);
    expect(csp).toContain("connect-src 'self' https://relay.example;");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    expect(contentSecurityPolicy({ allowInlineScripts: true })).toContain("script-src 'self' 'unsafe-inline'");
  });
});

describe('webContents guards', () => {
  it('denies every new window', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never, { location: packaged });
    expect(contents.openHandler!({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'app://cabpay/index.html' })).toEqual({ action: 'deny' });
  });

  it('prevents navigation and redirects away from the app origin', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never, { location: packaged });
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'http://cabpay/', 'javascript:alert(1)', 'not a url']) {
      for (const name of ['will-navigate', 'will-redirect']) {
        const event = navigationEvent();
        contents.emit(name, event, url);
        expect(event.prevented, `${name} ${url}`).toBe(true);
      }
    }
    const home = navigationEvent();
    contents.emit('will-navigate', home, 'app://cabpay/index.html#/ride');
    expect(home.prevented).toBe(false);
  });

  it('allows the dev server origin only when not packaged', () => {
    const dev = appLocation(false, 'http://localhost:5173/');
    const contents = fakeContents();
    hardenWebContents(contents as never, { location: dev });
    const ok = navigationEvent();
    contents.emit('will-navigate', ok, 'http://localhost:5173/index.html');
    expect(ok.prevented).toBe(false);
    const other = navigationEvent();
    contents.emit('will-navigate', other, 'http://localhost:5174/');
    expect(other.prevented).toBe(true);
    expect(appLocation(true, 'http://localhost:5173/').origin).toBe('app://cabpay');
  });

  it('prevents attaching webviews', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never, { location: packaged });
    const event = navigationEvent();
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.prevented).toBe(true);
  });
});
