/**
 * The relay: one Fastify app with Socket.IO on the same HTTP server (namespace /cab).
 * buildRelayApp wires the parts; buildRelay also listens and returns the URL.
 */
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Server as SocketServer } from 'socket.io';
import { CAB_NAMESPACE, SOCKET_EVENTS } from '../protocol/relay-protocol.js';
import { cabRoom, closeDefaultNamespace, wireCabNamespace } from './cab-namespace.js';
import { resolveRelayConfig, type RelayConfig, type ResolvedRelayConfig } from './config.js';
import { DeliveryHub } from './delivery.js';
import { registerAdminRoutes } from './http/admin-routes.js';
import { registerConsole, type FleetConsole } from './console/index.js';
import type { DefaultCurrencies } from './payments/cab-currency.js';
import { BODY_LIMIT_BYTES, installErrorHandling } from './http/errors.js';
import { registerOpsRoutes } from './http/ops-routes.js';
import { registerRefundRoutes } from './http/refund-routes.js';
import { installSecurityHeaders } from './http/security-headers.js';
import { registerWebhookRoutes } from './http/webhook-routes.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { CabQuotas } from './cab-quotas.js';
import { QuotaAlerts } from './quota-alerts.js';
import { CountLimit, FailureLimit } from './rate-limits.js';
import { HOOK_REPLAY_WINDOW_MS, createPspAdapters, type PspAdapter } from './psp/index.js';
import { HIPS_QR_WEBHOOK_PATH } from './psp/hips-qr.js';
import { envFor } from './payments/payment-service.js';
import { PSP_CAPABILITIES } from '../protocol/psp-capabilities.js';
import type { PspName } from '../protocol/relay-protocol.js';
import { registerReceipts, type RelayReceipts } from './receipts/index.js';
import { openRelayDatabase, openSqliteRelayStore } from './store/sqlite-store.js';
import { eventEmitter } from './payments/emit.js';
import { PaymentService } from './payments/payment-service.js';
import { preauthSettings } from './payments/preauth-service.js';
import { PreauthStore } from './payments/preauth-store.js';
import { RefundService } from './payments/refund-service.js';
import { SecretBox } from './secret-box.js';
import { PaymentStore } from './store/payment-store.js';
import type { PruneResult, RelayStore } from './store/relay-store.js';
import { SqliteLease } from './reconcile/lease.js';
import { acceptOrderReport } from './reconcile/order-reports.js';
import { ReconcileStore } from './reconcile/reconcile-store.js';
import { Reconciler } from './reconcile/reconciler.js';
import { QrClaims } from './store/qr-claims.js';
import { registerUpdates, type FleetUpdates } from './updates/index.js';
import { HSTS_VALUE, readTlsMaterial, watchTlsFiles, type TlsReloader } from './tls.js';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface RelayApp {
  fastify: FastifyInstance;
  io: SocketServer;
  store: RelayStore;
  hub: DeliveryHub;
  /** Relay-made payments (payment.request, PSP updates, captures, expiries). */
  payments: PaymentService;
  /** Asks the PSPs about payments and orders whose webhooks did not arrive in time. */
  reconciler: Reconciler;
  /** What the reconciler follows and how each check went. */
  reconciliations: ReconcileStore;
  /** Releases, rollout and the per-cab update feed. */
  updates: FleetUpdates;
  /** The web console: operator accounts, sessions, audit log and the live fleet feed. */
  console: FleetConsole;
  config: ResolvedRelayConfig;
  logger: Logger;
  /**
   * Clients reach the relay over TLS: it serves HTTPS itself, or its public URL is https (a
   * load balancer terminates TLS). Then every response carries Strict-Transport-Security, and
   * a cookie the relay sets must be `Secure`.
   */
  tlsActive: boolean;
  /** Reads the certificate files again (SIGHUP); null when the relay serves plain HTTP. */
  reloadTls(): ReturnType<TlsReloader['reload']> | null;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /**
   * Removes acked events older than the retention, hook dedupe keys older than the retention
   * or the longest a hook can be replayed, whichever is longer, and receipts older than theirs;
   * also runs hourly while listening.
   */
  prune(): Promise<PruneResult & { receipts: number }>;
  /** Graceful: stop accepting, finish in-flight commits, close sockets, close the database. */
  close(): Promise<void>;
}

export interface RelayAppOptions {
  /** Use this logger instead of pino to stdout (tests). */
  logger?: Logger;
  /** The fetch PSP adapters call their PSPs with (tests). */
  fetch?: typeof fetch;
  /** Adapters used instead of the configured ones of the same PSP (tests: in-test providers). */
  extraAdapters?: PspAdapter[];
  /**
   * The relay cannot go on (its store's writer thread died, so every write would fail); the
   * fatal line is logged already. main.ts closes the app and exits non-zero for its supervisor
   * to restart it. Without this option the app closes itself.
   */
  onFatal?: (err: Error) => void;
  /** The console's clock, for session expiry (tests); default Date.now. */
  consoleClock?: () => number;
}

export async function buildRelayApp(input: RelayConfig, options: RelayAppOptions = {}): Promise<RelayApp> {
  const config = resolveRelayConfig(input);
  const logger = options.logger ?? createLogger(config.logLevel);
  const db = openRelayDatabase(config.dbPath);
  let closeApp: (() => Promise<void>) | null = null;
  let writerDied = false;
  const closeAfterFatal = () => void closeApp?.().catch((err: unknown) => logger.error({ err }, 'closing after the writer thread died failed'));
  const onWriterFailure = (err: Error) => {
    logger.fatal({ err }, 'the relay store’s writer thread died, so every write would fail: the relay stops for its supervisor to restart it');
    writerDied = true;
    if (options.onFatal) options.onFatal(err);
    else closeAfterFatal();
  };
  const store = openSqliteRelayStore(db, { onWriterFailure, debugWriterExitOn: config.debugWriterExitOn });
  const paymentStore = new PaymentStore(db, config.secretsKey ? new SecretBox(config.secretsKey) : null);
  let listeningUrl = `http://127.0.0.1:${config.port}`;
  const publicUrl = () => (config.publicUrl ?? listeningUrl).replace(/\/+$/, '');
  let adapters: PspAdapter[];
  try {
    // Before any adapter reads them: plain secrets from before the key are sealed, and a wrong key stops the start.
    const secrets = paymentStore.protectStoredSecrets();
    if (secrets.sealedNow > 0) logger.info({ sealed: secrets.sealedNow }, 'secrets stored in plain text are now sealed with RELAY_SECRETS_KEY');
    if (!config.secretsKey)
      logger.warn(
        { plainSecrets: secrets.plain },
        'RELAY_SECRETS_KEY is not set: the Vipps webhook secret and passengers’ Vipps check-in tokens are stored in plain text in RELAY_DB; set it to 32 random bytes (openssl rand -base64 32)',
      );
    adapters = await createPspAdapters(config, { logger, meta: paymentStore, publicUrl, fetch: options.fetch, timeoutMs: config.pspTimeoutMs });
    // Test adapters replace the built-in one of the same PSP.
    for (const extra of options.extraAdapters ?? []) adapters = [...adapters.filter((a) => a.name !== extra.name), extra];
  } catch (err) {
    await store.close();
    throw err;
  }

  const reconciliations = new ReconcileStore(db);
  // The gauges read the hub at scrape time, after it exists.
  const metrics = createMetrics(
    () => hub.connectedCount(),
    () => store.backlogByCab(),
    () => reconciliations.openByPsp(),
  );
  const hub = new DeliveryHub({ store, metrics, logger, ackTimeoutMs: config.ackTimeoutMs });

  const tlsMaterial = config.tls ? readTlsMaterial(config.tls) : null;
  if (tlsMaterial && !tlsMaterial.ok) {
    await store.close();
    throw new Error(tlsMaterial.error.message);
  }
  const https = tlsMaterial ? { cert: tlsMaterial.value.cert, key: tlsMaterial.value.key } : null;
  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  const tlsActive = https !== null || (config.publicUrl?.startsWith('https:') ?? false);
  if (tlsActive) fastify.addHook('onRequest', async (_req, reply) => void reply.header('strict-transport-security', HSTS_VALUE));
  const tlsReloader = config.tls ? watchTlsFiles(fastify.server as unknown as TlsServer, config.tls, logger) : null;
  installSecurityHeaders(fastify);
  const io = new SocketServer(fastify.server, { perMessageDeflate: false, serveClient: false });
  const limits = {
    adminAuth: new FailureLimit('admin-auth', config.limits.adminAuthFailures),
    receiptMisses: new FailureLimit('receipt-misses', config.limits.receiptMisses),
    handshakes: new FailureLimit('handshakes', config.limits.handshakeFailures),
    cabMessages: new CountLimit('cab-messages', config.limits.cabMessages),
  };
  const alerts = new QuotaAlerts(metrics, logger);
  const quotas = new CabQuotas(config.cabQuotas, alerts);
  closeDefaultNamespace(io, limits.handshakes);
  const nsp = io.of(CAB_NAMESPACE);
  // Receipts are registered with the routes below; the socket handler reads them then.
  let receipts: RelayReceipts | null = null;
  const providers = new Map(adapters.flatMap((a) => (a.provider ? [[a.name, a.provider] as const] : [])));
  const emit = eventEmitter(store, hub);
  // The fleet's Vipps currency (VIPPS_PREAUTH_CURRENCY) is the default for its Vipps cabs.
  const defaultCurrencies: DefaultCurrencies = config.vipps ? { vipps: config.vipps.preauthCurrency } : {};
  const payments = new PaymentService({
    store,
    defaultCurrencies,
    payments: paymentStore,
    emit,
    logger,
    providers,
    webhookUrl: (psp) => `${publicUrl()}${adapters.find((a) => a.name === psp)?.webhooks[0]?.path ?? `/webhooks/${psp}`}`,
    sweepMs: config.paymentSweepMs,
    preauth: { reservations: new PreauthStore(db), settings: preauthSettings(config.vipps) },
  });
  const refunds = new RefundService({ store, payments: paymentStore, emit, logger, providers });
  const reconciler = new Reconciler({
    store,
    reconciliations,
    paymentRows: paymentStore,
    payments,
    providers,
    emit,
    lease: new SqliteLease(db),
    metrics,
    logger: logger.child({ part: 'reconcile' }),
    afterMs: config.reconcileAfterMs,
    everyMs: config.reconcileEveryMs,
  });
  const orderReports = {
    report: (cabId: string, payload: unknown) =>
      acceptOrderReport({ store, reconciliations, providers, logger, afterMs: config.reconcileAfterMs }, cabId, payload),
  };
  wireCabNamespace(nsp, {
    store,
    hub,
    logger,
    receipts: () => receipts,
    payments,
    refunds,
    handshakeFailures: limits.handshakes,
    messages: limits.cabMessages,
    onLimited: (cabId, kind) => alerts.exceeded(cabId, kind),
    quotas,
    orderReports,
  });

  const disconnectCab = (cabId: string) => {
    hub.disconnect(cabId);
    nsp.in(cabRoom(cabId)).disconnectSockets(true);
  };
  const webhookByPath = new Map(adapters.flatMap((a) => a.webhooks.map((w) => [w.path, { psp: a.name, kind: w.kind }] as const)));
  installErrorHandling(fastify, logger, (path, code) => {
    const hook = webhookByPath.get(path);
    if (hook) metrics.webhooks.inc({ ...hook, outcome: code === 'body_too_large' ? 'too_large' : 'malformed' });
  });
  registerOpsRoutes(fastify, { store, hub, metrics, metricsToken: config.metricsToken ?? null, authFailures: limits.adminAuth });
  const updates = registerUpdates(fastify, { db, store, logger, config, authFailures: limits.adminAuth });
  receipts = registerReceipts(fastify, {
    db,
    store,
    logger,
    issuer: { fleetName: config.fleetName, orgNumber: config.fleetOrgNumber ?? null, timeZone: config.timeZone },
    locale: config.locale,
    baseUrl: publicUrl,
    misses: limits.receiptMisses,
    limits: { maxBytes: config.cabQuotas.receiptMaxBytes, maxKept: config.cabQuotas.receiptsKept },
    retentionMs: config.receiptRetentionMs,
    onLimited: (cabId, kind, detail) => alerts.exceeded(cabId, kind, detail),
  });
  registerRefundRoutes(fastify, { payments: paymentStore, adminToken: config.adminToken, authFailures: limits.adminAuth });
  registerAdminRoutes(fastify, {
    store,
    hub,
    logger,
    adminToken: config.adminToken,
    authFailures: limits.adminAuth,
    disconnectCab,
    updateTargets: (ids) => updates.targets(ids),
    provisionCab: (psp, cab) => adapters.find((a) => a.name === psp)?.provisionCab?.(cab) ?? Promise.resolve(null),
    retireQrCodes: async (psp, qrCodes) => adapters.find((a) => a.name === psp)?.retireQrCodes?.(qrCodes),
    qrSetup: (psp, qrCodes) => qrSetup(psp, qrCodes, adapters, publicUrl()),
    qrClaims: new QrClaims(db),
    defaultCurrencies,
  });
  const fleetConsole = registerConsole(fastify, {
    db,
    store,
    io,
    logger: logger.child({ part: 'console' }),
    config: config.console,
    adminToken: config.adminToken,
    authFailures: limits.adminAuth,
    isOnline: (cabId) => hub.isConnected(cabId),
    publicUrl: config.publicUrl,
    tlsActive,
    now: options.consoleClock,
  });
  // Operators watching the fleet see a tablet come, go and report its status as it happens.
  nsp.on('connection', (socket) => {
    fleetConsole.feed.changed();
    socket.on('disconnect', () => fleetConsole.feed.changed());
    socket.on(SOCKET_EVENTS.tabletStatus, () => fleetConsole.feed.changed());
  });
  registerWebhookRoutes(fastify, adapters, {
    store,
    hub,
    metrics,
    logger,
    locale: config.locale,
    cabStaleSeconds: config.cabStaleSeconds,
    payments,
  });

  const prune = async () => {
    const now = Date.now();
    const removed = {
      ...(await store.prune(now - config.retentionMs, now - Math.max(config.retentionMs, HOOK_REPLAY_WINDOW_MS))),
      receipts: receipts?.prune(now) ?? 0,
    };
    if (removed.events + removed.unrouted + removed.hookKeys + removed.receipts > 0) logger.info(removed, 'pruned what is older than its retention');
    return removed;
  };
  let pruneTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const app: RelayApp = {
    fastify,
    io,
    store,
    hub,
    payments,
    reconciler,
    reconciliations,
    updates,
    console: fleetConsole,
    config,
    logger,
    tlsActive,
    reloadTls: () => tlsReloader?.reload('SIGHUP') ?? null,
    prune,
    async listen() {
      await fastify.listen({ port: config.port, host: config.host });
      const address = fastify.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      const url = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
      listeningUrl = url;
      for (const adapter of adapters) {
        // A PSP that cannot be set up now (Vipps webhook registration) must not keep the relay
        // from serving the others; it is tried again at the next start.
        await adapter
          .start?.(publicUrl())
          .catch((err: unknown) => logger.error({ err, psp: adapter.name }, 'PSP adapter start failed; its webhooks may not arrive until the relay restarts'));
      }
      // Expired payment requests and captures a restart interrupted are picked up now, and
      // payments whose hooks were lost while the relay was down are asked about.
      payments.start();
      reconciler.start();
      await prune().catch((err: unknown) => logger.error({ err }, 'prune failed'));
      pruneTimer = setInterval(() => void prune().catch((err: unknown) => logger.error({ err }, 'prune failed')), PRUNE_EVERY_MS);
      pruneTimer.unref();
      logger.info({ url, publicUrl: config.publicUrl }, 'listening');
      return url;
    },
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        tlsReloader?.close();
        for (const adapter of adapters) adapter.stop?.();
        payments.stop();
        reconciler.stop();
        await reconciler.run().catch(() => {}); // a pass under way finishes before the store closes
        await hub.stopAll();
        fleetConsole.close();
        nsp.disconnectSockets(true);
        io.engine.close();
        await fastify.close(); // waits for in-flight requests, so their commits finish
        await store.close();
        logger.info('relay closed');
      })();
      return closing;
    },
  };
  closeApp = () => app.close();
  if (writerDied && !options.onFatal) closeAfterFatal(); // died while the app was being built
  return app;
}

/**
 * Who sets up a PSP's static QRs for a cab: the relay when the PSP's API group is configured,
 * else the fleet, out of band (the admin answer says what to do).
 */
function qrSetup(psp: PspName, qrCodes: string[], adapters: PspAdapter[], relayUrl: string): { by: 'relay' } | { by: 'out_of_band'; notice: string } | null {
  if (!PSP_CAPABILITIES[psp].staticQr || qrCodes.length === 0) return null;
  if (adapters.find((a) => a.name === psp)?.provisionCab) return { by: 'relay' };
  const codes = qrCodes.map((c) => `"${c}"`).join(', ');
  const notice =
    psp === 'hips'
      ? `The relay cannot set up Hips QR codes (${envFor('hips')} are not set): connect ${codes} at Hips yourself, with qr_start_webhook_url ${relayUrl}${HIPS_QR_WEBHOOK_PATH}, allow_tip true and the fleet's timeouts; until then scans of them do not reach this cab.`
      : `The relay cannot set up ${PSP_CAPABILITIES[psp].displayName} QR codes (${envFor(psp)} are not set): create ${codes} at the PSP yourself, with the relay's webhook ${relayUrl}/webhooks/${psp}; until then scans of them do not reach this cab.`;
  return { by: 'out_of_band', notice };
}

export async function buildRelay(config: RelayConfig, options: RelayAppOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const app = await buildRelayApp(config, options);
  try {
    const url = await app.listen();
    return { url, close: () => app.close() };
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}
