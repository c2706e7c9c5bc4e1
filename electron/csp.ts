/**
 * The renderer's Content-Security-Policy, one definition for the Electron session and the
 * preview host so both run the UI under the same rules. The renderer's index.html may carry a
 * meta CSP as well; browsers enforce both, so the meta must not be looser than this.
 */
export interface CspOptions {
  /** Extra origins the renderer may connect to (ws:// for the preview bridge, the relay). */
  connectSrc?: readonly string[];
  /** Only for `electron-vite dev`: Vite's React refresh preamble is an inline script. */
  allowInlineScripts?: boolean;
}

export function contentSecurityPolicy(opts: CspOptions = {}): string {
  const connect = ["'self'", ...(opts.connectSrc ?? [])].join(' ');
  return [
    "default-src 'self'",
    opts.allowInlineScripts ? "script-src 'self' 'unsafe-inline'" : "script-src 'self'",
    // As renderer/index.html's meta CSP: the UI sets inline styles.
    "style-src 'self' 'unsafe-inline'",
    // QR codes are drawn into data: or blob: images.
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The origin part of a URL (`https://relay.example:8443`), for connect-src; throws on junk. */
export function originOf(url: string): string {
  return new URL(url).origin;
}
