/** Hash routes: #/ (fleet), #/cabs/<id>, #/cabs/<id>/qr, #/audit. */
import { useSyncExternalStore } from 'react';

export type Route = { page: 'fleet' } | { page: 'cab'; cabId: string } | { page: 'qr'; cabId: string } | { page: 'audit' } | { page: 'unknown'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/') return { page: 'fleet' };
  if (path === '/audit') return { page: 'audit' };
  const cab = /^\/cabs\/([A-Za-z0-9-]{1,40})(\/qr)?$/.exec(path);
  if (cab) return cab[2] ? { page: 'qr', cabId: cab[1]! } : { page: 'cab', cabId: cab[1]! };
  return { page: 'unknown', path };
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}

export const href = {
  fleet: () => '#/',
  cab: (cabId: string) => `#/cabs/${encodeURIComponent(cabId)}`,
  qr: (cabId: string) => `#/cabs/${encodeURIComponent(cabId)}/qr`,
  audit: () => '#/audit',
};
