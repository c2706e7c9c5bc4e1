/**
 * The HitPay part of the PSP sandbox: `POST/GET/DELETE /v1/payment-requests`, `POST /v1/refund`,
 * the payer's PayNow page, signed webhooks (legacy form or JSON) and test controls under
 * `/sandbox/hitpay/…`. Registered by `app.ts` as one encapsulated Fastify plugin, so its form
 * parser and HitPay-style errors never touch the Hips routes.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sleep } from '../abortable-sleep.js';
import type { SandboxConfig } from '../sandbox-config.js';
import type { SandboxStore } from '../store.js';
import { digitsOf, minorToMajor } from './amount.js';
import { hitpayFaultsRequest, HitpayFaults } from './faults.js';
import { HitpayFlow, HitpayHttpError } from './flow.js';
import { hitpayPayPageHtml } from './pay-page.js';
import { HitpayStore } from './store.js';
import { parseCreateRequest, parseFormBody, parseRefundRequest, HitpayValidationError } from './validation.js';
import { chargeView, refundView, requestView } from './views.js';
import { defaultHitpayDelivery, HitpayDeliverer, type HitpayDeliveryOptions, type WebhookStyleSetting } from './webhooks.js';

/** The sandbox business's API key (`X-BUSINESS-API-KEY`) and webhook salt. */
export const HITPAY_DEMO_API_KEY = 'hp_sandbox_demo_api_key_0123456789abcdef';
export const HITPAY_DEMO_SALT = 'hp_sandbox_demo_salt_0123456789abcdef';

export interface HitpaySandboxDeps {
  /** The sandbox's store; HitPay keeps its own `hitpay_` tables in the same SQLite file. */
  store: SandboxStore;
  /** Shared settings: the public URL (for QR data) and the merchant name the phone page shows. */
  config: SandboxConfig;
  log: Logger;
  /** Webhook delivery timing; tests shorten it (defaults: 5 attempts, 1 s, 5 s, 30 s, 120 s). */
  webhook?: Partial<HitpayDeliveryOptions>;
  apiKey?: string;
  salt?: string;
}

const configRequest = z.strictObject({
  webhookStyle: z.enum(['legacy', 'json', 'both'], { error: 'webhookStyle must be "legacy", "json" or "both"' }),
});

const idParam = z.object({ id: z.string().min(1).max(100) });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerHitpaySandbox(app: FastifyInstance, deps: HitpaySandboxDeps): void {
  const apiKey = deps.apiKey ?? HITPAY_DEMO_API_KEY;
  const salt = deps.salt ?? HITPAY_DEMO_SALT;
  const log = deps.log.child({ psp: 'hitpay' });

  void app.register(async (scope) => {
    const store = new HitpayStore(deps.store.db);
    const faults = new HitpayFaults();
    const shutdown = new AbortController();
    const deliverer = new HitpayDeliverer(store, faults, { ...defaultHitpayDelivery, ...deps.webhook }, log);
    const webhookStyle = (): WebhookStyleSetting => (store.meta('webhook_style') as WebhookStyleSetting | undefined) ?? 'legacy';
    const ctx = () => ({ publicUrl: deps.config.publicUrl });
    const flow = new HitpayFlow(store, deliverer, () => ({ ...ctx(), salt, style: webhookStyle(), faults }), log);

    scope.addHook('preClose', async () => {
      shutdown.abort();
      await deliverer.close();
    });
    deliverer.resumeUndelivered();

    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, parseFormBody(body as string)));

    scope.setErrorHandler((err: FastifyError | HitpayHttpError | HitpayValidationError, req, reply) => {
      if (err instanceof HitpayValidationError) return reply.code(422).send(err.toBody());
      if (err instanceof HitpayHttpError) return reply.code(err.status).send(err.body);
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) req.log.error({ err, url: req.url }, 'hitpay sandbox request failed');
      return reply.code(status).send({ message: status === 500 ? 'Server Error' : err.message });
    });

    const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
      const presented = req.headers['x-business-api-key'];
      if (typeof presented !== 'string' || !sameSecret(presented.trim(), apiKey)) {
        return reply.code(401).send({
          message: 'Invalid business API key. Send the key from Payment Gateway > API Keys in the X-BUSINESS-API-KEY header.',
        });
      }
    };
    const id = (req: FastifyRequest) => {
      const parsed = idParam.safeParse(req.params);
      if (!parsed.success) throw new HitpayHttpError(404, { message: 'No such payment request id.' });
      return parsed.data.id;
    };

    // ---- The merchant API (HitPay /v1) ----

    scope.post('/v1/payment-requests', { preHandler: authenticate }, async (req, reply) => {
      if (faults.take('createRequest503')) return reply.code(503).send({ message: 'Service Unavailable' });
      if (faults.take('createRequest500')) return reply.code(500).send({ message: 'Server Error' });
      const hang = faults.takeCreateHang();
      if (hang) {
        if (!(await sleep(hang.hangMs, shutdown.signal))) return reply.code(503).send({ message: 'Service Unavailable' });
        if (hang.then === 'drop') {
          reply.hijack();
          req.raw.socket.destroy();
          return reply;
        }
      }
      const request = flow.create(parseCreateRequest(req.body, Date.now()));
      return reply.code(201).send(requestView(ctx(), request));
    });

    scope.get('/v1/payment-requests/:id', { preHandler: authenticate }, async (req) => {
      const { request, payments } = flow.get(id(req));
      return requestView(ctx(), request, payments);
    });

    scope.delete('/v1/payment-requests/:id', { preHandler: authenticate }, async (req) => {
      flow.cancel(id(req));
      return { success: true };
    });

    scope.post('/v1/refund', { preHandler: authenticate }, async (req) => {
      const { amount, paymentId } = parseRefundRequest(req.body);
      const { refund, payment } = flow.refund(paymentId, amount);
      const lateMs = faults.late.take('refund');
      if (lateMs !== null && !(await sleep(lateMs, shutdown.signal))) throw new HitpayHttpError(503, { message: 'Service Unavailable' });
      return refundView(refund, payment);
    });

    // The charge (payment) with its refunds: how a merchant learns what was refunded.
    scope.get('/v1/charges/:id', { preHandler: authenticate }, async (req) => {
      const parsed = idParam.safeParse(req.params);
      const payment = parsed.success ? store.payment(parsed.data.id) : undefined;
      if (!payment) throw new HitpayHttpError(404, { message: 'No such charge id.' });
      return chargeView(payment, store.refundsOf(payment.id));
    });

    // ---- The payer (phone) ----

    scope.get('/hitpay/paynow/:id', async (req, reply) => {
      let found;
      try {
        found = flow.get(id(req));
      } catch (err) {
        if (!(err instanceof HitpayHttpError)) throw err;
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send('<!doctype html><title>Unknown QR</title><p>This PayNow QR code is not known to the sandbox.</p>');
      }
      const r = found.request;
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          hitpayPayPageHtml({
            id: r.id,
            merchantName: deps.config.merchantName,
            amount: minorToMajor(r.amount_minor, digitsOf(r.currency)),
            currency: r.currency,
            status: r.status,
            reference: r.reference_number,
            expiry: r.expires_at_ms === null ? null : requestView(ctx(), r).expiry_date,
          }),
        );
    });

    const settled = (result: ReturnType<HitpayFlow['pay']>) => ({
      payment_request_id: result.request.id,
      status: result.request.status,
      payment_id: result.payment.id,
      payment_status: result.payment.status,
    });
    scope.post('/sandbox/hitpay/payment-requests/:id/pay', async (req) => settled(flow.pay(id(req))));
    scope.post('/sandbox/hitpay/payment-requests/:id/fail', async (req) => settled(flow.fail(id(req))));

    // ---- Test controls (unauthenticated, like the Hips ones: keep the sandbox on loopback) ----

    scope.get('/sandbox/hitpay/config', async () => ({ webhookStyle: webhookStyle() }));
    scope.post('/sandbox/hitpay/config', async (req) => {
      const parsed = configRequest.safeParse(req.body ?? {});
      if (!parsed.success) {
        throw new HitpayValidationError({ webhookStyle: parsed.error.issues.map((i) => i.message) });
      }
      store.setMeta('webhook_style', parsed.data.webhookStyle);
      return { webhookStyle: webhookStyle() };
    });

    scope.get('/sandbox/hitpay/faults', async () => faults.snapshot());
    scope.post('/sandbox/hitpay/faults', async (req) => {
      const parsed = hitpayFaultsRequest.safeParse(req.body ?? {});
      if (!parsed.success) {
        const errors: Record<string, string[]> = {};
        for (const issue of parsed.error.issues) (errors[String(issue.path[0] ?? 'body')] ??= []).push(issue.message);
        throw new HitpayValidationError(errors);
      }
      faults.add(parsed.data);
      return faults.snapshot();
    });
    scope.delete('/sandbox/hitpay/faults', async () => {
      faults.clear();
      return faults.snapshot();
    });

    scope.get('/sandbox/hitpay/ledger', async () => {
      flow.expireOverdue();
      return ledger(store);
    });
  });
}

/** Every request, payment, refund and webhook, with amounts in minor and major units. */
function ledger(store: HitpayStore) {
  const all = store.all();
  const money = (minor: number, currency: string) => minorToMajor(minor, digitsOf(currency));
  const totals: Record<string, { charged_minor: number; refunded_minor: number; net_minor: number; charged: string; refunded: string; net: string }> = {};
  const of = (currency: string) =>
    (totals[currency.toUpperCase()] ??= { charged_minor: 0, refunded_minor: 0, net_minor: 0, charged: '', refunded: '', net: '' });
  for (const p of all.payments) if (p.status !== 'failed') of(p.currency).charged_minor += p.amount_minor;
  for (const r of all.refunds) of(r.currency).refunded_minor += r.amount_minor;
  for (const [currency, t] of Object.entries(totals)) {
    t.net_minor = t.charged_minor - t.refunded_minor;
    t.charged = money(t.charged_minor, currency);
    t.refunded = money(t.refunded_minor, currency);
    t.net = money(t.net_minor, currency);
  }
  return {
    payment_requests: all.requests.map((r) => ({
      id: r.id,
      reference_number: r.reference_number,
      status: r.status,
      currency: r.currency.toUpperCase(),
      amount_minor: r.amount_minor,
      amount: money(r.amount_minor, r.currency),
      webhook: r.webhook,
      expires_at: r.expires_at_ms === null ? null : new Date(r.expires_at_ms).toISOString(),
      created_at: new Date(r.created_ms).toISOString(),
    })),
    payments: all.payments.map((p) => ({
      id: p.id,
      payment_request_id: p.payment_request_id,
      status: p.status,
      currency: p.currency.toUpperCase(),
      amount_minor: p.amount_minor,
      amount: money(p.amount_minor, p.currency),
      refunded_minor: p.refunded_minor,
      refunded: money(p.refunded_minor, p.currency),
      created_at: new Date(p.created_ms).toISOString(),
    })),
    refunds: all.refunds.map((r) => ({
      id: r.id,
      payment_id: r.payment_id,
      currency: r.currency.toUpperCase(),
      amount_minor: r.amount_minor,
      amount: money(r.amount_minor, r.currency),
      created_at: new Date(r.created_ms).toISOString(),
    })),
    webhooks: all.webhooks.map((w) => ({
      id: w.id,
      payment_request_id: w.payment_request_id,
      payment_id: w.payment_id,
      style: w.style,
      event: w.event,
      url: w.url,
      status: w.status,
      attempts: w.attempts,
      duplicates: w.duplicates,
      last_status_code: w.last_status_code,
      last_error: w.last_error,
      headers: JSON.parse(w.headers) as Record<string, string>,
      body: w.body,
      created_at: new Date(w.created_ms).toISOString(),
      delivered_at: w.delivered_ms === null ? null : new Date(w.delivered_ms).toISOString(),
    })),
    totals,
  };
}
