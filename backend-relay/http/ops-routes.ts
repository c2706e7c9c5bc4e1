/** GET /healthz (liveness plus a database check) and GET /metrics (Prometheus text). */
import type { FastifyInstance } from 'fastify';
import type { DeliveryHub } from '../delivery.js';
import type { RelayMetrics } from '../metrics.js';
import type { RelayStore } from '../store/relay-store.js';

export function registerOpsRoutes(app: FastifyInstance, deps: { store: RelayStore; hub: DeliveryHub; metrics: RelayMetrics }): void {
  app.get('/healthz', async (_req, reply) => {
    try {
      await deps.store.ping();
      return reply.send({ status: 'ok', db: 'ok', connectedCabs: deps.hub.connectedCount() });
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', db: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
