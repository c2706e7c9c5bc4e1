/**
 * Serves the bundled renderer under app://cabpay/ with the same traversal-proof lookup as the
 * preview host. The scheme must be registered as privileged before the app is ready.
 */
import { readFile } from 'node:fs/promises';
import { protocol, type Session } from 'electron';
import { APP_HOST, APP_SCHEME } from './app-origin.js';
import { cacheControlFor, contentTypeFor, lookupStatic } from './static-files.js';

/** Call at module load of main, before `app.whenReady()`. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Answers app://cabpay/<path> from `rendererDir`; any other host or a bad path is an error response. */
export function serveAppProtocol(session: Session, opts: { rendererDir: string; csp: string }): void {
  session.protocol.handle(APP_SCHEME, (request) => answerAppRequest(request.url, opts));
}

export async function answerAppRequest(url: string, opts: { rendererDir: string; csp: string }): Promise<Response> {
  const parsed = new URL(url);
  if (parsed.host !== APP_HOST) return new Response('Unknown host.', { status: 404 });
  const found = lookupStatic(opts.rendererDir, parsed.pathname);
  if (!found.found) return new Response(found.reason, { status: found.status });
  const body = await readFile(found.file);
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': contentTypeFor(found.file),
      'Cache-Control': cacheControlFor(parsed.pathname),
      'Content-Security-Policy': opts.csp,
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
