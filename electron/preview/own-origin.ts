/**
 * Which Host and Origin headers count as the preview host's own. Checking both stops other
 * web pages from driving the kiosk through the bridge, including by DNS rebinding (a foreign
 * name resolving to 127.0.0.1 arrives with a foreign Host header).
 */
import { networkInterfaces } from 'node:os';

const wildcardHosts = new Set(['0.0.0.0', '::', '']);

function hostWithPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The `host:port` values a browser may legitimately send to a server bound at `bindHost:port`. */
export function allowedHostHeaders(bindHost: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '::1']);
  if (wildcardHosts.has(bindHost)) {
    // Bound on every interface (e.g. to open the preview on a tablet on the LAN).
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) names.add(address.address);
    }
  } else {
    names.add(bindHost);
  }
  return new Set([...names].map((name) => hostWithPort(name, port)));
}

export function isAllowedHost(hostHeader: string | undefined, allowed: Set<string>): boolean {
  return hostHeader !== undefined && allowed.has(hostHeader.toLowerCase());
}

/** True when a WebSocket upgrade comes from a page served by this very host. */
export function isOwnOrigin(origin: string | undefined, hostHeader: string | undefined, allowed: Set<string>): boolean {
  if (!origin || !isAllowedHost(hostHeader, allowed)) return false;
  return origin.toLowerCase() === `http://${hostHeader!.toLowerCase()}`;
}
