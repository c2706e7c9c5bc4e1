/** Shared fixtures for the sandbox tests: temp DBs, a local webhook receiver, common calls. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildSandbox, type Sandbox, type SandboxOptions } from '../../backend-relay/sandbox/app.js';

export function tempDbPath(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cabpay-sandbox-')), 'sandbox.db');
}

/** A sandbox with fast webhook retries and a 1 s timeout floor, for tests. */
export function testSandbox(opts: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  return buildSandbox({
    dbPath: tempDbPath(),
    timeoutFloorSeconds: 1,
    ...opts,
    webhook: { attemptTimeoutMs: 2000, backoffMs: [50, 100], ...opts.webhook },
  });
}

export interface ReceivedHook {
  path: string;
  body: Record<string, any>;
  at: number;
}
export type Responder = (hook: ReceivedHook, index: number) => { status: number; body?: unknown; delayMs?: number };

/** A real HTTP server standing in for the relay: records every hook and answers as told. */
export async function startReceiver(responder: Responder = () => ({ status: 200 })) {
  const received: ReceivedHook[] = [];
  let respond = responder;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const hook: ReceivedHook = { path: req.url ?? '', body: JSON.parse(text) as Record<string, any>, at: Date.now() };
      received.push(hook);
      const answer = respond(hook, received.length - 1);
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body ?? { ok: answer.status < 300 }));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setResponder: (next: Responder) => (respond = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export async function call(
  base: string,
  method: string,
  route: string,
  opts: { body?: unknown; auth?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + route, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (HTML, PEM): keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Creates a QR and connects it to the receiver's `/qr` path. */
export async function connectedQr(
  sb: Sandbox,
  receiver: Receiver,
  settings: Record<string, unknown> = {},
): Promise<{ code_token: string; qr_code: string; qr_data: string }> {
  const created = await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: {} });
  if (created.status !== 201) throw new Error(`create QR: ${created.status} ${JSON.stringify(created.body)}`);
  const patched = await call(sb.url, 'PATCH', `/v2/qrs/${created.body.code_token}`, {
    auth: sb.merchantKey,
    body: {
      qr_start_webhook_url: `${receiver.url}/qr`,
      allow_tip: true,
      order_timeout_seconds: 600,
      payment_timeout_seconds: 600,
      ...settings,
    },
  });
  if (patched.status !== 200) throw new Error(`connect QR: ${patched.status} ${JSON.stringify(patched.body)}`);
  return patched.body;
}

export async function scan(sb: Sandbox, qrData: string): Promise<{ session_id: string; state: string; down_response_text?: string }> {
  const res = await call(sb.url, 'POST', '/sandbox/scan', { body: { qr_data: qrData } });
  if (res.status !== 200) throw new Error(`scan: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function orderBody(sessionId: string, receiver: Receiver, overrides: Record<string, unknown> = {}) {
  return {
    order_id: `CAB-7.${sessionId.slice(-8)}`,
    purchase_currency: 'SEK',
    cart: {
      items: [
        { name: 'Taxi fare', quantity: 1, unit_price: 24_000, vat_amount: 1_358, type: 'service' },
        { name: 'Luggage', quantity: 2, unit_price: 1_000, vat_amount: 113, type: 'fee' },
      ],
    },
    fulfill: true,
    qr_session_id: sessionId,
    hooks: { webhook_url: `${receiver.url}/orders` },
    ...overrides,
  };
}

/** The one-time key the sandbox sent in the start hook of `sessionId`. */
export function oneTimeKey(receiver: Receiver, sessionId: string): string {
  const hook = receiver.received.find((h) => h.body.request_type === 'start_qr_session' && h.body.session_id === sessionId);
  if (!hook) throw new Error(`no start hook for ${sessionId}`);
  return hook.body.one_time_order_api_key as string;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
