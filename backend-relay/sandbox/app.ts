/**
 * The PSP sandbox (Hips, Vipps MobilePay and HitPay; README.md beside it) as one Fastify app over one SQLite file.
 * `buildSandbox` resolves once listening; `close()` stops timers and deliveries, then the DB.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { DeadlineTimers } from './deadline-timers.js';
import { openSandboxDb } from './db.js';
import { SandboxError, type ErrorType } from './errors.js';
import { Faults } from './faults.js';
import type { FlowDeps } from './flow-deps.js';
import { registerMerchantRoutes } from './merchant-routes.js';
import { OrderFlow } from './order-flow.js';
import { registerPayerRoutes } from './payer-routes.js';
import type { SandboxConfig } from './sandbox-config.js';
import { registerSandboxRoutes } from './sandbox-routes.js';
import { SessionFlow } from './session-flow.js';
import { loadOrCreateSigner } from './signing.js';
import { SandboxStore } from './store.js';
import { defaultDeliveryOptions, WebhookDeliverer, type DeliveryOptions } from './webhook-delivery.js';
import { registerHitpaySandbox } from './hitpay/index.js';
import { registerVippsSandbox } from './vipps/index.js';

export const DEMO_MERCHANT_KEY = 'sk_sandbox_demo_0123456789abcdef';

export interface SandboxOptions {
  port?: number;
  host?: string;
  dbPath: string;
  /** What goes into QR data and the phone page; defaults to the listening URL. */
  publicUrl?: string;
  merchantKey?: string;
  merchantName?: string;
  /** false (default) for silence, true for info-level JSON logs, or pino options. */
  logger?: boolean | object;
  /** Webhook delivery timing (Hips: 10 s per attempt, 3 attempts); tests shorten it. */
  webhook?: Partial<DeliveryOptions>;
  /** Tests only: lower the 60 s minimum of order/payment timeouts. */
  timeoutFloorSeconds?: number;
}

export interface Sandbox {
  url: string;
  merchantKey: string;
  merchantId: string;
  publicKeyPem: string;
  close(): Promise<void>;
}

function makeLogger(option: SandboxOptions['logger']): Logger {
  if (option === undefined || option === false) return pino({ level: 'silent' });
  return pino(option === true ? {} : option);
}

/** A value kept in the meta table, made once: the merchant and sales channel ids. */
function persistentId(store: SandboxStore, key: string, make: () => string): string {
  const existing = store.getMeta(key);
  if (existing) return existing;
  const value = make();
  store.setMeta(key, value);
  return value;
}

const typeByStatus: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
};

export async function buildSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const log = makeLogger(opts.logger);
  const db = openSandboxDb(opts.dbPath);
  const store = new SandboxStore(db);
  const signer = await loadOrCreateSigner(db);
  const faults = new Faults();
  const timers = new DeadlineTimers();
  const shutdown = new AbortController();
  const deliverer = new WebhookDeliverer(store, signer, faults, { ...defaultDeliveryOptions, ...opts.webhook }, log);

  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.setErrorHandler((err: FastifyError | SandboxError, req, reply) => {
    if (err instanceof SandboxError) return reply.code(err.status).send(err.toBody());
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err, url: req.url }, 'sandbox request failed');
    const type = typeByStatus[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    const message = status === 500 ? 'Internal sandbox error; see the sandbox log.' : err.message;
    return reply.code(status).send({ error: { type, message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { type: 'not_found_error', message: `No route ${req.method} ${req.url.split('?')[0]}.` } }),
  );

  const config: SandboxConfig = {
    publicUrl: '', // known once listening, see below
    merchantKey: opts.merchantKey ?? DEMO_MERCHANT_KEY,
    merchantId: persistentId(store, 'merchant_id', () => `M${randomBytes(5).toString('hex').toUpperCase()}`),
    merchantName: opts.merchantName ?? 'Sandbox Taxi',
    salesChannelId: persistentId(store, 'sales_channel_id', () => randomBytes(12).toString('base64url')),
    timeoutFloorSeconds: opts.timeoutFloorSeconds ?? 60,
  };
  const deps: FlowDeps = { store, deliverer, timers, config, log };
  const sessions = new SessionFlow(deps);
  const orders = new OrderFlow(deps);
  deliverer.setListener({
    onStartRefused: (id, text) => sessions.endAsDown(id, text),
    onStartUndeliverable: (id) => sessions.endAsUnreachable(id),
  });
  registerMerchantRoutes(app, { store, config, orders, faults, shutdown: shutdown.signal });
  registerPayerRoutes(app, { store, config, sessions, orders });
  registerSandboxRoutes(app, { store, faults, signer });
  registerHitpaySandbox(app, { store, config, log, webhook: opts.webhook });
  registerVippsSandbox(app, { store, config, log });
  app.get('/healthz', async () => ({ ok: true }));

  const host = opts.host ?? '127.0.0.1';
  try {
    await app.listen({ port: opts.port ?? 0, host, listenTextResolver: (address) => `http server bound to ${address}` });
  } catch (err) {
    db.close();
    throw err;
  }
  const port = (app.server.address() as { port: number }).port;
  const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`;
  config.publicUrl = (opts.publicUrl ?? url).replace(/\/+$/, '');

  // With the public URL known: re-arm deadlines and resume hooks left over from the last run.
  sessions.rearm();
  orders.rearm();
  deliverer.resumeUndelivered();

  let closing: Promise<void> | null = null;
  return {
    url,
    merchantKey: config.merchantKey,
    merchantId: config.merchantId,
    publicKeyPem: signer.publicKeyPem,
    close: () =>
      (closing ??= (async () => {
        shutdown.abort();
        timers.close();
        await deliverer.close();
        await app.close();
        db.close();
      })()),
  };
}
