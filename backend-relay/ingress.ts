/**
 * Webhook ingress, the same for every PSP: verify (adapter) → route from verified content →
 * commit → answer. Nothing is stored before verification, and 2xx only after the commit.
 */
import type { Logger } from 'pino';
import type { Locale } from '../protocol/kiosk-api.js';
import type { PspName } from '../protocol/relay-protocol.js';
import type { DeliveryHub } from './delivery.js';
import { downResponseText } from './down-text.js';
import { newEventId } from './event-id.js';
import type { RelayMetrics } from './metrics.js';
import { cabIdFromMerchantOrderId } from './merchant-order-id.js';
import type { CheckIn, HookRoute, PaymentUpdate, WebhookEndpoint, WebhookRequest } from './psp/psp-adapter.js';
import type { CabRecord, CabRoute, RelayStore } from './store/relay-store.js';

export interface IngressDeps {
  store: RelayStore;
  hub: DeliveryHub;
  metrics: RelayMetrics;
  logger: Logger;
  locale: Locale;
  cabStaleSeconds: number;
  /** Relay-made payments: routing by payment reference, check-ins and payment updates. */
  payments?: PaymentHooks;
}

/** What the ingress needs of the payment service (payments/payment-service.ts). */
export interface PaymentHooks {
  /** The route of the cab whose payment has this PSP reference (or our reference); null when unknown. */
  cabForPayment(pspReference: string): Promise<CabRoute | null>;
  /** Committed before the verdict's event. */
  storeCheckIn(cab: CabRecord, checkIn: CheckIn): Promise<void>;
  /** Applies the update to the payment's row; 'ignored' when it changed nothing (a repeat, or a final row). */
  applyUpdate(cab: CabRecord, update: PaymentUpdate, now: Date): Promise<'applied' | 'ignored'>;
}

export interface HookReply {
  status: number;
  body: unknown;
}

export async function handleWebhook(deps: IngressDeps, psp: PspName, endpoint: WebhookEndpoint, request: WebhookRequest, now = new Date()): Promise<HookReply> {
  const { store, hub, metrics, logger } = deps;
  const count = (outcome: string) => metrics.webhooks.inc({ psp, kind: endpoint.kind, outcome });
  const verdict = await endpoint.verify(request, now);

  if (verdict.verdict === 'unauthenticated') {
    count('unauthenticated');
    logger.warn({ psp, kind: endpoint.kind, reason: verdict.message }, 'webhook refused');
    return { status: 401, body: { error: { code: 'unauthenticated', message: verdict.message } } };
  }
  if (verdict.verdict === 'malformed') {
    count('malformed');
    logger.warn({ psp, kind: endpoint.kind, reason: verdict.message }, 'malformed webhook');
    return { status: 400, body: { error: { code: 'malformed', message: verdict.message } } };
  }

  const cab = await findCab(store, verdict.route, deps.payments);
  const down = verdict.needsLiveCab && (!cab || !(await isLive(deps, cab, now)));
  // A retry of a stored hook is answered the same way whatever the cab does now, and before a
  // check-in is stored again. Where the event is simply appended, the append finds the retry
  // itself (same answer), so the hot path saves this read.
  const appendFindsRetry = cab !== null && !down && verdict.event !== null && !verdict.checkIn;
  if (!appendFindsRetry && (await store.isKnownHook(psp, verdict.dedupeKey))) {
    count('duplicate');
    logger.info({ psp, kind: endpoint.kind, dedupeKey: verdict.dedupeKey }, 'duplicate webhook; already stored, not delivered again');
    return { status: 200, body: { status: 'duplicate' } };
  }
  const type = verdict.event?.type ?? (verdict.paymentUpdate ? `payment.${verdict.paymentUpdate.status}` : 'none');
  const log = { psp, kind: endpoint.kind, type, dedupeKey: verdict.dedupeKey, cabId: cab?.cabId };

  if (down) {
    // The payer is told at once; nothing is stored, so a later retry is judged afresh.
    count('cab_down');
    logger.info({ ...log, known: cab !== null, enabled: cab?.enabled }, 'scan refused: cab unknown, disabled or offline');
    const text = downResponseText(deps.locale);
    return { status: 412, body: endpoint.downResponse?.(text) ?? { error: { code: 'cab_down', message: text } } };
  }

  if (!cab) {
    // Verified but for no registered cab. A 4xx would make the PSP retry for nothing, so it is
    // kept for reconciliation (a real payment may be behind it) and acknowledged.
    const stored = await store.recordUnrouted(
      { psp, kind: endpoint.kind, dedupeKey: verdict.dedupeKey, reason: describeRoute(verdict.route), data: verdict.auditData },
      now.toISOString(),
    );
    count(stored === 'stored' ? 'unrouted' : 'duplicate');
    logger.warn({ ...log, route: verdict.route }, 'verified webhook for no registered cab; kept as unrouted');
    return { status: 200, body: { status: 'unrouted' } };
  }

  // Payment flows work on the cab's whole record; routing needed only its route.
  const record = verdict.checkIn || verdict.paymentUpdate ? await wholeCab(store, cab) : null;
  if (verdict.checkIn) {
    if (!deps.payments) throw new Error('a check-in arrived but the relay has no payment service');
    await deps.payments.storeCheckIn(record!, verdict.checkIn);
  }
  if (!verdict.event) {
    // The payment service decides the tablet's events; a repeat or a late hook changes nothing.
    const applied = verdict.paymentUpdate && deps.payments ? await deps.payments.applyUpdate(record!, verdict.paymentUpdate, now) : 'ignored';
    count(applied === 'applied' ? 'stored' : 'duplicate');
    logger.info(log, applied === 'applied' ? 'payment update applied' : 'payment update changed nothing (repeat or already final)');
    return { status: 200, body: { status: applied === 'applied' ? 'stored' : 'duplicate' } };
  }

  const result = await store.appendEvent(
    {
      id: newEventId(),
      cabId: cab.cabId,
      psp,
      dedupeKey: verdict.dedupeKey,
      type: verdict.event.type,
      occurredAt: now.toISOString(),
      data: verdict.event.data,
    },
    Date.now(),
  );
  if (result.status === 'duplicate') {
    count('duplicate');
    logger.info(log, 'duplicate webhook; already stored, not delivered again');
    return { status: 200, body: { status: 'duplicate' } };
  }
  count('stored');
  logger.info({ ...log, seq: result.event.seq, eventId: result.event.id }, 'event stored');
  hub.notify(cab.cabId, result.event);
  if (verdict.paymentUpdate && deps.payments) await deps.payments.applyUpdate(record!, verdict.paymentUpdate, now);
  return { status: 200, body: { status: 'stored', seq: result.event.seq } };
}

async function findCab(store: RelayStore, route: HookRoute, payments: PaymentHooks | undefined): Promise<CabRoute | null> {
  if (route.by === 'qrCode') return store.findRoute({ qrCode: route.qrCode });
  if (route.by === 'payment') return payments ? payments.cabForPayment(route.pspReference) : null;
  const cabId = cabIdFromMerchantOrderId(route.merchantOrderId);
  return cabId ? store.findRoute({ cabId }) : null;
}

async function wholeCab(store: RelayStore, cab: CabRoute): Promise<CabRecord> {
  const record = await store.getCab(cab.cabId);
  // Deleted between routing and now: a 500, and the PSP's retry finds no cab (kept as unrouted).
  if (!record) throw new Error(`cab ${cab.cabId} was deleted while its webhook was handled`);
  return record;
}

function describeRoute(route: HookRoute): string {
  if (route.by === 'qrCode') return `no cab has QR code "${route.qrCode}"`;
  if (route.by === 'payment') return `no relay-made payment has the PSP reference "${route.pspReference}"`;
  return `merchant_order_id "${route.merchantOrderId}" names no registered cab`;
}

/** A connected cab counts as seen now; otherwise its last sighting must be recent enough. */
async function isLive(deps: IngressDeps, cab: CabRoute, now: Date): Promise<boolean> {
  if (!cab.enabled) return false;
  if (deps.hub.isConnected(cab.cabId)) return true;
  // Read afresh: every sighting changes it, so it is not part of the cached route.
  const lastSeenAt = (await deps.store.getCab(cab.cabId))?.lastSeenAt;
  if (!lastSeenAt) return false;
  return now.getTime() - Date.parse(lastSeenAt) <= deps.cabStaleSeconds * 1000;
}
