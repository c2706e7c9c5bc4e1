/**
 * The Vipps MobilePay HTTP surface: Access token, QR (merchant callback), Webhooks and ePayment
 * APIs as the docs show them (same paths, headers, status codes, problem+json errors), plus the
 * passenger-app simulation and test controls under /vipps and /sandbox/vipps.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';
import { z } from 'zod';
import { sleep } from '../abortable-sleep.js';
import type { SandboxConfig } from '../sandbox-config.js';
import { vippsAppHtml } from './app-page.js';
import { CHECKED_IN_EVENT, checkIn, qrView } from './checkin.js';
import type { VippsDeliverer } from './delivery.js';
import { EPAYMENT_EVENTS, paymentView, type Answer, type EPaymentFlow } from './epayment.js';
import type { LateCall } from '../late-answers.js';
import { vippsFaultsRequest, type VippsFaults } from './faults.js';
import { parseOrProblem, sendProblem, VippsProblem } from './problem.js';
import { vippsSettingsRequest, type VippsCredentials, type VippsSettings } from './settings.js';
import { nowIso, type VippsStore } from './store.js';

export interface VippsRouteDeps {
  store: VippsStore;
  deliverer: VippsDeliverer;
  payments: EPaymentFlow;
  faults: VippsFaults;
  settings: VippsSettings;
  credentials: VippsCredentials;
  config: SandboxConfig;
  shutdown: AbortSignal;
}

const unauthorized = (detail: string) => new VippsProblem(401, 'Unauthorized', detail);

function sameText(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const systemHeaders = z.object({
  'vipps-system-name': z.string().max(30, 'at most 30 characters').optional(),
  'vipps-system-version': z.string().max(30, 'at most 30 characters').optional(),
  'vipps-system-plugin-name': z.string().max(30, 'at most 30 characters').optional(),
  'vipps-system-plugin-version': z.string().max(30, 'at most 30 characters').optional(),
});

const idempotencyKey = z
  .string({ error: 'required: a unique key per operation (at most 50 characters); resend the same key to retry' })
  .min(1)
  .max(50, 'at most 50 characters');

const merchantQrId = z.string().regex(/^[-_A-Za-z0-9]{1,128}$/, '1 to 128 letters, digits, "-" and "_"');
const qrPutRequest = z.object({
  locationDescription: z.string().min(1, 'required').max(36, 'at most 36 characters (it is shown in the app)'),
  category: z.enum(['IN_STORE', 'VENDING']).optional(),
  qrImageFormat: z.enum(['PNG', 'SVG']).optional(),
});
const qrQuery = z.object({
  qrImageFormat: z.enum(['PNG', 'SVG']).optional(),
  qrImageSize: z.coerce.number().int().min(100).max(2000).optional(),
});
const webhookEvents = [CHECKED_IN_EVENT, ...EPAYMENT_EVENTS];
const registerWebhookRequest = z.object({
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL that answers 2xx' }).max(2000),
  events: z.array(z.enum(webhookEvents as [string, ...string[]], { error: `one of ${webhookEvents.join(', ')}` })).min(1, 'at least one event'),
});
const checkinRequest = z.strictObject({ qrContent: z.string().min(3).max(2000) });
const referenceParam = z.string().regex(/^[a-zA-Z0-9-]{8,50}$/, '8 to 50 characters of letters, digits and "-"');

export function registerVippsRoutes(app: FastifyInstance, deps: VippsRouteDeps): void {
  const { store, deliverer, payments, faults, settings, credentials, config } = deps;

  // One plugin scope, so Vipps errors are problem+json without touching the Hips handler.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
      if ((text as string).trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text as string));
      } catch {
        done(new VippsProblem(400, 'Invalid JSON', 'The request body is not valid JSON.'), undefined);
      }
    });
    // POST /accesstoken/get has no body; curl sends it as a form.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, text, done) => done(null, text));

    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const path = req.url.split('?')[0]!;
      if (err instanceof VippsProblem) return sendProblem(reply, err, path);
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) req.log.error({ err, url: req.url }, 'vipps sandbox request failed');
      return sendProblem(
        reply,
        new VippsProblem(
          status,
          status === 500 ? 'Internal error' : 'Bad request',
          status === 500 ? 'Internal sandbox error; see the sandbox log.' : err.message,
        ),
        path,
      );
    });

    /** Bearer token + subscription key; Merchant-Serial-Number, when sent, must be the token's. */
    const authorize = (req: FastifyRequest): string => {
      parseOrProblem(systemHeaders, req.headers, 'Vipps-System-* headers');
      if (!sameText(header(req, 'ocp-apim-subscription-key'), credentials.subscriptionKey)) {
        throw unauthorized('Access denied due to a missing or invalid subscription key (Ocp-Apim-Subscription-Key).');
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
      const token = bearer ? store.token(bearer) : undefined;
      if (!token) throw unauthorized('Missing or unknown access token: send Authorization: Bearer <access_token from POST /accesstoken/get>.');
      if (token.expires_at_ms <= Date.now()) throw unauthorized('The access token has expired; get a new one from POST /accesstoken/get.');
      const msn = header(req, 'merchant-serial-number');
      if (msn !== undefined && msn !== token.msn) {
        throw new VippsProblem(403, 'Forbidden', `Merchant-Serial-Number ${msn} does not belong to these API keys (they are for ${token.msn}).`);
      }
      return token.msn;
    };
    const idemKey = (req: FastifyRequest) => parseOrProblem(idempotencyKey, header(req, 'idempotency-key'), 'Idempotency-Key header');
    const send = (reply: FastifyReply, answer: Answer) => reply.code(answer.statusCode).send(answer.body);
    /** The late-answer fault: a booked refund or capture is answered after the relay stopped waiting. */
    const answerLate = async (call: LateCall, answer: Answer) => {
      const lateMs = answer.statusCode < 300 ? faults.late.take(call) : null;
      if (lateMs !== null && !(await sleep(lateMs, deps.shutdown))) {
        throw new VippsProblem(503, 'Service unavailable', 'The sandbox is shutting down.');
      }
    };
    const ref = (req: FastifyRequest<{ Params: { reference: string } }>) => parseOrProblem(referenceParam, req.params.reference, 'reference in the path');

    // Access token API: a POST without a body, credentials in headers.
    scope.post('/accesstoken/get', async (req) => {
      parseOrProblem(systemHeaders, req.headers, 'Vipps-System-* headers');
      const ok =
        sameText(header(req, 'client_id'), credentials.clientId) &&
        sameText(header(req, 'client_secret'), credentials.clientSecret) &&
        sameText(header(req, 'ocp-apim-subscription-key'), credentials.subscriptionKey);
      if (!ok) throw unauthorized('Invalid client_id, client_secret or Ocp-Apim-Subscription-Key.');
      const msn = header(req, 'merchant-serial-number');
      if (msn !== undefined && msn !== credentials.msn) {
        throw new VippsProblem(403, 'Forbidden', `Merchant-Serial-Number ${msn} does not belong to these API keys (they are for ${credentials.msn}).`);
      }
      const ttl = settings.accessTokenTtlSeconds;
      const now = Math.floor(Date.now() / 1000);
      const accessToken = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
      store.insertToken(accessToken, credentials.msn, (now + ttl) * 1000);
      // The real API answers every number as a string.
      return {
        token_type: 'Bearer',
        expires_in: String(ttl),
        ext_expires_in: '0',
        expires_on: String(now + ttl),
        not_before: String(now),
        resource: '00000002-0000-0000-c000-000000000000',
        access_token: accessToken,
      };
    });

    // QR API: merchant callback QR codes.
    scope.put<{ Params: { merchantQrId: string } }>('/qr/v1/merchant-callback/:merchantQrId', async (req, reply) => {
      const msn = authorize(req);
      const id = parseOrProblem(merchantQrId, req.params.merchantQrId, 'merchantQrId');
      const body = parseOrProblem(qrPutRequest, req.body ?? {}, 'merchant callback QR request');
      const now = nowIso();
      store.upsertQr({
        msn,
        merchant_qr_id: id,
        location_description: body.locationDescription,
        category: body.category ?? null,
        created_at: now,
        updated_at: now,
      });
      return reply.code(204).send(); // the QR itself is read with GET, as at Vipps
    });
    scope.get<{ Params: { merchantQrId: string } }>('/qr/v1/merchant-callback/:merchantQrId', async (req) => {
      const msn = authorize(req);
      const q = parseOrProblem(qrQuery, req.query, 'query');
      const qr = store.qr(msn, req.params.merchantQrId);
      if (!qr) throw new VippsProblem(404, 'Not found', `No merchant callback QR "${req.params.merchantQrId}" for merchant ${msn}.`);
      return qrView(config.publicUrl, qr, q.qrImageFormat, q.qrImageSize);
    });
    scope.get('/qr/v1/merchant-callback', async (req) => {
      const msn = authorize(req);
      const q = parseOrProblem(qrQuery, req.query, 'query');
      return store.qrs(msn).map((qr) => qrView(config.publicUrl, qr, q.qrImageFormat, q.qrImageSize));
    });
    scope.delete<{ Params: { merchantQrId: string } }>('/qr/v1/merchant-callback/:merchantQrId', async (req, reply) => {
      const msn = authorize(req);
      if (!store.deleteQr(msn, req.params.merchantQrId)) {
        throw new VippsProblem(404, 'Not found', `No merchant callback QR "${req.params.merchantQrId}" for merchant ${msn}.`);
      }
      return reply.code(204).send();
    });
    scope.get<{ Params: { msn: string; file: string }; Querystring: { size?: string } }>('/vipps/qr-image/:msn/:file', async (req, reply) => {
      const match = /^(.+)\.(svg|png)$/.exec(req.params.file);
      const qr = match ? store.qr(req.params.msn, match[1]!) : undefined;
      if (!match || !qr) throw new VippsProblem(404, 'Not found', 'No such QR image.');
      const content = qrView(config.publicUrl, qr).qrContent;
      if (match[2] === 'svg') {
        return reply.header('content-type', 'image/svg+xml').send(await QRCode.toString(content, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
      }
      const size = Math.min(2000, Math.max(100, Number(req.query.size) || 1024));
      return reply.header('content-type', 'image/png').send(await QRCode.toBuffer(content, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: size }));
    });

    // Webhooks API
    scope.post('/webhooks/v1/webhooks', async (req, reply) => {
      const msn = authorize(req);
      const body = parseOrProblem(registerWebhookRequest, req.body, 'webhook registration');
      const row = {
        id: randomUUID(),
        msn,
        url: body.url,
        events: JSON.stringify([...new Set(body.events)]),
        secret: randomBytes(64).toString('base64'),
        created_at: nowIso(),
      };
      store.insertWebhook(row);
      return reply.code(201).send({ id: row.id, secret: row.secret });
    });
    scope.get('/webhooks/v1/webhooks', async (req) => {
      const msn = authorize(req);
      return { webhooks: store.webhooks(msn).map((w) => ({ id: w.id, url: w.url, events: JSON.parse(w.events) as string[] })) };
    });
    scope.delete<{ Params: { id: string } }>('/webhooks/v1/webhooks/:id', async (req, reply) => {
      const msn = authorize(req);
      if (!store.deleteWebhook(msn, req.params.id)) throw new VippsProblem(404, 'Not found', `No webhook "${req.params.id}" for merchant ${msn}.`);
      return reply.code(204).send();
    });

    // ePayment API
    scope.post('/epayment/v1/payments', async (req, reply) => {
      const msn = authorize(req);
      const key = idemKey(req);
      if (faults.take('createPayment500'))
        throw new VippsProblem(500, 'Internal error', 'Internal error (createPayment500 fault). Retry with the same Idempotency-Key.');
      if (faults.take('createPayment503'))
        throw new VippsProblem(503, 'Service unavailable', 'Service temporarily unavailable (createPayment503 fault). Retry with the same Idempotency-Key.');
      const hang = faults.takeCreatePaymentHang();
      if (hang) {
        if (!(await sleep(hang.hangMs, deps.shutdown)))
          throw new VippsProblem(503, 'Service unavailable', 'The sandbox is shutting down; the payment was not created.');
        if (hang.then === 'drop') {
          reply.hijack();
          req.raw.socket.destroy();
          return;
        }
      }
      return send(reply, payments.create(msn, key, req.body));
    });
    scope.get<{ Params: { reference: string } }>('/epayment/v1/payments/:reference', async (req) => paymentView(payments.get(authorize(req), ref(req))));
    scope.get<{ Params: { reference: string } }>('/epayment/v1/payments/:reference/events', async (req) => payments.events(authorize(req), ref(req)));
    scope.post<{ Params: { reference: string } }>('/epayment/v1/payments/:reference/capture', async (req, reply) => {
      const msn = authorize(req);
      const answer = payments.capture(msn, ref(req), idemKey(req), req.body);
      await answerLate('capture', answer);
      return send(reply, answer);
    });
    scope.post<{ Params: { reference: string } }>('/epayment/v1/payments/:reference/cancel', async (req, reply) => {
      const msn = authorize(req);
      return send(reply, payments.cancel(msn, ref(req), idemKey(req), req.body));
    });
    scope.post<{ Params: { reference: string } }>('/epayment/v1/payments/:reference/refund', async (req, reply) => {
      const msn = authorize(req);
      const answer = payments.refund(msn, ref(req), idemKey(req), req.body);
      await answerLate('refund', answer);
      return send(reply, answer);
    });
    // The documented test-environment "force approve".
    scope.post<{ Params: { reference: string } }>('/epayment/v1/test/payments/:reference/approve', async (req, reply) => {
      const msn = authorize(req);
      payments.decide(ref(req), 'approve', msn);
      return reply.code(200).send();
    });

    // The passenger's app (a phone page) and its JSON endpoints.
    scope.get<{ Params: { msn: string; merchantQrId: string } }>('/vipps/qr/:msn/:merchantQrId', async (req, reply) => {
      const content = `${config.publicUrl}/vipps/qr/${encodeURIComponent(req.params.msn)}/${encodeURIComponent(req.params.merchantQrId)}`;
      return reply.redirect(`/vipps/app?qr=${encodeURIComponent(content)}`, 302);
    });
    scope.get('/vipps/app', async (_req, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
        .send(vippsAppHtml(config.merchantName)),
    );
    scope.post('/sandbox/vipps/checkin', async (req) => {
      const body = parseOrProblem(checkinRequest, req.body, 'check-in request');
      return checkIn(store, deliverer, settings, body.qrContent);
    });
    scope.get<{ Querystring: { customerToken?: string } }>('/sandbox/vipps/pushes', async (req) => {
      const token = parseOrProblem(z.string().min(1, 'required'), req.query.customerToken, 'customerToken query parameter');
      const ci = store.checkIn(token);
      if (!ci) throw new VippsProblem(404, 'Not found', 'Unknown customer token: scan the QR code first.');
      const qr = store.qr(ci.msn, ci.merchant_qr_id);
      return {
        checkIn: {
          merchantQrId: ci.merchant_qr_id,
          msn: ci.msn,
          locationDescription: qr?.location_description ?? null,
          initiatedAt: ci.initiated_at,
          expiresAt: new Date(ci.expires_at_ms).toISOString(),
          live: ci.expires_at_ms > Date.now(),
        },
        merchantName: config.merchantName,
        payments: payments.pushes(token).map((p) => ({
          reference: p.reference,
          state: p.state,
          amount: { currency: p.currency, value: p.amount },
          paymentDescription: p.payment_description,
          receipt: p.receipt ? (JSON.parse(p.receipt) as unknown) : null,
          expiresAt: new Date(p.expires_at_ms).toISOString(),
        })),
      };
    });
    for (const outcome of ['approve', 'reject'] as const) {
      scope.post<{ Params: { reference: string } }>(`/sandbox/vipps/payments/:reference/${outcome}`, async (req) =>
        paymentView(payments.decide(ref(req), outcome)),
      );
    }
    scope.post<{ Params: { customerToken: string } }>('/sandbox/vipps/tokens/:customerToken/expire', async (req) => {
      if (!store.expireCheckIn(req.params.customerToken)) throw new VippsProblem(404, 'Not found', 'Unknown customer token.');
      return { expired: true };
    });

    // Test controls: timings, faults, ledger.
    scope.get('/sandbox/vipps/settings', async () => settings);
    scope.post('/sandbox/vipps/settings', async (req) => {
      Object.assign(settings, parseOrProblem(vippsSettingsRequest, req.body ?? {}, 'settings'));
      return settings;
    });
    scope.get('/sandbox/vipps/faults', async () => faults.snapshot());
    scope.post('/sandbox/vipps/faults', async (req) => {
      faults.add(parseOrProblem(vippsFaultsRequest, req.body ?? {}, 'faults'));
      return faults.snapshot();
    });
    scope.delete('/sandbox/vipps/faults', async () => {
      faults.clear();
      return faults.snapshot();
    });
    scope.get('/sandbox/vipps/ledger', async () => ledger(store));
    scope.get('/sandbox/vipps/credentials', async () => ({ ...credentials, baseUrl: config.publicUrl }));
  });
}

/** Every payment with its aggregate and events, every delivery, and totals per currency. */
export function ledger(store: VippsStore) {
  const events = store.allEvents();
  const paymentsOut = store.allPayments().map((p) => ({
    msn: p.msn,
    reference: p.reference,
    pspReference: p.psp_reference,
    state: p.state,
    currency: p.currency,
    amount: p.amount,
    authorized: p.authorized,
    captured: p.captured,
    cancelled: p.cancelled,
    refunded: p.refunded,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    events: events
      .filter((e) => e.msn === p.msn && e.reference === p.reference)
      .map((e) => ({ name: e.name, value: e.value, pspReference: e.psp_reference, timestamp: e.timestamp, idempotencyKey: e.idempotency_key })),
  }));
  const totals: Record<string, { authorized: number; captured: number; cancelled: number; refunded: number; net: number }> = {};
  for (const p of paymentsOut) {
    const t = (totals[p.currency] ??= { authorized: 0, captured: 0, cancelled: 0, refunded: 0, net: 0 });
    t.authorized += p.authorized;
    t.captured += p.captured;
    t.cancelled += p.cancelled;
    t.refunded += p.refunded;
    t.net = t.captured - t.refunded;
  }
  return {
    payments: paymentsOut,
    webhooks: store.allDeliveries().map((d) => ({
      id: d.id,
      webhookId: d.webhook_id,
      url: d.url,
      event: d.event,
      reference: d.reference,
      status: d.status,
      attempts: d.attempts,
      duplicates: d.duplicates,
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      body: JSON.parse(d.body) as unknown,
      createdAt: d.created_at,
      deliveredAt: d.delivered_at,
    })),
    totals,
  };
}
