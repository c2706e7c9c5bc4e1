/**
 * Webhook ingress, the same for every PSP: verify (adapter) → route from verified content →
 * commit → answer. Nothing is stored before verification, and 2xx only after the commit.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { Locale } from '../protocol/kiosk-api.js';
import type { PspName } from '../protocol/relay-protocol.js';
import type { DeliveryHub } from './delivery.js';
import { downResponseText } from './down-text.js';
import type { RelayMetrics } from './metrics.js';
import { cabIdFromMerchantOrderId } from './merchant-order-id.js';
import type { CheckIn, HookRoute, PaymentUpdate, WebhookEndpoint, WebhookRequest } from './psp/psp-adapter.js';
import type { CabRecord, RelayStore } from './store/relay-store.js';

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
  /** The cab whose payment has this PSP reference (or our reference); null when unknown. */
  cabForPayment(pspReference: string): Promise<CabRecord | null>;
  /** Committed before the verdict's event. */
  storeCheckIn(cab: CabRecord, checkIn: CheckIn): Promise<void>;
  /** Applies the update to the payment's row; 'ignored' when it changed nothing (a repeat, or a final row). */
  applyUpdate(cab: CabRecord, update: PaymentUpdate, now: Date): Promise<'applied' | 'ignored'>;
}

export interface HookReply {
  status: number;
  body: unknown;
}

export async function handleWebhook(
  deps: IngressDeps,
  psp: PspName,
  endpoint: WebhookEndpoint,
  request: WebhookRequest,
  now = new Date(),
): Promise<HookReply> {
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

  if (await store.isKnownHook(psp, verdict.dedupeKey)) {
    // Checked first: a retry of a stored hook is answered the same way whatever the cab does now.
    count('duplicate');
    logger.info({ psp, kind: endpoint.kind, dedupeKey: verdict.dedupeKey }, 'duplicate webhook; already stored, not delivered again');
    return { status: 200, body: { status: 'duplicate' } };
  }
  const cab = await findCab(store, verdict.route, deps.payments);
  const type = verdict.event?.type ?? (verdict.paymentUpdate ? `payment.${verdict.paymentUpdate.status}` : 'none');
  const log = { psp, kind: endpoint.kind, type, dedupeKey: verdict.dedupeKey, cabId: cab?.cabId };

  if (verdict.needsLiveCab && (!cab || !isLive(cab, hub, deps.cabStaleSeconds, now))) {
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

  if (verdict.checkIn) {
    if (!deps.payments) throw new Error('a check-in arrived but the relay has no payment service');
    await deps.payments.storeCheckIn(cab, verdict.checkIn);
  }
  if (!verdict.event) {
    // The payment service decides the tablet's events; a repeat or a late hook changes nothing.
    const applied = verdict.paymentUpdate && deps.payments ? await deps.payments.applyUpdate(cab, verdict.paymentUpdate, now) : 'ignored';
    count(applied === 'applied' ? 'stored' : 'duplicate');
    logger.info(log, applied === 'applied' ? 'payment update applied' : 'payment update changed nothing (repeat or already final)');
    return { status: 200, body: { status: applied === 'applied' ? 'stored' : 'duplicate' } };
  }

  const result = await store.appendEvent(
    {
      id: uuidv7(),
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
  if (verdict.paymentUpdate && deps.payments) await deps.payments.applyUpdate(cab, verdict.paymentUpdate, now);
  return { status: 200, body: { status: 'stored', seq: result.event.seq } };
}

async function findCab(store: RelayStore, route: HookRoute, payments: PaymentHooks | undefined): Promise<CabRecord | null> {
  if (route.by === 'qrCode') return store.findCabByQrCode(route.qrCode);
  if (route.by === 'payment') return payments ? payments.cabForPayment(route.pspReference) : null;
  const cabId = cabIdFromMerchantOrderId(route.merchantOrderId);
  return cabId ? store.getCab(cabId) : null;
}

function describeRoute(route: HookRoute): string {
  if (route.by === 'qrCode') return `no cab has QR code "${route.qrCode}"`;
  if (route.by === 'payment') return `no relay-made payment has the PSP reference "${route.pspReference}"`;
  return `merchant_order_id "${route.merchantOrderId}" names no registered cab`;
}

/** A connected cab counts as seen now; otherwise its last sighting must be recent enough. */
export function isLive(cab: CabRecord, hub: DeliveryHub, staleSeconds: number, now: Date): boolean {
  if (!cab.enabled) return false;
  if (hub.isConnected(cab.cabId)) return true;
  if (!cab.lastSeenAt) return false;
  return now.getTime() - Date.parse(cab.lastSeenAt) <= staleSeconds * 1000;
}
