/** GET /healthz (liveness plus a database check) and GET /metrics (Prometheus text, behind a token). */
import type { FastifyInstance } from 'fastify';
import type { FailureLimit } from '../rate-limits.js';
import { requireBearer } from './bearer-guard.js';
import { errorBody } from './errors.js';
import type { DeliveryHub } from '../delivery.js';
import type { RelayMetrics } from '../metrics.js';
import type { RelayStore } from '../store/relay-store.js';

export interface OpsDeps {
  store: RelayStore;
  hub: DeliveryHub;
  metrics: RelayMetrics;
  /** GET /metrics needs `Authorization: Bearer <token>`; null: /metrics is off (it names cabs). */
  metricsToken: string | null;
  /** Wrong tokens per address, shared with the admin routes. */
  authFailures?: FailureLimit;
}

export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/healthz', async (_req, reply) => {
    try {
      await deps.store.ping();
      return reply.send({ status: 'ok', db: 'ok', connectedCabs: deps.hub.connectedCount() });
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', db: (err as Error).message });
    }
  });
  const { metricsToken } = deps;
  if (metricsToken === null) {
    app.get('/metrics', async (_req, reply) =>
      reply.code(404).send(errorBody('metrics_off', 'metrics are off: set RELAY_METRICS_TOKEN and scrape with Authorization: Bearer <token>')),
    );
    return;
  }
  const guard = requireBearer(metricsToken, deps.authFailures ?? null, 'send Authorization: Bearer <RELAY_METRICS_TOKEN>');
  app.get('/metrics', { onRequest: guard }, async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
