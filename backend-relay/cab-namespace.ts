/**
 * The /cab namespace (DESIGN.md §4.4): device-token handshake, one room per cab, delivery
 * start, and the tablet's own messages.
 */
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import { SOCKET_EVENTS, handshakeAuth, tabletStatus } from '../protocol/relay-protocol.js';
import type { Result } from '../protocol/result.js';
import type { DeliveryHub } from './delivery.js';
import type { PaymentService } from './payments/payment-service.js';
import type { RefundService } from './payments/refund-service.js';
import type { RelayReceipts } from './receipts/index.js';
import { tokenMatchesHash } from './secrets.js';
import type { RelayStore } from './store/relay-store.js';

export const cabRoom = (cabId: string) => `cab:${cabId}`;

interface CabSocketData {
  cabId: string;
  lastSeq: number;
  /** The token hash the handshake matched; a rotation in between invalidates the socket. */
  tokenHash: string;
}

/** A connect error the client sees as `err.message` and `err.data`. */
function connectError(code: string, message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}

export function wireCabNamespace(
  nsp: Namespace,
  deps: {
    store: RelayStore;
    hub: DeliveryHub;
    logger: Logger;
    receipts?: () => RelayReceipts | null;
    payments?: Pick<PaymentService, 'request'>;
    refunds?: Pick<RefundService, 'request'>;
    /** order.created: an order the tablet made, for reconciliation (reconcile/order-reports.ts). */
    orderReports?: { report(cabId: string, payload: unknown): Promise<Result<unknown>> };
  },
): void {
  const { store, hub, logger } = deps;

  nsp.use((socket, next) => {
    const auth = handshakeAuth.safeParse(socket.handshake.auth);
    if (!auth.success) {
      next(connectError('invalid_handshake', 'handshake auth must be {cabId, token, lastSeq}; check the kiosk config'));
      return;
    }
    store
      .getCab(auth.data.cabId)
      .then((cab) => {
        // Same answer for an unknown cab and a wrong token: do not reveal which cabs exist.
        if (!cab || !tokenMatchesHash(auth.data.token, cab.tokenHash)) {
          logger.warn({ cabId: auth.data.cabId }, 'tablet refused: unknown cab or wrong device token');
          next(connectError('unauthorized', 'unknown cab or wrong device token; re-provision the tablet with `npm run fleet -- rotate-token`'));
          return;
        }
        (socket.data as CabSocketData) = { cabId: cab.cabId, lastSeq: auth.data.lastSeq, tokenHash: cab.tokenHash };
        next();
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'handshake check failed');
        next(connectError('unavailable', 'the relay cannot check the token right now; retry'));
      });
  });

  nsp.on('connection', (socket: Socket) => {
    // Listen before any await: a tablet sends tablet:status as soon as it is connected.
    registerTabletMessages(socket, (socket.data as CabSocketData).cabId);
    void onConnection(socket).catch((err: unknown) => {
      logger.error({ err }, 'tablet connection setup failed');
      socket.disconnect(true);
    });
  });

  async function onConnection(socket: Socket): Promise<void> {
    const { cabId, lastSeq, tokenHash } = socket.data as CabSocketData;
    const now = Date.now();
    // What the tablet says it has applied counts as acked. Queued together, so both ride one
    // group commit (one fsync) instead of two in a row: a reconnect storm is thousands of these.
    await Promise.all([store.markAckedThrough(cabId, lastSeq, now), store.markSeen(cabId, new Date(now).toISOString())]);
    await socket.join(cabRoom(cabId));
    // Read after joining: a token rotation or delete from now on finds this socket in the
    // room; one committed since the handshake's check (while the writes above waited for
    // their commit) is seen here.
    const cab = await store.getCab(cabId);
    if (!cab || cab.tokenHash !== tokenHash) {
      socket.disconnect(true);
      return;
    }
    if (lastSeq > cab.lastSeq) {
      logger.error(
        { cabId, tabletLastSeq: lastSeq, relayLastSeq: cab.lastSeq },
        'the tablet has seen more events than the relay holds (was the relay database replaced?); delivering from the relay’s end',
      );
    }
    if (!socket.connected) return; // gone while we were setting up
    socket.on('disconnect', (reason) => {
      logger.info({ cabId, reason }, 'tablet disconnected');
      if (!hub.isConnected(cabId)) void store.markSeen(cabId, new Date().toISOString()).catch(() => {});
    });
    hub.start(socket, cabId, Math.min(lastSeq, cab.lastSeq));
    logger.info({ cabId, lastSeq }, 'tablet connected');
  }

  function registerTabletMessages(socket: Socket, cabId: string): void {
    socket.on(SOCKET_EVENTS.tabletStatus, (payload: unknown, ack?: unknown) => {
      const parsed = tabletStatus.safeParse(payload);
      if (!parsed.success) {
        reply(ack, invalid('tablet:status', parsed.error));
        return;
      }
      store
        .markSeen(cabId, new Date().toISOString(), parsed.data)
        .then(() => reply(ack, { ok: true, value: null }))
        .catch((err: unknown) => {
          logger.error({ err, cabId }, 'could not store tablet status');
          reply(ack, { ok: false, error: { code: 'unavailable', message: 'status not stored; send it again' } });
        });
    });
    socket.on(SOCKET_EVENTS.receiptPublish, (payload: unknown, ack?: unknown) => {
      const receipts = deps.receipts?.() ?? null;
      if (!receipts) {
        reply(ack, { ok: false, error: { code: 'unavailable', message: 'receipts are not set up on this relay yet; send it again later' } });
        return;
      }
      try {
        reply(ack, receipts.publish(cabId, payload));
      } catch (err) {
        logger.error({ err, cabId }, 'could not store a receipt');
        reply(ack, { ok: false, error: { code: 'unavailable', message: 'receipt not stored; send it again' } });
      }
    });
    // Relay-made payments, refunds and order reports: every message gets an ack; a failure is `unavailable`.
    const services: [string, ((cabId: string, payload: unknown) => Promise<Result<unknown>>) | undefined][] = [
      [SOCKET_EVENTS.paymentRequest, deps.payments && ((id, p) => deps.payments!.request(id, p))],
      [SOCKET_EVENTS.refundRequest, deps.refunds && ((id, p) => deps.refunds!.request(id, p))],
      [SOCKET_EVENTS.orderCreated, deps.orderReports && ((id, p) => deps.orderReports!.report(id, p))],
    ];
    for (const [name, handle] of services) {
      socket.on(name, (payload: unknown, ack?: unknown) => {
        if (!handle) {
          reply(ack, { ok: false, error: { code: 'unsupported', message: `${name} is not supported by this relay` } });
          return;
        }
        handle(cabId, payload)
          .then((result) => reply(ack, result))
          .catch((err: unknown) => {
            logger.error({ err, cabId, message: name }, 'tablet request failed');
            reply(ack, { ok: false, error: { code: 'unavailable', message: `${name} could not be handled now; send it again` } });
          });
      });
    }
  }
}

function invalid(name: string, error: z.ZodError): Result<never> {
  const detail = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, error: { code: 'invalid', message: `${name} rejected: ${detail}` } };
}

/** Tablets may omit the ack callback; then there is no one to answer. */
function reply(ack: unknown, result: Result<unknown>): void {
  if (typeof ack === 'function') (ack as (r: Result<unknown>) => void)(result);
}
