/** The fleet, live: the relay's /operators namespace, authenticated by the session cookie. */
import { io, type Socket } from 'socket.io-client';
import { api, type Cab } from './api';
import { useConsole } from './store';

let socket: Socket | null = null;
let retry: ReturnType<typeof setTimeout> | undefined;
const RETRY_MS = 3000;

function retrySoon(): void {
  clearTimeout(retry);
  retry = setTimeout(() => {
    api('GET', '/session').then(
      () => socket?.connect(),
      () => {},
    );
  }, RETRY_MS);
}

export function startLive(): void {
  if (socket) return;
  const store = useConsole.getState();
  store.setLive('connecting');
  socket = io('/operators', { path: '/socket.io', withCredentials: true, transports: ['websocket'] });
  socket.on('connect', () => useConsole.getState().setLive('live'));
  // Socket.IO retries a dropped transport by itself, but not a refused handshake or a server's
  // disconnect: those are retried here, after asking whether the session still holds (a 401
  // there sends the operator to the login page).
  socket.on('disconnect', (reason) => {
    useConsole.getState().setLive('offline');
    if (reason === 'io server disconnect') retrySoon();
  });
  socket.on('connect_error', () => {
    useConsole.getState().setLive('offline');
    if (!socket?.active) retrySoon();
  });
  socket.on('fleet:snapshot', (payload: { cabs: Cab[] }) => useConsole.getState().setCabs(payload.cabs));
  socket.on('fleet:cab', (cab: Cab) => useConsole.getState().putCab(cab));
  socket.on('fleet:removed', (payload: { cabId: string }) => useConsole.getState().removeCab(payload.cabId));
  socket.on('session:ended', (payload: { message: string }) => {
    stopLive();
    useConsole.getState().setSession(null, payload.message);
  });
}

export function stopLive(): void {
  clearTimeout(retry);
  socket?.close();
  socket = null;
}
