/**
 * The /cab namespace: device-token handshake, one room per cab, delivery
 * start, and the tablet's own messages.
 */
import type { Logger } from 'pino';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { CAB_NAMESPACE, SOCKET_EVENTS, handshakeAuth, tabletStatus } from '../protocol/relay-protocol.js';
import type { Result } from '../protocol/result.js';
import type { CabQuotas } from './cab-quotas.js';
import type { DeliveryHub } from './delivery.js';
import type { PaymentService } from './payments/payment-service.js';
import type { RefundService } from './payments/refund-service.js';
import type { CountLimit, FailureLimit } from './rate-limits.js';
import type { RelayReceipts } from './receipts/index.js';
import { tokenMatchesHash } from './secrets.js';
import type { RelayStore } from './store/relay-store.js';
import { zodIssuesText } from '../protocol/zod-issues.js';

export const cabRoom = (cabId: string) => `cab:${cabId}`;

interface CabSocketData {
  cabId: string;
  lastSeq: number;
  /** The token hash the handshake matched; a rotation in between invalidates the socket. */
  tokenHash: string;
}

/**
 * Socket.IO always has the default namespace `/`; nothing of the relay lives there, so every
 * connection to it is refused, counted as a failed handshake, and its transport closed once the
 * refusal is written (an open engine connection held by nobody costs memory until its timeout).
 */
export function closeDefaultNamespace(io: Server, handshakeFailures: FailureLimit | null): void {
  io.of('/').use((socket, next) => {
    void handshakeFailures?.failed(socket.handshake.address);
    next(connectError('namespace_closed', `nothing is served on the default namespace; tablets connect to ${CAB_NAMESPACE}`));
    // After Socket.IO's own next tick, where the refusal is written; close() waits for it to drain.
    setImmediate(() => socket.conn.close());
  });
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
    /** Failed handshakes per address; past the limit, refused unchecked. */
    handshakeFailures?: FailureLimit;
    /** Messages per cab, all kinds; past the limit, refused unprocessed. */
    messages?: CountLimit;
    /** A cab went past one of its limits (metrics, alert). */
    onLimited?(cabId: string, kind: string): void;
    /** Per-cab quotas by kind of message (receipts, payment requests). */
    quotas?: Pick<CabQuotas, 'take'>;
    /** order.created: an order the tablet made, for reconciliation (reconcile/order-reports.ts). */
    orderReports?: { report(cabId: string, payload: unknown): Promise<Result<unknown>> };
  },
): void {
  const { store, hub, logger } = deps;

  nsp.use((socket, next) => {
    void handshake(socket).then(next, (err: unknown) => {
      logger.error({ err }, 'handshake check failed');
      next(connectError('unavailable', 'the relay cannot check the token right now; retry'));
    });
  });

  /** Undefined lets the socket in; an error refuses it. Failures count against the address. */
  async function handshake(socket: Socket): Promise<Error | undefined> {
    const address = socket.handshake.address;
    const wait = deps.handshakeFailures ? await deps.handshakeFailures.retryAfterS(address) : 0;
    if (wait > 0) return connectError('rate_limited', `too many failed handshakes from this address; retry in ${wait} s`);
    const auth = handshakeAuth.safeParse(socket.handshake.auth);
    if (!auth.success) {
      await deps.handshakeFailures?.failed(address);
      return connectError('invalid_handshake', 'handshake auth must be {cabId, token, lastSeq}; check the kiosk config');
    }
    const cab = await store.getCab(auth.data.cabId);
    // Same answer for an unknown cab and a wrong token: do not reveal which cabs exist.
    if (!cab || !tokenMatchesHash(auth.data.token, cab.tokenHash)) {
      await deps.handshakeFailures?.failed(address);
      logger.warn({ cabId: auth.data.cabId }, 'tablet refused: unknown cab or wrong device token');
      return connectError('unauthorized', 'unknown cab or wrong device token; re-provision the tablet with `npm run fleet -- rotate-token`');
    }
    (socket.data as CabSocketData) = { cabId: cab.cabId, lastSeq: auth.data.lastSeq, tokenHash: cab.tokenHash };
    return undefined;
  }

  nsp.on('connection', (socket: Socket) => {
    const { cabId } = socket.data as CabSocketData;
    // Listen before any await: a tablet sends tablet:status as soon as it is connected.
    registerTabletMessages(socket, cabId);
    // Live from the authenticated handshake, before its writes commit: a scan sent the moment
    // the tablet sees `connect` finds the cab online, and a token rotation finds the socket.
    hub.attach(socket, cabId);
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
    if (!hub.start(socket, cabId, Math.min(lastSeq, cab.lastSeq))) return; // replaced meanwhile
    logger.info({ cabId, lastSeq }, 'tablet connected');
  }

  function registerTabletMessages(socket: Socket, cabId: string): void {
    /** Runs `handle` unless the cab is past its quota for this kind of message (then it is refused). */
    const withinQuota = async (name: string, ack: unknown, handle: () => unknown): Promise<void> => {
      let refused;
      try {
        refused = deps.quotas ? await deps.quotas.take(cabId, name) : null;
      } catch (err) {
        logger.error({ err, cabId, message: name }, 'quota check failed');
        refused = { ok: false as const, error: { code: 'unavailable', message: `${name} could not be handled now; send it again` } };
      }
      if (refused) reply(ack, refused);
      else await handle();
    };
    // A flood is refused before any handler runs; every message of a cab counts, whatever its kind.
    const messages = deps.messages;
    if (messages) {
      socket.use((packet, next) => {
        void messages.take(cabId).then(
          (wait) => {
            if (wait === 0) return next();
            deps.onLimited?.(cabId, 'messages');
            reply(packet.at(-1), { ok: false, error: { code: 'rate_limited', message: `too many messages from this cab; send it again in ${wait} s` } });
          },
          (err: unknown) => {
            // Not next(err): an error there is emitted on the socket, where nobody listens.
            logger.error({ err, cabId }, 'message limit check failed');
            reply(packet.at(-1), { ok: false, error: { code: 'unavailable', message: 'the relay could not take this message now; send it again' } });
          },
        );
      });
    }
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
      void withinQuota(SOCKET_EVENTS.receiptPublish, ack, () => {
        try {
          reply(ack, receipts.publish(cabId, payload));
        } catch (err) {
          logger.error({ err, cabId }, 'could not store a receipt');
          reply(ack, { ok: false, error: { code: 'unavailable', message: 'receipt not stored; send it again' } });
        }
      });
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
        void withinQuota(name, ack, () =>
          handle(cabId, payload)
            .then((result) => reply(ack, result))
            .catch((err: unknown) => {
              logger.error({ err, cabId, message: name }, 'tablet request failed');
              reply(ack, { ok: false, error: { code: 'unavailable', message: `${name} could not be handled now; send it again` } });
            }),
        );
      });
    }
  }
}

function invalid(name: string, error: z.ZodError): Result<never> {
  const detail = zodIssuesText(error, { limit: 5 });
  return { ok: false, error: { code: 'invalid', message: `${name} rejected: ${detail}` } };
}

/** Tablets may omit the ack callback; then there is no one to answer. */
function reply(ack: unknown, result: Result<unknown>): void {
  if (typeof ack === 'function') (ack as (r: Result<unknown>) => void)(result);
}
