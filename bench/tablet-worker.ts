/**
 * A worker process holding many simulated tablets. Each behaves like the kiosk's relay client
 * (electron/core/relay-client.ts): WebSocket only, handshake {cabId, token, lastSeq}, the same
 * reconnection settings, tablet:status on connect, events applied in seq order, deduped by
 * id, and acked `{ok:true, value:{applied}}` only after they are applied.
 * Driven by the bench runner over IPC (bench/ipc.ts).
 */
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { nextDelay } from '../electron/core/backoff.js';
import { ACK_TIMEOUT_MS, CAB_NAMESPACE, SOCKET_EVENTS, type RelayEventAck } from '../protocol/relay-protocol.js';
import { toWorker, type CabCredential, type FromWorker, type Receipt, type WorkerCounters } from './ipc.js';

/** Only what the bench needs to read; the relay's payload schemas are tested elsewhere. */
const envelope = z.object({
  seq: z.number().int().positive(),
  id: z.string().min(1),
  type: z.string(),
  data: z.looseObject({ sessionId: z.string().optional(), merchantOrderId: z.string().optional() }),
});

const now = () => performance.timeOrigin + performance.now();

interface Tablet {
  cabId: string;
  socket: Socket;
  lastSeq: number;
  seen: Set<string>;
}

const tablets: Tablet[] = [];
let receipts: Receipt[] = [];
let dropEvents = false;
let closing = false;
let expected = new Map<string, number>();
const counters: WorkerCounters = { connected: 0, redeliveries: 0, gaps: 0, dropped: 0, connectErrors: 0, synced: 0 };

function send(message: FromWorker): void {
  process.send?.(message);
}

function countSynced(): number {
  let n = 0;
  for (const t of tablets) {
    const target = expected.get(t.cabId);
    if (target !== undefined && t.lastSeq >= target) n++;
  }
  return n;
}

function snapshot(): WorkerCounters {
  return { ...counters, connected: tablets.filter((t) => t.socket.connected).length, synced: countSynced() };
}

function onEvent(t: Tablet, raw: unknown): RelayEventAck | null {
  if (dropEvents) {
    counters.dropped++;
    return null; // lost in a tunnel: no ack, the relay must deliver it again later
  }
  const parsed = envelope.safeParse(raw);
  if (!parsed.success) return { ok: false, error: { code: 'invalid', message: 'event does not match the envelope' } };
  const e = parsed.data;
  if (t.seen.has(e.id)) {
    counters.redeliveries++;
    return { ok: true, value: { applied: false } };
  }
  if (e.seq !== t.lastSeq + 1) {
    counters.gaps++;
    return null; // the kiosk leaves a gap unacked so the relay redelivers in order
  }
  t.lastSeq = e.seq;
  t.seen.add(e.id);
  receipts.push({ key: e.data.sessionId ?? e.data.merchantOrderId ?? e.id, cabId: t.cabId, id: e.id, seq: e.seq, at: now() });
  return { ok: true, value: { applied: true } };
}

function openTablet(url: string, cab: CabCredential): Promise<void> {
  const t: Tablet = { cabId: cab.cabId, lastSeq: 0, seen: new Set(), socket: undefined as unknown as Socket };
  t.socket = io(new URL(CAB_NAMESPACE, url).toString(), {
    transports: ['websocket'],
    forceNew: true,
    auth: (cb) => cb({ cabId: cab.cabId, token: cab.token, lastSeq: t.lastSeq }),
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 30_000,
    randomizationFactor: 0.5,
    timeout: 10_000,
  });
  tablets.push(t);
  t.socket.on(SOCKET_EVENTS.relayEvent, (raw: unknown, ack?: (a: RelayEventAck) => void) => {
    const answer = onEvent(t, raw);
    if (answer && typeof ack === 'function') ack(answer);
  });
  // As the kiosk's RelayClient: Socket.IO does not retry a refused handshake or a
  // server-side disconnect by itself, so the tablet does, with its own backoff.
  let refused = 0;
  let retry: NodeJS.Timeout | null = null;
  const reconnectLater = () => {
    if (retry || closing) return;
    retry = setTimeout(
      () => {
        retry = null;
        if (!closing && !t.socket.connected) t.socket.connect();
      },
      Math.max(500, nextDelay(refused++ + 1, Math.random)),
    );
  };
  t.socket.on('connect', () => {
    refused = 0;
    t.socket.timeout(ACK_TIMEOUT_MS).emit(SOCKET_EVENTS.tabletStatus, { appVersion: 'bench', rideState: 'idle', outboxDepth: 0 }, () => {});
  });
  t.socket.on('disconnect', () => {
    if (!t.socket.active) reconnectLater();
  });
  t.socket.on('connect_error', () => {
    if (!t.socket.active) reconnectLater();
  });
  return new Promise((resolve) => {
    const settle = () => {
      t.socket.off('connect', settle);
      t.socket.off('connect_error', failed);
      resolve();
    };
    const failed = () => {
      counters.connectErrors++;
      // Keep retrying (socket.io does while active); the first attempt's outcome is what we wait for.
      settle();
    };
    t.socket.on('connect', settle);
    t.socket.on('connect_error', failed);
  });
}

async function connectAll(url: string, cabs: CabCredential[], concurrency: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < cabs.length) {
      const cab = cabs[next++]!;
      await openTablet(url, cab);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cabs.length) }, lane));
}

process.on('message', (raw: unknown) => {
  const parsed = toWorker.safeParse(raw);
  if (!parsed.success) {
    send({ type: 'fatal', message: `bad message from the runner: ${parsed.error.message}` });
    return;
  }
  const m = parsed.data;
  switch (m.type) {
    case 'connect':
      void connectAll(m.url, m.cabs, m.concurrency).then(() => send({ type: 'connected', counters: snapshot() }));
      break;
    case 'dropEvents':
      dropEvents = m.on;
      break;
    case 'expectSeqs':
      expected = new Map(Object.entries(m.seqs));
      break;
    case 'report': {
      const batch = receipts;
      receipts = [];
      send({ type: 'report', receipts: batch, counters: snapshot() });
      break;
    }
    case 'close':
      closing = true;
      for (const t of tablets) t.socket.disconnect();
      process.disconnect?.();
      setTimeout(() => process.exit(0), 50).unref();
      break;
  }
});

process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
