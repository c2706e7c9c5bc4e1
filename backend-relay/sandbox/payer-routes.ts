/** What the passenger's phone does: open the QR link, scan, watch the session, pay or cancel. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, parseOr400 } from './errors.js';
import type { OrderFlow } from './order-flow.js';
import { payPageHtml } from './pay-page.js';
import type { SandboxConfig } from './sandbox-config.js';
import type { SessionFlow } from './session-flow.js';
import type { SandboxStore } from './store.js';
import { sessionView } from './views.js';

export interface PayerRouteDeps {
  store: SandboxStore;
  config: SandboxConfig;
  sessions: SessionFlow;
  orders: OrderFlow;
}

const scanRequest = z.strictObject({ qr_data: z.string().min(3).max(5000) });

export function registerPayerRoutes(app: FastifyInstance, deps: PayerRouteDeps): void {
  const { store, config, sessions, orders } = deps;

  // A phone camera opens the QR data URL; send it to the payment page with the QR data intact.
  app.get<{ Params: { merchant: string; code: string } }>('/qr/:merchant/:code', async (req, reply) => {
    const queryAt = req.url.indexOf('?');
    const query = queryAt === -1 ? '' : req.url.slice(queryAt);
    const data = `${config.publicUrl}/qr/${encodeURIComponent(req.params.merchant)}/${encodeURIComponent(req.params.code)}${query}`;
    return reply.redirect(`/pay?qr=${encodeURIComponent(data)}`, 302);
  });

  app.get('/pay', async (_req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
      .send(payPageHtml()),
  );

  app.post('/sandbox/scan', async (req) => {
    const body = parseOr400(scanRequest, req.body, 'scan body');
    return sessions.scan(body.qr_data);
  });

  app.get<{ Params: { id: string } }>('/sandbox/sessions/:id', async (req) => {
    const session = store.session(req.params.id);
    if (!session) throw notFound(`No QR session "${req.params.id}".`);
    return sessionView(config, session, store.orderBySession(session.id));
  });

  app.post<{ Params: { id: string } }>('/sandbox/sessions/:id/pay', async (req) => orders.pay(req.params.id, req.body));

  app.post<{ Params: { id: string } }>('/sandbox/sessions/:id/cancel', async (req) => {
    sessions.cancel(req.params.id);
    const session = store.session(req.params.id)!;
    return sessionView(config, session, store.orderBySession(session.id));
  });
}
