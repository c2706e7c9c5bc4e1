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
import type { HookRoute, WebhookEndpoint } from './psp/psp-adapter.js';
import type { CabRecord, RelayStore } from './store/relay-store.js';

export interface IngressDeps {
  store: RelayStore;
  hub: DeliveryHub;
  metrics: RelayMetrics;
  logger: Logger;
  locale: Locale;
  cabStaleSeconds: number;
}

export interface HookReply {
  status: number;
  body: unknown;
}

export async function handleWebhook(
  deps: IngressDeps,
  psp: PspName,
  endpoint: WebhookEndpoint,
  body: unknown,
  now = new Date(),
): Promise<HookReply> {
  const { store, hub, metrics, logger } = deps;
  const count = (outcome: string) => metrics.webhooks.inc({ psp, kind: endpoint.kind, outcome });
  const verdict = await endpoint.verify(body, now);

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
  const cab = await findCab(store, verdict.route);
  const log = { psp, kind: endpoint.kind, type: verdict.event.type, dedupeKey: verdict.dedupeKey, cabId: cab?.cabId };

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
  return { status: 200, body: { status: 'stored', seq: result.event.seq } };
}

async function findCab(store: RelayStore, route: HookRoute): Promise<CabRecord | null> {
  if (route.by === 'qrCode') return store.findCabByQrCode(route.qrCode);
  const cabId = cabIdFromMerchantOrderId(route.merchantOrderId);
  return cabId ? store.getCab(cabId) : null;
}

function describeRoute(route: HookRoute): string {
  return route.by === 'qrCode'
    ? `no cab has QR code "${route.qrCode}"`
    : `merchant_order_id "${route.merchantOrderId}" names no registered cab`;
}

/** A connected cab counts as seen now; otherwise its last sighting must be recent enough. */
export function isLive(cab: CabRecord, hub: DeliveryHub, staleSeconds: number, now: Date): boolean {
  if (!cab.enabled) return false;
  if (hub.isConnected(cab.cabId)) return true;
  if (!cab.lastSeenAt) return false;
  return now.getTime() - Date.parse(cab.lastSeenAt) <= staleSeconds * 1000;
}
