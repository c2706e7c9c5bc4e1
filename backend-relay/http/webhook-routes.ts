/** POST /webhooks/<psp>/<kind>: one route per adapter endpoint, all through the same ingress. */
import type { FastifyInstance } from 'fastify';
import { handleWebhook, type IngressDeps } from '../ingress.js';
import type { PspAdapter } from '../psp/index.js';
import { BODY_LIMIT_BYTES } from './errors.js';

export function registerWebhookRoutes(app: FastifyInstance, adapters: PspAdapter[], deps: IngressDeps): void {
  for (const adapter of adapters) {
    for (const endpoint of adapter.webhooks) {
      // Fastify's own per-request lines are off here (warn and up still log): the ingress
      // writes one line per hook with everything those would say, and three lines per hook
      // cost a measurable share of the relay's throughput (bench/README).
      app.post(endpoint.path, { bodyLimit: BODY_LIMIT_BYTES, logLevel: 'warn' }, async (req, reply) => {
        const answer = await handleWebhook(deps, adapter.name, endpoint, req.body);
        return reply.code(answer.status).send(answer.body);
      });
    }
  }
}
