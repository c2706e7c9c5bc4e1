/** Test controls: the signing key, injected faults and the ledger to reconcile against. */
import type { FastifyInstance } from 'fastify';
import { parseOr400 } from './errors.js';
import { faultsRequest, type Faults } from './faults.js';
import type { WebhookSigner } from './signing.js';
import type { SandboxStore } from './store.js';
import { orderView } from './views.js';

export interface SandboxRouteDeps {
  store: SandboxStore;
  faults: Faults;
  signer: WebhookSigner;
}

export function registerSandboxRoutes(app: FastifyInstance, deps: SandboxRouteDeps): void {
  const { store, faults, signer } = deps;

  app.get('/sandbox/public-key.pem', async (_req, reply) => reply.header('content-type', 'application/x-pem-file').send(signer.publicKeyPem));

  app.get('/sandbox/faults', async () => faults.snapshot());
  app.post('/sandbox/faults', async (req) => {
    faults.add(parseOr400(faultsRequest, req.body ?? {}, 'faults body'));
    return faults.snapshot();
  });
  app.delete('/sandbox/faults', async () => {
    faults.clear();
    return faults.snapshot();
  });

  app.get('/sandbox/ledger', async () => {
    const all = store.ledger();
    return {
      sessions: all.sessions.map((s) => ({
        id: s.id,
        qr_code: s.qr_code,
        state: s.state,
        allow_tip: s.allow_tip === 1,
        down_response_text: s.down_response_text,
        created_at: s.created_at,
        updated_at: s.updated_at,
      })),
      orders: all.orders.map(orderView),
      payments: all.payments,
      refunds: all.refunds,
      webhooks: all.webhooks.map((w) => ({
        id: w.id,
        kind: w.kind,
        url: w.url,
        event: w.event,
        idempotency_key: w.idempotency_key,
        status: w.status,
        attempts: w.attempts,
        duplicates: w.duplicates,
        last_status_code: w.last_status_code,
        last_error: w.last_error,
        session_id: w.session_id,
        order_id: w.order_id,
        data: JSON.parse(w.data) as unknown,
        created_at: w.created_at,
        delivered_at: w.delivered_at,
      })),
      totals: totalsByCurrency(all.payments, all.refunds),
    };
  });
}

/** Charged, tips, refunded and net per currency: what a reconciliation compares against. */
function totalsByCurrency(
  payments: { status: string; currency: string; amount: number; tip_amount: number }[],
  refunds: { currency: string; amount: number }[],
) {
  const totals: Record<string, { charged: number; tips: number; refunded: number; net: number }> = {};
  const of = (currency: string) => (totals[currency] ??= { charged: 0, tips: 0, refunded: 0, net: 0 });
  for (const p of payments) {
    if (p.status !== 'successful') continue;
    of(p.currency).charged += p.amount;
    of(p.currency).tips += p.tip_amount;
  }
  for (const r of refunds) of(r.currency).refunded += r.amount;
  for (const t of Object.values(totals)) t.net = t.charged - t.refunded;
  return totals;
}
