/**
 * The fleet console: the built web app under /console (strict CSP, no inline scripts), its JSON
 * API under /console/api, operator accounts over the admin API, and the live fleet namespace.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { FailureLimit } from '../rate-limits.js';
import type { RelayStore } from '../store/relay-store.js';
import type { ConsoleConfig } from './console-config.js';
import { registerConsoleRoutes } from './console-routes.js';
import { CabHistory } from './fleet-view.js';
import { registerOperatorAdminRoutes } from './operator-admin-routes.js';
import { OperatorFeed } from './operator-namespace.js';
import { OperatorStore } from './operator-store.js';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

/** Scripts, styles, images and the live socket from the relay itself; nothing inline, no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface FleetConsole {
  operators: OperatorStore;
  feed: OperatorFeed;
  close(): void;
}

export interface ConsoleDeps {
  db: Database.Database;
  store: RelayStore;
  io: Server;
  logger: Logger;
  config: ConsoleConfig;
  adminToken: string;
  authFailures: FailureLimit | null;
  isOnline: (cabId: string) => boolean;
  publicUrl: string | undefined;
  tlsActive: boolean;
  now?: () => number;
}

export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): FleetConsole {
  const now = deps.now ?? Date.now;
  const { config } = deps;
  const operators = new OperatorStore(deps.db, { idleMs: config.sessionIdleS * 1000, maxMs: config.sessionMaxS * 1000 });
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : null;
  const feed = new OperatorFeed(deps.io, {
    store: deps.store,
    operators,
    isOnline: deps.isOnline,
    publicOrigin,
    secure: deps.tlsActive,
    now,
    onError: (err) => deps.logger.error({ err }, 'the live fleet feed failed to look at the fleet'),
  });

  void app.register(fastifyCookie);
  registerConsoleRoutes(app, {
    store: deps.store,
    operators,
    history: new CabHistory(deps.db),
    isOnline: deps.isOnline,
    adminToken: deps.adminToken,
    loginFailures: new FailureLimit('console-login', config.loginFailures),
    addressFailures: new FailureLimit('console-login-address', { points: config.loginFailures.points * 4, durationS: config.loginFailures.durationS }),
    publicOrigin,
    secureCookie: deps.tlsActive,
    now,
    fleetChanged: () => feed.changed(),
  });
  registerOperatorAdminRoutes(app, { operators, adminToken: deps.adminToken, authFailures: deps.authFailures, now });

  const dir = config.dir ?? DEFAULT_CONSOLE_DIR;
  void app.register(async (site) => {
    site.addHook('onRequest', async (_req, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('referrer-policy', 'same-origin');
    });
    if (!existsSync(join(dir, 'index.html'))) {
      deps.logger.warn({ dir }, 'the console is not built, so /console answers 503: run npm run build:console');
      site.get('/console/*', async (_req, reply) =>
        reply.code(503).type('text/plain; charset=utf-8').send('The fleet console is not built on this relay: run `npm run build:console` and restart it.'),
      );
      site.get('/console', async (_req, reply) => reply.redirect('/console/', 301));
      return;
    }
    await site.register(fastifyStatic, { root: dir, prefix: '/console/', index: ['index.html'], decorateReply: false, cacheControl: false });
    site.get('/console', async (_req, reply) => reply.redirect('/console/', 301));
    site.addHook('onSend', async (req, reply, payload) => {
      // Hashed assets never change; the page itself is always fetched anew.
      reply.header('cache-control', req.url.startsWith('/console/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return payload;
    });
  });

  return { operators, feed, close: () => feed.close() };
}
