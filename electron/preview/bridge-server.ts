/**
 * The preview bridge's server side: carries `window.cabpay` from a browser tab to the kiosk
 * core over a WebSocket (protocol/preview-bridge.ts). Every request is validated; a bad one
 * gets an error result, never a crash or a silent drop.
 */
import type { Logger } from 'pino';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import type { KioskCore } from '../core/kiosk-core.js';
import { bridgeRequest, type BridgeMessage } from '../../protocol/preview-bridge.js';
import { fail } from '../../protocol/result.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** Answered when a request is too broken to carry its own id. */
export const UNKNOWN_REQUEST_ID = -1;

const HEARTBEAT_MS = 30_000;

/** Turns one raw client message into the one reply it deserves. */
export async function answerBridgeRequest(core: KioskCore, text: string): Promise<BridgeMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return badRequest(UNKNOWN_REQUEST_ID, 'The message is not JSON. Send {"type":"command","id":1,"command":{...}} or {"type":"getState","id":1}.');
  }
  const parsed = bridgeRequest.safeParse(raw);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    return badRequest(idOf(raw), `Invalid bridge request: ${problems}.`);
  }
  const request = parsed.data;
  if (request.type === 'getState') {
    return { type: 'state', id: request.id, snapshot: core.getState() };
  }
  try {
    return { type: 'result', id: request.id, result: await core.execute(request.command) };
  } catch (err) {
    // The core should answer with a Result; a throw is its bug, reported rather than fatal.
    return {
      type: 'result',
      id: request.id,
      result: fail('internal', `The kiosk core failed on ${request.command.name}: ${(err as Error).message}`),
    };
  }
}

function badRequest(id: number, message: string): BridgeMessage {
  return { type: 'result', id, result: fail('bad_request', message) };
}

function idOf(raw: unknown): number {
  if (typeof raw === 'object' && raw !== null && 'id' in raw) {
    const id = (raw as { id: unknown }).id;
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return id;
  }
  return UNKNOWN_REQUEST_ID;
}

function send(socket: WebSocket, message: BridgeMessage): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function decode(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * Serves bridge clients on `wss`: the current state on connect, every change afterwards, and
 * one reply per request. Returns a function that detaches from the core and stops the heartbeat.
 */
export function serveBridge(core: KioskCore, wss: WebSocketServer, log?: Logger): () => void {
  const alive = new WeakSet<WebSocket>();

  wss.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('error', (err) => log?.warn({ err }, 'bridge socket error'));
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        send(socket, badRequest(UNKNOWN_REQUEST_ID, 'Binary frames are not part of the bridge protocol; send JSON text.'));
        return;
      }
      void answerBridgeRequest(core, decode(data)).then((reply) => send(socket, reply));
    });
    send(socket, { type: 'state', snapshot: core.getState() });
  });

  const unsubscribe = core.onState((snapshot) => {
    const text = JSON.stringify({ type: 'state', snapshot } satisfies BridgeMessage);
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    }
  });

  // Drops clients that vanished without a close frame (sleeping laptop, pulled cable).
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
}
