/**
 * The tablet's side of the relay socket: namespace /cab over WebSocket,
 * handshake {cabId, token, lastSeq}, events acked only once committed.
 */
import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { ACK_TIMEOUT_MS, CAB_NAMESPACE, SOCKET_EVENTS, type LogStartAck, type RelayEventAck, type TabletStatus } from '../../protocol/relay-protocol.js';
import type { ReceiptPayload, ReceiptPublishAck } from '../../protocol/receipt.js';
import type { Result } from '../../protocol/result.js';
import { nextDelay } from './backoff.js';
import type { RelayTlsOptions } from './relay-link.js';

export type RelayConnectivity = 'connecting' | 'online' | 'offline';

export interface RelayClientOptions {
  relayUrl: string;
  /** The pinned CA or public keys (relay-link.ts); empty: the platform's CAs. */
  tls?: RelayTlsOptions;
  cabId: string;
  deviceToken: string;
  /** Read at every (re)connect, so the relay replays exactly what we have not applied. */
  lastSeq: () => number;
  /** Takes the event; `ack` is called once it is committed (never for a gap: the relay redelivers in order). */
  onEvent: (raw: unknown, ack: (answer: RelayEventAck) => void) => void;
  /** `log.start`: the relay's log continues at firstSeq (what came before was pruned). */
  onLogStart: (raw: unknown) => LogStartAck;
  /** `problem` is 'unauthorized' when the relay refused the device token (re-provision the cab). */
  onConnectivity: (state: RelayConnectivity, detail?: string, problem?: 'unauthorized' | null) => void;
  random: () => number;
  logger: Logger;
}

export class RelayClient {
  private socket: Socket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private refusedCount = 0;
  private closed = false;

  constructor(private readonly options: RelayClientOptions) {}

  start(): void {
    const o = this.options;
    const socket = io(new URL(CAB_NAMESPACE, o.relayUrl).toString(), {
      transports: ['websocket'],
      auth: (cb) => cb({ cabId: o.cabId, token: o.deviceToken, lastSeq: o.lastSeq() }),
      reconnectionDelay: 1_000,
      reconnectionDelayMax: 30_000,
      randomizationFactor: 0.5,
      timeout: 10_000,
      ...o.tls,
    });
    this.socket = socket;

    socket.on('connect', () => {
      this.refusedCount = 0;
      o.logger.info({ relayUrl: o.relayUrl }, 'relay connected');
      o.onConnectivity('online');
    });
    socket.on('disconnect', (reason) => {
      if (this.closed) return;
      o.logger.warn({ reason }, 'relay disconnected');
      // A server-side disconnect (relay restart, token rotated) is not retried by Socket.IO itself.
      if (!socket.active) this.reconnectLater();
      o.onConnectivity('offline', reason);
    });
    socket.on('connect_error', (err) => {
      if (this.closed) return;
      // socket.active is false when the server refused us (bad token): Socket.IO won't retry by itself.
      if (!socket.active) {
        o.logger.error(
          { err: err.message },
          'the relay refused this cab (check cabId and deviceToken in the kiosk config; rotate the token with `npm run fleet`)',
        );
        this.reconnectLater();
      } else {
        const cause = (err as Error & { description?: { message?: string } }).description?.message;
        o.logger.warn({ err: err.message, cause }, 'relay unreachable; retrying');
      }
      const code = (err as Error & { data?: { code?: unknown } }).data?.code;
      o.onConnectivity('offline', err.message, code === 'unauthorized' ? 'unauthorized' : null);
    });

    socket.on(SOCKET_EVENTS.relayEvent, (raw: unknown, ack?: (answer: RelayEventAck) => void) => {
      o.onEvent(raw, typeof ack === 'function' ? ack : () => {});
    });
    socket.on(SOCKET_EVENTS.logStart, (raw: unknown, ack?: (answer: LogStartAck) => void) => {
      const answer = o.onLogStart(raw);
      if (typeof ack === 'function') ack(answer);
    });

    o.onConnectivity('connecting');
  }

  /** Our own backoff for the cases Socket.IO leaves to the app. */
  private reconnectLater(): void {
    if (this.retryTimer || this.closed) return;
    const delay = Math.max(500, nextDelay(this.refusedCount++ + 1, this.options.random));
    this.options.logger.info({ retryInMs: delay }, 'reconnecting to the relay later');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed && this.socket && !this.socket.connected) this.socket.connect();
    }, delay);
    this.retryTimer.unref?.();
  }

  /** Ends this connection (the relay misbehaves) and connects again after a backoff. */
  dropConnection(reason: string): void {
    const socket = this.socket;
    if (!socket?.connected) return;
    this.options.logger.warn({ reason }, 'dropping the relay connection');
    // The disconnect handler sees an inactive socket and schedules the reconnect.
    socket.disconnect();
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Best effort: the relay keeps the last status; a lost one is replaced by the next. */
  sendStatus(status: TabletStatus): void {
    const socket = this.socket;
    if (!socket?.connected) return;
    socket.timeout(ACK_TIMEOUT_MS).emit(SOCKET_EVENTS.tabletStatus, status, (err: Error | null, answer?: unknown) => {
      if (err) this.options.logger.debug({ err: err.message }, 'tablet:status not acked');
      else if (answer && typeof answer === 'object' && (answer as { ok?: unknown }).ok === false)
        this.options.logger.warn({ answer }, 'relay rejected tablet:status');
    });
  }

  /** `receipt.publish`, acked by the relay with `{ok, value: {url}}`; a timeout is a transient error. */
  publishReceipt(payload: ReceiptPayload): Promise<ReceiptPublishAck> {
    return this.request(SOCKET_EVENTS.receiptPublish, payload) as Promise<ReceiptPublishAck>;
  }

  /**
   * One tablet → relay message with an ack (`{ok, value} | {ok: false, error}`). Never throws:
   * not connected is `offline`, no ack in time `timeout`, an ack without a result `bad_answer`
   * (all three worth another try). The caller validates `value`.
   */
  async request(event: string, payload: unknown): Promise<Result<unknown>> {
    const socket = this.socket;
    if (!socket?.connected) return { ok: false, error: { code: 'offline', message: 'not connected to the relay' } };
    try {
      const answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as unknown;
      if (answer && typeof answer === 'object' && 'ok' in answer) return answer as Result<unknown>;
      return { ok: false, error: { code: 'bad_answer', message: `the relay answered ${event} without a result` } };
    } catch (err) {
      return { ok: false, error: { code: 'timeout', message: (err as Error).message } };
    }
  }

  stop(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
  }
}
