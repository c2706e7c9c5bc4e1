/** Shared fixtures for relay tests: signing keys, signed hooks, relays, tablets. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportPKCS8, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { io as ioClient, type Socket } from 'socket.io-client';
import { v7 as uuidv7 } from 'uuid';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import type { RelayConfig } from '../../backend-relay/config.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { HipsOrderHookData, HipsQrHookData } from '../../protocol/hips.js';
import { CAB_NAMESPACE, type LogStart, type RelayEvent } from '../../protocol/relay-protocol.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const METRICS_TOKEN = 'test-metrics-token-0123456789';
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface Signer {
  privateKey: CryptoKey;
  publicPem: string;
  pemFile: string;
}

export function tempDir(prefix = 'cabpay-relay-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function makeSigner(dir = tempDir()): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicPem = await exportSPKI(publicKey);
  const pemFile = path.join(dir, 'hips-public.pem');
  writeFileSync(pemFile, publicPem);
  return { privateKey, publicPem, pemFile };
}

export interface SignOptions {
  issuer?: string;
  expiresInS?: number;
  issuedAtS?: number;
}

export async function signHook(signer: Signer, data: unknown, opts: SignOptions = {}): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  const iat = opts.issuedAtS ?? nowS;
  return new SignJWT({ data: data as Record<string, unknown> })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(opts.issuer ?? 'hips.com')
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.expiresInS ?? 300))
    .sign(signer.privateKey);
}

/**
 * Signs the claims exactly as written (RS256, node:crypto): for claims jose will not build, such
 * as `exp: 1e308` or data nested 10,000 deep (its structuredClone overflows).
 */
export async function signRawClaims(signer: Signer, claimsJson: string): Promise<string> {
  const key = await exportPKCS8(signer.privateKey);
  const part = (text: string) => Buffer.from(text).toString('base64url');
  const input = `${part(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${part(claimsJson)}`;
  return `${input}.${createSign('sha256').update(input).sign(key).toString('base64url')}`;
}

export async function hookBody(signer: Signer, data: object, opts?: SignOptions) {
  return { ...data, jwt: await signHook(signer, data, opts) };
}

export function qrHook(qrCode: string, over: Partial<HipsQrHookData> = {}): HipsQrHookData {
  return {
    request_type: 'start_qr_session',
    session_id: `sess-${uuidv7()}`,
    one_time_order_api_key: `otk-${uuidv7()}`,
    idempotency_key: uuidv7(),
    qr_id: 'qr-id-1',
    sales_channel_id: 'sc-1',
    qr_code: qrCode,
    allow_tip: true,
    execute_at: new Date().toISOString(),
    order_timeout_seconds: 600,
    payment_timeout_seconds: 300,
    ...over,
  };
}

export function orderHook(
  merchantOrderId: string,
  over: Partial<HipsOrderHookData['resource']> = {},
  event: HipsOrderHookData['event'] = 'payment.successful',
  idempotencyKey: string | undefined = uuidv7(),
): HipsOrderHookData {
  return {
    event,
    ...(idempotencyKey ? { idempotency_key: idempotencyKey } : {}),
    resource: {
      id: `pay-${uuidv7()}`,
      type: 'payment',
      order_id: `ord-${uuidv7()}`,
      merchant_order_id: merchantOrderId,
      status: event === 'payment.successful' ? 'successful' : 'failed',
      currency: 'SEK',
      amount: 33000,
      tip_amount: 3000,
      order_amount: 30000,
      order_status: 'paid',
      ...over,
    },
  };
}

export function relayConfig(dir: string, signer: Signer, over: Partial<RelayConfig> = {}): RelayConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    dbPath: path.join(dir, 'relay.db'),
    adminToken: ADMIN_TOKEN,
    metricsToken: METRICS_TOKEN,
    hipsPublicKeyPem: signer.publicPem,
    cabStaleSeconds: 90,
    locale: 'sv',
    ackTimeoutMs: 500,
    logLevel: 'silent',
    ...over,
  };
}

export async function startInProcess(dir: string, signer: Signer, over: Partial<RelayConfig> = {}) {
  const app: RelayApp = await buildRelayApp(relayConfig(dir, signer, over), { logger: createLogger('silent') });
  const url = await app.listen();
  return { app, url };
}

export async function admin(url: string, method: string, route: string, body?: unknown, token = ADMIN_TOKEN) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

/** GET /metrics with the scraper's token. */
export function fetchMetrics(url: string): Promise<Response> {
  return fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
}

export async function addCab(url: string, cabId: string, qrCodes: string[] = [`qr-${cabId}`]) {
  const res = await admin(url, 'PUT', `/admin/cabs/${cabId}`, { qrCodes, plate: 'ABC123', label: `Cab ${cabId}` });
  if (res.status !== 201) throw new Error(`addCab ${cabId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.deviceToken as string;
}

export async function postJson(url: string, route: string, body: unknown) {
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

/** A tablet that applies events strictly in seq order, by id, and records what it saw. */
export interface TestTablet {
  socket: Socket;
  received: RelayEvent[];
  applied: RelayEvent[];
  lastSeq: number;
  /** Every `log.start` the relay sent (the tablet moved its lastSeq up to firstSeq - 1). */
  logStarts: LogStart[];
  /** Return false to drop this ack (simulates a lost ack). */
  shouldAck: (e: RelayEvent) => boolean;
  close(): void;
}

export function connectTablet(url: string, cabId: string, token: string, lastSeq = 0): TestTablet {
  const tablet: TestTablet = {
    socket: ioClient(`${url}${CAB_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { cabId, token, lastSeq },
      reconnection: false,
      forceNew: true,
    }),
    received: [],
    applied: [],
    lastSeq,
    logStarts: [],
    shouldAck: () => true,
    close() {
      tablet.socket.close();
    },
  };
  const seenIds = new Set<string>();
  tablet.socket.on('log.start', (start: LogStart, ack: (r: unknown) => void) => {
    tablet.logStarts.push(start);
    tablet.lastSeq = Math.max(tablet.lastSeq, start.firstSeq - 1);
    ack({ ok: true, value: { lastSeq: tablet.lastSeq } });
  });
  tablet.socket.on('relay:event', (event: RelayEvent, ack: (r: unknown) => void) => {
    tablet.received.push(event);
    if (event.seq > tablet.lastSeq + 1) {
      ack({ ok: false, error: { code: 'gap', message: `expected ${tablet.lastSeq + 1}` } });
      return;
    }
    if (!seenIds.has(event.id) && event.seq === tablet.lastSeq + 1) {
      seenIds.add(event.id);
      tablet.applied.push(event);
      tablet.lastSeq = event.seq;
    }
    if (tablet.shouldAck(event)) ack({ ok: true, value: { applied: true } });
  });
  return tablet;
}

export function waitForConnect(tablet: TestTablet): Promise<void> {
  return new Promise((resolve, reject) => {
    if (tablet.socket.connected) return resolve();
    tablet.socket.once('connect', () => resolve());
    tablet.socket.once('connect_error', (err) => reject(err));
  });
}

export function connectError(tablet: TestTablet): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    tablet.socket.once('connect', () => reject(new Error('connected, but a refusal was expected')));
    tablet.socket.once('connect_error', (err) => resolve(err));
  });
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns the real entry point (`node --import tsx backend-relay/main.ts`) and waits for "listening". */
export async function spawnRelay(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'backend-relay/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, RELAY_PORT: '0', RELAY_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${out}`)), 20_000);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === 'listening' && rec.url) {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            resolve(rec.url);
            return;
          }
        } catch {
          /* partial line */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${out}`));
    });
  });
  return { child, url, output: () => out };
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

/** Counts what the relay has stored, read straight from its SQLite file. */
export async function storedCounts(dbPath: string): Promise<{ events: number; unrouted: number }> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const events = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const unrouted = (db.prepare('SELECT COUNT(*) AS n FROM unrouted_hooks').get() as { n: number }).n;
    return { events, unrouted };
  } finally {
    db.close();
  }
}

/**
 * A ride of `cabId` paid through Hips as the relay learns it: a signed `payment.successful`
 * webhook, so the relay records the payment (and the cab gets order.paid). Amounts in minor units.
 */
export async function hipsPaid(
  url: string,
  signer: Signer,
  cabId: string,
  rideId: string,
  paid: { pspOrderId: string; orderAmount: number; tipAmount: number; currency: string },
): Promise<void> {
  const hook = orderHook(`${cabId}.${rideId}`, {
    order_id: paid.pspOrderId,
    currency: paid.currency,
    order_amount: paid.orderAmount,
    tip_amount: paid.tipAmount,
    amount: paid.orderAmount + paid.tipAmount,
  });
  const res = await postJson(url, '/webhooks/hips/orders', await hookBody(signer, hook));
  if (res.status !== 200) throw new Error(`Hips order hook for ${cabId}.${rideId}: ${res.status} ${JSON.stringify(res.body)}`);
}
