/** Wires the update feed and the release admin API into the relay app. */
import { mkdirSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ResolvedRelayConfig } from '../config.js';
import { requireAdminToken } from '../http/admin-routes.js';
import type { FailureLimit } from '../rate-limits.js';
import type { RelayStore } from '../store/relay-store.js';
import { registerFeedRoutes } from './feed-routes.js';
import { FleetUpdates } from './fleet-updates.js';
import { registerReleaseRoutes } from './release-routes.js';
import { SqliteRolloutStore } from './rollout-store.js';

export { FleetUpdates, UpdateError } from './fleet-updates.js';

export function registerUpdates(
  app: FastifyInstance,
  deps: {
    db: Database.Database;
    store: RelayStore;
    logger: Logger;
    config: Pick<ResolvedRelayConfig, 'updatesDir' | 'adminToken'>;
    /** Wrong admin tokens per address, shared with the admin routes. */
    authFailures?: FailureLimit;
  },
): FleetUpdates {
  const dir = deps.config.updatesDir ?? null;
  if (dir !== null) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new Error(`RELAY_UPDATES_DIR ${dir} cannot be created (${(err as Error).message}): point it at a writable folder`, { cause: err });
    }
  }
  const updates = new FleetUpdates(new SqliteRolloutStore(deps.db), dir);
  registerFeedRoutes(app, { store: deps.store, updates, logger: deps.logger });
  registerReleaseRoutes(app, {
    updates,
    logger: deps.logger,
    authorize: requireAdminToken(deps.config.adminToken, deps.authFailures ?? null),
    listCabs: () => deps.store.listCabs(),
  });
  return updates;
}
