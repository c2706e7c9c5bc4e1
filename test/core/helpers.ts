/** Test peers for the kiosk core: a tiny Socket.IO relay and a tiny PSP, both on loopback. */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Server, type Socket } from 'socket.io';
import { v7 as uuidv7 } from 'uuid';
import { kioskConfigSchema, type KioskConfig } from '../../electron/core/config.js';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { RelayEvent, RelayEventAck, RelayEventType, RelayEventData, TabletStatus } from '../../protocol/relay-protocol.js';

export const TOKEN = 'test-device-token-0123456789';
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function tempDir(prefix = 'cabpay-core-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(overrides: Partial<KioskConfig> & { relayUrl: string; pspUrl: string }): KioskConfig {
  return kioskConfigSchema.parse({
    cabId: 'CAB-7',
    deviceToken: TOKEN,
    locale: 'en',
    currency: 'SEK',
    plate: 'ABC 123',
    qrContent: 'hips://qr/CAB-7',
    dataDir: tempDir(),
    ...overrides,
  });
}

/** Resolves when `predicate` holds for a snapshot pushed by the core (or the current one). */
export function waitForState(
  core: { getState(): KioskSnapshot; onState(l: (s: KioskSnapshot) => void): () => void },
  predicate: (s: KioskSnapshot) => boolean,
  timeoutMs = 15_000,
  what = 'the expected kiosk state',
): Promise<KioskSnapshot> {
  return new Promise((resolve, reject) => {
    if (predicate(core.getState())) return resolve(core.getState());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}; last snapshot: ${JSON.stringify(core.getState())}`));
    }, timeoutMs);
    const off = core.onState((s) => {
      if (predicate(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    });
  });
}

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 15_000, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- a minimal relay: per-cab seq, replay of seq > lastSeq on connect, acks recorded ------

export interface AckRecord {
  seq: number;
  id: string;
  answer: RelayEventAck;
}

/** A tablet → relay request with an ack (payment.request, refund.request), as the test relay saw it. */
export interface TabletRequest {
  event: string;
  payload: Record<string, unknown>;
}

export class TestRelay {
  readonly events: RelayEvent[] = [];
  readonly acks: AckRecord[] = [];
  readonly statuses: TabletStatus[] = [];
  readonly handshakes: unknown[] = [];
  readonly requests: TabletRequest[] = [];
  /** How the relay acks payment.request, refund.request and order.created; null: no ack at all. */
  answer: (request: TabletRequest) => unknown = (r) =>
    r.event === 'payment.request'
      ? { ok: true, value: { pspReference: `ref-${String(r.payload.rideId)}-${String(r.payload.attempt)}` } }
      : r.event === 'order.created'
        ? { ok: true, value: { tracked: true } }
        : { ok: true, value: { refundedAmount: r.payload.amount } };
  private http: HttpServer | null = null;
  private io: Server | null = null;
  url = '';

  async start(port = 0): Promise<this> {
    this.http = createServer();
    this.io = new Server(this.http, { transports: ['websocket'] });
    const cab = this.io.of('/cab');
    cab.use((socket, next) => {
      this.handshakes.push(socket.handshake.auth);
      if (socket.handshake.auth?.token !== TOKEN) return next(new Error('unauthorized: unknown cab or token'));
      next();
    });
    cab.on('connection', (socket) => {
      socket.on('tablet:status', (status: TabletStatus, ack?: (r: unknown) => void) => {
        this.statuses.push(status);
        ack?.({ ok: true, value: null });
      });
      for (const event of ['payment.request', 'refund.request', 'order.created'])
        socket.on(event, (payload: Record<string, unknown>, ack?: (r: unknown) => void) => {
          const request = { event, payload };
          this.requests.push(request);
          const answer = this.answer(request);
          if (answer !== null) ack?.(answer);
        });
      const lastSeq = Number(socket.handshake.auth?.lastSeq ?? 0);
      for (const event of this.events.filter((e) => e.seq > lastSeq)) this.deliver(socket, event);
    });
    await new Promise<void>((resolve) => this.http!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Sends a raw payload (for invalid-event tests) and resolves with the ack, or null on no ack. */
  sendRaw(payload: unknown, timeoutMs = 500, event = 'relay:event'): Promise<unknown> {
    const sockets = [...this.io!.of('/cab').sockets.values()];
    const socket = sockets[0];
    if (!socket) throw new Error('no tablet connected');
    return new Promise((resolve) => {
      socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, answer: unknown) => resolve(err ? null : answer));
    });
  }

  /** Appends an event with the next seq and delivers it to connected tablets. */
  push<T extends RelayEventType>(type: T, data: RelayEventData<T>, occurredAt = new Date().toISOString()): RelayEvent {
    const event = { seq: this.events.length + 1, id: uuidv7(), type, occurredAt, data } as RelayEvent;
    this.events.push(event);
    for (const socket of this.io?.of('/cab').sockets.values() ?? []) this.deliver(socket, event);
    return event;
  }

  /** Delivers an existing event again (a duplicate or a replay). */
  redeliver(event: RelayEvent): Promise<unknown> {
    return this.sendRaw(event, 2_000);
  }

  private deliver(socket: Socket, event: RelayEvent): void {
    socket.timeout(5_000).emit('relay:event', event, (err: Error | null, answer: RelayEventAck) => {
      if (!err) this.acks.push({ seq: event.seq, id: event.id, answer });
    });
  }

  connectedCount(): number {
    return this.io?.of('/cab').sockets.size ?? 0;
  }

  async stop(): Promise<void> {
    const io = this.io;
    this.io = null;
    if (!io) return;
    io.of('/cab').disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    this.http = null;
  }
}

// ---- a minimal PSP: records create-order calls and answers from a script -----------------

export interface PspCall {
  headers: IncomingMessage['headers'];
  body: unknown;
  path: string;
  /** When the call arrived (ms since epoch). */
  at: number;
}

export type PspAnswer = { status: number; body?: unknown } | 'hang';

export class TestPsp {
  readonly calls: PspCall[] = [];
  /** Answers for the next calls, in order; after that every call gets `fallback`. */
  script: PspAnswer[] = [];
  fallback: PspAnswer = { status: 201 };
  private server: HttpServer | null = null;
  private hanging: ServerResponse[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = text ? JSON.parse(text) : null;
        this.calls.push({ headers: req.headers, body, path: req.url ?? '', at: Date.now() });
        const answer = this.script.shift() ?? this.fallback;
        if (answer === 'hang') {
          this.hanging.push(res);
          return;
        }
        const payload =
          answer.body ??
          (answer.status < 300
            ? {
                id: `psp-${this.calls.length}`,
                order_id: (body as { order_id: string }).order_id,
                status: 'pending',
                purchase_currency: 'SEK',
                order_amount: 0,
              }
            : { error: { type: 'test_error', message: `test answer ${answer.status}` } });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

export function sessionData(sessionId: string, expiresInMs = 600_000, now = Date.now()): RelayEventData<'qr.session.started'> {
  return {
    psp: 'hips',
    sessionId,
    qrCode: 'CAB-7-QR',
    allowTip: true,
    oneTimeOrderApiKey: `otk-${sessionId}`,
    orderTimeoutSeconds: Math.round(expiresInMs / 1000),
    paymentTimeoutSeconds: 300,
    expiresAt: new Date(now + expiresInMs).toISOString(),
  };
}
