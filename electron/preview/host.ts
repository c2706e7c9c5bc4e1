/**
 * The preview host: serves the built renderer and the `/bridge` WebSocket to the kiosk core,
 * so the real UI runs in any browser against the real core under Node.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { KioskCore } from '../core/kiosk-core.js';
import { PREVIEW_BRIDGE_PATH } from '../../protocol/preview-bridge.js';
import { contentSecurityPolicy } from '../csp.js';
import { cacheControlFor, contentTypeFor, lookupStatic } from '../static-files.js';
import { serveBridge } from './bridge-server.js';
import { allowedHostHeaders, isAllowedHost, isOwnOrigin } from './own-origin.js';

export interface PreviewHostOptions {
  core: KioskCore;
  /** 0 picks a free port. Default 5173. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The built renderer (normally `renderer/dist`). */
  staticDir: string;
  logger?: Logger;
}

export interface PreviewHost {
  url: string;
  close(): Promise<void>;
}

/** Bridge messages are small commands; anything bigger is not ours. */
const MAX_BRIDGE_MESSAGE_BYTES = 64 * 1024;

export async function startPreviewHost(opts: PreviewHostOptions): Promise<PreviewHost> {
  const { core, staticDir, logger } = opts;
  const bindHost = opts.host ?? '127.0.0.1';
  if (!existsSync(staticDir) || !statSync(staticDir).isDirectory()) {
    throw new Error(`The renderer directory ${staticDir} does not exist. Build it with \`npm run build:renderer\`.`);
  }

  // Filled in once listening, when the real port is known.
  let allowedHosts = new Set<string>();
  let headers: Record<string, string> = {};

  const server = createServer((req, res) => serveStatic(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BRIDGE_MESSAGE_BYTES });
  const detachBridge = serveBridge(core, wss, logger);

  function serveStatic(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (!isAllowedHost(req.headers.host, allowedHosts)) {
      return plain(res, 421, 'Unknown Host header: open the preview through the URL it printed.');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'Only GET and HEAD are served here.');
    }
    const pathname = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
    const found = lookupStatic(staticDir, pathname);
    if (!found.found) return plain(res, found.status, found.status === 404 ? 'Not found.' : `Bad path: ${found.reason}.`);
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeFor(found.file));
    res.setHeader('Content-Length', String(found.size));
    res.setHeader('Cache-Control', cacheControlFor(pathname === '/' ? '/index.html' : pathname));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(found.file)
      .on('error', (err) => {
        logger?.warn({ err, file: found.file }, 'static read failed');
        res.destroy(err);
      })
      .pipe(res);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname !== PREVIEW_BRIDGE_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!isOwnOrigin(req.headers.origin, req.headers.host, allowedHosts)) {
      logger?.warn({ origin: req.headers.origin, host: req.headers.host }, 'bridge upgrade refused: foreign origin');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5173, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = allowedHostHeaders(bindHost, port);
  const urlHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const url = `http://${urlHost}:${port}`;
  headers = securityHeaders(port);

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        detachBridge();
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function securityHeaders(port: number): Record<string, string> {
  return {
    // 'self' covers same-host ws: in current Chromium; the explicit entries keep older engines working.
    'Content-Security-Policy': contentSecurityPolicy({
      connectSrc: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`],
    }),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
  };
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`${message}\n`);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
