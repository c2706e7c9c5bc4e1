/** The merchant API (Hips `/v2`): static QR codes and orders. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sleep } from './abortable-sleep.js';
import { authenticate, type Principal } from './auth.js';
import { badRequest, conflict, notFound, parseOr400, SandboxError } from './errors.js';
import type { Faults } from './faults.js';
import type { OrderFlow } from './order-flow.js';
import { MAX_TIMEOUT_SECONDS, type SandboxConfig } from './sandbox-config.js';
import { nowIso, type QrRow, type SandboxStore } from './store.js';
import { qrView } from './views.js';

export interface MerchantRouteDeps {
  store: SandboxStore;
  config: SandboxConfig;
  orders: OrderFlow;
  faults: Faults;
  shutdown: AbortSignal;
}

const DEFAULT_ORDER_TIMEOUT_S = 120;
const DEFAULT_PAYMENT_TIMEOUT_S = 300;

const qrCode = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-", at most 32 (it is typed by hand when a camera fails)');
const webhookUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
const idempotencyKey = z.string().min(1).max(255).optional();

function qrSettings(floor: number) {
  const timeout = z
    .number({ error: 'a whole number of seconds' })
    .int()
    .min(floor, `at least ${floor} seconds`)
    .max(MAX_TIMEOUT_SECONDS, `at most ${MAX_TIMEOUT_SECONDS} seconds`);
  return z.object({
    qr_start_webhook_url: webhookUrl.nullable().optional(),
    allow_tip: z.boolean().optional(),
    order_timeout_seconds: timeout.optional(),
    payment_timeout_seconds: timeout.optional(),
    asynchronous: z.boolean().optional(),
    status: z.enum(['online', 'offline']).optional(),
    dynamic: z.record(z.string(), z.unknown()).nullable().optional(),
  });
}

type QrSettings = z.infer<ReturnType<typeof qrSettings>>;

/** Applies settings to a QR; connecting a webhook URL brings it online unless a status is given. */
function applySettings(qr: QrRow, s: QrSettings): QrRow {
  const url = s.qr_start_webhook_url === undefined ? qr.qr_start_webhook_url : s.qr_start_webhook_url;
  const status = s.status ?? (s.qr_start_webhook_url ? 'online' : url === null ? 'offline' : qr.status);
  if (status === 'online' && url === null) {
    throw badRequest('A QR code can be online only when connected: send qr_start_webhook_url with status "online".');
  }
  return {
    ...qr,
    qr_start_webhook_url: url,
    status,
    allow_tip: s.allow_tip === undefined ? qr.allow_tip : s.allow_tip ? 1 : 0,
    order_timeout_seconds: s.order_timeout_seconds ?? qr.order_timeout_seconds,
    payment_timeout_seconds: s.payment_timeout_seconds ?? qr.payment_timeout_seconds,
    asynchronous: s.asynchronous === undefined ? qr.asynchronous : s.asynchronous ? 1 : 0,
    dynamic: s.dynamic === undefined ? qr.dynamic : s.dynamic === null ? null : JSON.stringify(s.dynamic),
  };
}

export function registerMerchantRoutes(app: FastifyInstance, deps: MerchantRouteDeps): void {
  const { store, config, orders, faults } = deps;
  const settings = qrSettings(config.timeoutFloorSeconds);
  const createQrRequest = settings.extend({ qr_code: qrCode.optional() });

  const merchant = (req: FastifyRequest): Principal => authenticate(req.headers.authorization, config.merchantKey, store, { allowOneTimeKey: false });
  const idemKey = (req: FastifyRequest) => parseOr400(idempotencyKey, req.headers['idempotency-key'], 'Idempotency-Key header');
  // Hips connects API-made and self-printed codes alike through the QR API, so a QR is found by
  // its code_token or by the code itself (a printed code has no token until it is connected).
  const qrOr404 = (id: string) => {
    const qr = store.qrByToken(id) ?? store.qrByCode(id);
    if (!qr) throw notFound(`No QR code with code_token or qr_code "${id}". Create it with POST /v2/qrs.`);
    return qr;
  };

  app.post('/v2/qrs', async (req, reply) => {
    merchant(req);
    const body = parseOr400(createQrRequest, req.body ?? {}, 'create-QR body');
    const code = body.qr_code ?? randomBytes(6).toString('hex').toUpperCase();
    const existing = store.qrByCode(code);
    if (existing) {
      throw conflict(`QR code "${code}" already exists (code_token ${existing.code_token}); read or connect that one.`);
    }
    const now = nowIso();
    const blank: QrRow = {
      code_token: randomBytes(12).toString('base64url'),
      qr_code: code,
      status: 'offline',
      allow_tip: 0,
      qr_start_webhook_url: null,
      order_timeout_seconds: DEFAULT_ORDER_TIMEOUT_S,
      payment_timeout_seconds: DEFAULT_PAYMENT_TIMEOUT_S,
      asynchronous: 0,
      dynamic: null,
      created_at: now,
      updated_at: now,
    };
    const qr = applySettings(blank, body);
    store.insertQr(qr);
    return reply.code(201).send(await qrView(config, qr));
  });

  app.get<{ Params: { codeToken: string } }>('/v2/qrs/:codeToken', async (req) => {
    merchant(req);
    return qrView(config, qrOr404(req.params.codeToken));
  });

  app.patch<{ Params: { codeToken: string } }>('/v2/qrs/:codeToken', async (req) => {
    merchant(req);
    const body = parseOr400(settings, req.body ?? {}, 'connect-QR body');
    const qr = store.transaction(() => {
      const updated = applySettings(qrOr404(req.params.codeToken), body);
      const { code_token, qr_code, created_at, updated_at, ...changes } = updated;
      store.updateQr(code_token, changes);
      return store.qrByToken(updated.code_token)!;
    });
    return qrView(config, qr);
  });

  app.post('/v2/orders', async (req, reply) => {
    if (faults.take('createOrder503')) {
      throw new SandboxError(503, 'service_unavailable_error', 'Service temporarily unavailable (createOrder503 fault). Retry with the same Idempotency-Key.');
    }
    if (faults.take('createOrder429')) {
      reply.header('retry-after', '1');
      throw new SandboxError(429, 'rate_limit_error', 'Too many requests (createOrder429 fault). Retry after 1 s with the same Idempotency-Key.');
    }
    const hang = faults.takeCreateOrderHang();
    if (hang) {
      if (!(await sleep(hang.hangMs, deps.shutdown))) {
        throw new SandboxError(503, 'service_unavailable_error', 'The sandbox is shutting down; the order was not created.');
      }
      if (hang.then === 'drop') {
        reply.hijack();
        req.raw.socket.destroy();
        return;
      }
    }
    const principal = authenticate(req.headers.authorization, config.merchantKey, store, { allowOneTimeKey: true });
    const answer = orders.create(principal, idemKey(req), req.body);
    return reply.code(answer.statusCode).send(answer.body);
  });

  app.get<{ Params: { id: string } }>('/v2/orders/:id', async (req) => {
    merchant(req);
    return orders.get(req.params.id);
  });

  app.patch<{ Params: { id: string } }>('/v2/orders/:id/revoke', async (req, reply) => {
    merchant(req);
    const answer = orders.revoke(req.params.id, idemKey(req), req.body);
    const lateMs = answer.statusCode < 300 ? faults.late.take('refund') : null;
    if (lateMs !== null && !(await sleep(lateMs, deps.shutdown)))
      return reply.code(503).send({ error: { type: 'unavailable', message: 'The sandbox is shutting down.' } });
    return reply.code(answer.statusCode).send(answer.body);
  });

  app.patch<{ Params: { id: string } }>('/v2/orders/:id/fulfill', async (req) => {
    merchant(req);
    return orders.fulfill(req.params.id);
  });
}
