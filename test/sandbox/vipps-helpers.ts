/** Fixtures for the Vipps sandbox tests: a sandbox with fast timings, an API client, a signed-hook receiver. */
import http from 'node:http';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import { testSandbox } from './helpers.js';

export { C };

export interface Res {
  status: number;
  body: any;
  headers: Headers;
}

export async function req(base: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export async function accessToken(base: string): Promise<string> {
  const r = await req(base, 'POST', '/accesstoken/get', {
    headers: { client_id: C.clientId, client_secret: C.clientSecret, 'Ocp-Apim-Subscription-Key': C.subscriptionKey, 'Merchant-Serial-Number': C.msn },
  });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token as string;
}

/** A sandbox whose Vipps timings are short, plus an authenticated client. */
export async function vippsSandbox(settings: Record<string, unknown> = {}) {
  const sandbox = await testSandbox();
  const base = sandbox.url;
  await req(base, 'POST', '/sandbox/vipps/settings', {
    body: { webhookAttemptTimeoutMs: 2000, webhookBackoffMs: [50, 100], webhookMaxAttempts: 4, ...settings },
  });
  const token = await accessToken(base);
  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    req(base, method, path, {
      body,
      headers: { authorization: `Bearer ${token}`, 'Ocp-Apim-Subscription-Key': C.subscriptionKey, 'Merchant-Serial-Number': C.msn, ...headers },
    });
  return { sandbox, base, token, api };
}

export interface Hook {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A real HTTP server standing in for the relay: keeps raw bytes and headers for signature checks. */
export async function startHookServer(status: (hook: Hook, index: number) => number = () => 200) {
  const received: Hook[] = [];
  const server = http.createServer((r, res) => {
    let raw = '';
    r.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    r.on('end', () => {
      const hook = { path: r.url ?? '', headers: r.headers, raw, body: JSON.parse(raw) };
      received.push(hook);
      res.writeHead(status(hook, received.length - 1), { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/vipps?cab=1`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
