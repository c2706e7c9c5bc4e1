import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startPreviewHost, type PreviewHost } from '../../electron/preview/host.js';
import type { BridgeMessage } from '../../protocol/preview-bridge.js';
import { MemoryCore } from './helpers/memory-core.js';

let dir: string;
let staticDir: string;
let core: MemoryCore;
let host: PreviewHost;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-preview-'));
  staticDir = path.join(dir, 'dist');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>cabpay</title>');
  writeFileSync(path.join(staticDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(staticDir, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the root');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(staticDir, 'link.txt'));
  core = new MemoryCore();
  host = await startPreviewHost({ core, port: 0, staticDir });
});

afterEach(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET, so that paths like /../x reach the server unnormalized. */
function get(rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(host.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: rawPath, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(origin = host.url): Promise<{ ws: WebSocket; messages: BridgeMessage[]; next: () => Promise<BridgeMessage> }> {
  const ws = new WebSocket(`${host.url.replace('http', 'ws')}/bridge`, { origin });
  const messages: BridgeMessage[] = [];
  const waiters: ((m: BridgeMessage) => void)[] = [];
  let read = 0;
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as BridgeMessage);
    waiters.shift()?.(messages[messages.length - 1]!);
  });
  const next = (): Promise<BridgeMessage> => {
    const already = messages[read];
    if (already) {
      read++;
      return Promise.resolve(already);
    }
    return new Promise((resolve) =>
      waiters.push((m) => {
        read++;
        resolve(m);
      }),
    );
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

describe('preview host: static files', () => {
  it('serves index.html with no-cache, a CSP and security headers', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>cabpay</title>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves assets with their content types and long caching', async () => {
    const js = await get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    const css = await get('/assets/index-abc123.css?v=1');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for unknown files and directories', async () => {
    expect((await get('/nope.js')).status).toBe(404);
    expect((await get('/assets')).status).toBe(404);
  });

  it('refuses path traversal in every spelling', async () => {
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/%00', '/%E0%A4%A']) {
      const res = await get(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.body, p).not.toContain('outside the root');
    }
  });

  it('does not follow a symlink out of the root', async () => {
    const res = await get('/link.txt');
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside the root');
  });

  it('refuses foreign Host headers (DNS rebinding) and non-GET methods', async () => {
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(421);
    const res = await fetch(`${host.url}/`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
  });
});

describe('preview host: bridge', () => {
  it('pushes the state on connect and after each change', async () => {
    const { ws, next } = await connect();
    const first = await next();
    expect(first).toMatchObject({ type: 'state', snapshot: { cab: { cabId: 'cab-7' }, locale: 'sv' } });
    core.publish({ outboxDepth: 3 });
    expect(await next()).toMatchObject({ type: 'state', snapshot: { outboxDepth: 3 } });
    ws.close();
  });

  it('runs commands through the core and answers with their Result', async () => {
    const { ws, next } = await connect();
    await next();
    ws.send(JSON.stringify({ type: 'command', id: 7, command: { name: 'setLocale', locale: 'nb' } }));
    const replies = [await next(), await next()];
    expect(replies).toContainEqual({ type: 'result', id: 7, result: { ok: true, value: null } });
    expect(replies.find((m) => m.type === 'state')).toMatchObject({ snapshot: { locale: 'nb' } });
    expect(core.executed).toEqual([{ name: 'setLocale', locale: 'nb' }]);

    ws.send(JSON.stringify({ type: 'command', id: 8, command: { name: 'cancelRide' } }));
    expect(await next()).toEqual({ type: 'result', id: 8, result: { ok: false, error: { code: 'no_ride', message: 'There is no ride to cancel.' } } });
    ws.close();
  });

  it('answers getState with the snapshot under the request id', async () => {
    const { ws, next } = await connect();
    await next();
    ws.send(JSON.stringify({ type: 'getState', id: 3 }));
    expect(await next()).toMatchObject({ type: 'state', id: 3, snapshot: { cab: { plate: 'ABC123' } } });
    ws.close();
  });

  it('answers bad messages with bad_request errors and keeps serving', async () => {
    const { ws, next } = await connect();
    await next();
    ws.send('not json');
    expect(await next()).toMatchObject({ type: 'result', id: -1, result: { ok: false, error: { code: 'bad_request' } } });
    ws.send(JSON.stringify({ type: 'command', id: 4, command: { name: 'setFare', amountMinor: -5 } }));
    const badFare = await next();
    expect(badFare).toMatchObject({ type: 'result', id: 4, result: { ok: false, error: { code: 'bad_request' } } });
    ws.send(JSON.stringify({ type: 'command', id: 5, command: { name: 'rm -rf' } }));
    expect(await next()).toMatchObject({ id: 5, result: { ok: false, error: { code: 'bad_request' } } });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await next()).toMatchObject({ id: -1, result: { ok: false } });
    ws.send(JSON.stringify({ type: 'command', id: 6, command: { name: 'removeExtra', lineId: 'explode' } }));
    expect(await next()).toMatchObject({ id: 6, result: { ok: false, error: { code: 'internal' } } });
    expect(core.executed.map((c) => c.name)).toEqual(['removeExtra']);
    ws.send(JSON.stringify({ type: 'getState', id: 9 }));
    expect(await next()).toMatchObject({ type: 'state', id: 9 });
    ws.close();
  });

  it('refuses upgrades from a foreign Origin or without one, and on other paths', async () => {
    await expect(connect('http://evil.example')).rejects.toThrow('403');
    await expect(connect(host.url.replace('127.0.0.1', 'localhost.evil.example'))).rejects.toThrow('403');
    const noOrigin = new WebSocket(`${host.url.replace('http', 'ws')}/bridge`);
    const status = await new Promise<number>((resolve) => noOrigin.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    const otherPath = new WebSocket(`${host.url.replace('http', 'ws')}/other`, { origin: host.url });
    const otherStatus = await new Promise<number>((resolve) => otherPath.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(otherStatus).toBe(404);
    expect(core.executed).toEqual([]);
  });

  it('detaches from the core and disconnects clients on close', async () => {
    const { ws } = await connect();
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    expect(core.listenerCount()).toBe(1);
    await host.close();
    await closed;
    expect(core.listenerCount()).toBe(0);
    await host.close(); // idempotent
  });
});
