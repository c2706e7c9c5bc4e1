/**
 * `window.cabpay` for the browser preview: the same API the Electron preload exposes, carried
 * over the preview host's WebSocket (protocol/preview-bridge.ts) to the kiosk core under Node.
 * Dependency-free on purpose: it ships in the renderer bundle.
 */
import type { CabpayApi, KioskCommand, KioskSnapshot } from '../../../protocol/kiosk-api.js';
import type { BridgeMessage, BridgeRequest } from '../../../protocol/preview-bridge.js';
import type { Result } from '../../../protocol/result.js';
import { commandMethods } from '../../../protocol/kiosk-commands.js';

/** The part of the browser WebSocket the bridge uses (also met by the `ws` package in tests). */
export interface BridgeSocket {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface PreviewBridgeOptions {
  url: string;
  openSocket?: (url: string) => BridgeSocket;
  /** First reconnect delay; doubles per failure up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface PreviewBridge {
  api: CabpayApi;
  /** Stops reconnecting and closes the socket. */
  close(): void;
}

const OPEN = 1;

const offline = (message: string): Result<null> => ({ ok: false, error: { code: 'bridge_offline', message } });

export function createPreviewBridge(opts: PreviewBridgeOptions): PreviewBridge {
  const openSocket = opts.openSocket ?? ((url: string) => new WebSocket(url) as unknown as BridgeSocket);
  const minDelay = opts.minDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 5_000;

  let socket: BridgeSocket | null = null;
  let closed = false;
  let failures = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let nextId = 1;
  let latest: KioskSnapshot | null = null;
  const pending = new Map<number, (result: Result<null>) => void>();
  const stateWaiters: ((snapshot: KioskSnapshot) => void)[] = [];
  const listeners = new Set<(snapshot: KioskSnapshot) => void>();

  function connect(): void {
    const ws = openSocket(opts.url);
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      // Anyone already waiting for a state gets the one the host pushes on connect.
    };
    ws.onmessage = (event) => receive(event.data);
    ws.onerror = () => {
      /* onclose follows and handles it */
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      // The core may or may not have run these; the UI sees the outcome in the next state.
      for (const [id, resolve] of pending) {
        pending.delete(id);
        resolve(offline('The connection to the kiosk dropped before it answered. Check the screen before trying again.'));
      }
      if (!closed) scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    const delay = Math.min(maxDelay, minDelay * 2 ** failures) * (0.75 + Math.random() * 0.5);
    failures++;
    reconnectTimer = setTimeout(connect, delay);
  }

  function receive(data: unknown): void {
    let message: BridgeMessage;
    try {
      message = JSON.parse(String(data)) as BridgeMessage;
    } catch {
      return; // Not ours to interpret; the host only sends JSON.
    }
    if (message.type === 'result') {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result);
    } else if (message.type === 'state' && message.snapshot) {
      latest = message.snapshot;
      for (const waiter of stateWaiters.splice(0)) waiter(message.snapshot);
      for (const listener of listeners) {
        try {
          listener(message.snapshot);
        } catch (err) {
          console.error('cabpay: a state listener threw', err);
        }
      }
    }
  }

  function send(request: BridgeRequest): boolean {
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(request));
    return true;
  }

  function command(cmd: KioskCommand): Promise<Result<null>> {
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      if (!send({ type: 'command', id, command: cmd })) {
        pending.delete(id);
        resolve(offline('The kiosk is not connected right now; it reconnects by itself. Try again in a moment.'));
      }
    });
  }

  const api = {
    ...commandMethods(command),
    getState: () =>
      new Promise<KioskSnapshot>((resolve) => {
        // Resolved by the next state: the reply to this request, or the push on (re)connect.
        stateWaiters.push(resolve);
        send({ type: 'getState', id: nextId++ });
      }),
    onState: (listener) => {
      listeners.add(listener);
      const replay = latest;
      if (replay) {
        queueMicrotask(() => {
          if (listeners.has(listener) && latest === replay) listener(replay);
        });
      }
      return () => {
        listeners.delete(listener);
      };
    },
  } satisfies CabpayApi;

  connect();
  return {
    api,
    close() {
      closed = true;
      clearTimeout(reconnectTimer);
      socket?.close();
    },
  };
}

/** The browser globals this file touches, typed here so the node-side typecheck (tests) accepts it too. */
type PageGlobals = { cabpay?: CabpayApi; location?: { protocol: string; host: string } };

/** Defines `window.cabpay` over the preview host's bridge, unless Electron's preload already did. */
export function installPreviewBridge(): void {
  const page = globalThis as unknown as PageGlobals;
  if (!page.location || page.cabpay) return;
  const scheme = page.location.protocol === 'https:' ? 'wss:' : 'ws:';
  // '/bridge' is PREVIEW_BRIDGE_PATH, spelled out so that zod stays out of this bundle.
  const { api } = createPreviewBridge({ url: `${scheme}//${page.location.host}/bridge` });
  Object.defineProperty(globalThis, 'cabpay', { value: api, writable: false, configurable: false, enumerable: true });
}
