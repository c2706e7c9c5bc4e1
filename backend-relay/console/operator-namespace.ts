/**
 * The fleet, live: Socket.IO namespace /operators for logged-in console operators (the session
 * cookie, sent by the browser with the handshake, from the console's own origin). A connecting
 * operator gets `fleet:snapshot`; then `fleet:cab` for each cab that changed and `fleet:removed`.
 * Changes are looked for when a tablet connects, disconnects or reports its status, when an
 * operator changes a cab, and every few seconds while anyone watches (backlog, last seen).
 */
import fastifyCookie from '@fastify/cookie';
import type { Namespace, Server, Socket } from 'socket.io';
import type { RelayStore } from '../store/relay-store.js';
import { SESSION_COOKIE } from './console-guard.js';
import { cabView, type CabView } from './fleet-view.js';
import type { OperatorStore } from './operator-store.js';

export const OPERATOR_NAMESPACE = '/operators';
export const FLEET_EVENTS = { snapshot: 'fleet:snapshot', cab: 'fleet:cab', removed: 'fleet:removed', ended: 'session:ended' } as const;

const SWEEP_MS = 3000;
const SETTLE_MS = 150;

export interface OperatorFeedDeps {
  store: RelayStore;
  operators: OperatorStore;
  isOnline: (cabId: string) => boolean;
  /** The console's origin when the relay has a public URL; else the handshake's Host. */
  publicOrigin: string | null;
  secure: boolean;
  now: () => number;
  onError: (err: unknown) => void;
}

export class OperatorFeed {
  private readonly nsp: Namespace;
  private last = new Map<string, string>();
  private sweep: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private looking: Promise<void> | null = null;
  private again = false;

  constructor(
    io: Server,
    private readonly deps: OperatorFeedDeps,
  ) {
    this.nsp = io.of(OPERATOR_NAMESPACE);
    this.nsp.use((socket, next) => {
      const origin = socket.handshake.headers.origin;
      const expected = deps.publicOrigin ?? `${deps.secure ? 'https' : 'http'}://${socket.handshake.headers.host ?? ''}`;
      if (origin !== expected) return next(Object.assign(new Error('refused: connect from the console page'), { data: { code: 'bad_origin' } }));
      const token = fastifyCookie.parse(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE];
      const session = token ? deps.operators.peekSession(token, deps.now()) : null;
      if (!session || session.operator.mustChangePassword)
        return next(Object.assign(new Error('log in to the console first'), { data: { code: 'not_logged_in' } }));
      socket.data = { token };
      next();
    });
    this.nsp.on('connection', (socket) => void this.welcome(socket).catch(deps.onError));
  }

  private async welcome(socket: Socket): Promise<void> {
    const cabs = await this.views();
    socket.emit(FLEET_EVENTS.snapshot, { cabs });
    this.sweep ??= setInterval(() => this.changed(), SWEEP_MS);
    this.sweep.unref();
    socket.on('disconnect', () => {
      if (this.nsp.sockets.size === 0) {
        clearInterval(this.sweep);
        this.sweep = undefined;
      }
    });
  }

  private async views(): Promise<CabView[]> {
    const cabs = await this.deps.store.listCabs();
    return cabs.map((c) => cabView(c, this.deps.isOnline(c.cabId)));
  }

  /** Something may have changed: look again shortly (a burst of changes is one look). */
  changed(): void {
    if (this.nsp.sockets.size === 0) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.look(), SETTLE_MS);
    this.settle.unref();
  }

  private async look(): Promise<void> {
    if (this.looking) {
      this.again = true;
      return;
    }
    this.looking = (async () => {
      // Sessions that ended (logout, expiry, disabled operator) stop receiving.
      for (const socket of this.nsp.sockets.values()) {
        const token = (socket.data as { token?: string }).token;
        if (!token || !this.deps.operators.peekSession(token, this.deps.now())) {
          socket.emit(FLEET_EVENTS.ended, { message: 'your session has ended; log in again' });
          socket.disconnect(true);
        }
      }
      const views = await this.views();
      const seen = new Map<string, string>();
      for (const view of views) {
        const json = JSON.stringify(view);
        seen.set(view.cabId, json);
        if (this.last.get(view.cabId) !== json) this.nsp.emit(FLEET_EVENTS.cab, view);
      }
      for (const id of this.last.keys()) if (!seen.has(id)) this.nsp.emit(FLEET_EVENTS.removed, { cabId: id });
      this.last = seen;
    })()
      .catch(this.deps.onError)
      .finally(() => {
        this.looking = null;
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
    await this.looking;
  }

  close(): void {
    clearInterval(this.sweep);
    clearTimeout(this.settle);
    this.nsp.disconnectSockets(true);
  }
}
