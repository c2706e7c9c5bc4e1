/** Fixtures for the HitPay sandbox tests: a sandbox with fast retries, form calls, a raw webhook receiver. */
import http from 'node:http';
import { HITPAY_DEMO_API_KEY } from '../../backend-relay/sandbox/hitpay/index.js';
import { testSandbox } from './helpers.js';

export const KEY = HITPAY_DEMO_API_KEY;

export function hitpaySandbox() {
  return testSandbox({ webhook: { attemptTimeoutMs: 2000, backoffMs: [50, 100], maxAttempts: 4 } });
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** A HitPay API call: form-encoded unless `json` is set; the demo key unless `key` is given. */
export async function hp(
  base: string,
  method: string,
  route: string,
  opts: { form?: [string, string][]; json?: unknown; key?: string | null } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest' };
  if (opts.key !== null) headers['x-business-api-key'] = opts.key ?? KEY;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  return reply(await fetch(base + route, { method, headers, body }));
}

/** A JSON call to the unauthenticated sandbox controls. */
export async function ctl(base: string, method: string, route: string, json?: unknown): Promise<Reply> {
  return reply(
    await fetch(base + route, {
      method,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    }),
  );
}

/** The usual kiosk request: PayNow QR for SGD 12.50 with a webhook. */
export function paynowForm(webhook: string | null, extra: [string, string][] = []): [string, string][] {
  return [
    ['amount', '12.50'],
    ['currency', 'SGD'],
    ['payment_methods[]', 'paynow_online'],
    ['generate_qr', 'true'],
    ['reference_number', 'cab7-ride42-1'],
    ...(webhook ? ([['webhook', webhook]] as [string, string][]) : []),
    ...extra,
  ];
}

export interface RawHook {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
}

/** A real HTTP server standing in for the relay: keeps every request's exact bytes and headers. */
export async function rawReceiver(statusFor: (index: number) => number = () => 200) {
  const received: RawHook[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      const status = statusFor(received.length - 1);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 300 }));
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/hitpay`,
    received,
    /** Resolves once n requests arrived (fails the test by timeout otherwise). */
    waitFor: (n: number) => new Promise<void>((resolve) => (received.length >= n ? resolve() : waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls the ledger until `check` passes (webhook state settles after the HTTP reply). */
export async function ledgerWhen(base: string, check: (ledger: any) => boolean, timeoutMs = 5000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await ctl(base, 'GET', '/sandbox/hitpay/ledger');
    if (check(body) || Date.now() > until) return body;
    await new Promise((r) => setTimeout(r, 25));
  }
}
