/**
 * Where the renderer comes from. Packaged, it is served from `app://cabpay/` (a privileged
 * standard scheme, so it has a real origin, unlike file://); under `electron-vite dev`, from
 * the dev server. Navigation, IPC senders and CSP all check against this one origin.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'cabpay';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export interface AppLocation {
  /** `scheme://host[:port]`, compared literally. */
  origin: string;
  /** The page the main window loads. */
  entryUrl: string;
}

/**
 * The renderer's location: the dev server when not packaged and electron-vite set
 * ELECTRON_RENDERER_URL, otherwise the bundled files under app://cabpay/.
 */
export function appLocation(isPackaged: boolean, devServerUrl: string | undefined): AppLocation {
  if (!isPackaged && devServerUrl) return { origin: originOf(devServerUrl) ?? APP_ORIGIN, entryUrl: devServerUrl };
  return { origin: APP_ORIGIN, entryUrl: `${APP_ORIGIN}/index.html` };
}

/**
 * `scheme://host[:port]` of any URL, custom schemes included (WHATWG URL reports "null" as the
 * origin of non-special schemes, so `URL.origin` cannot be used for app://). Null when unparsable.
 */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (!parsed.host) return null;
    return `${parsed.protocol}//${parsed.host}`.toLowerCase();
  } catch {
    return null;
  }
}

export function isAppUrl(url: string, location: AppLocation): boolean {
  return originOf(url) === location.origin.toLowerCase();
}
