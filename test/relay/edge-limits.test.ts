/**
 * What one client may do at the relay's edge, against a listening relay: the default Socket.IO
 * namespace is closed, failures (wrong admin tokens, receipt guesses, failed handshakes) are
 * limited per address, a cab's message flood is refused unprocessed, and /metrics needs a token.
 * Another loopback address (127.0.0.2) stands in for another client.
 */
import http from 'node:http';
import { io as ioClient } from 'socket.io-client';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { newReceiptToken } from '../../electron/core/receipts.js';
import {
  ADMIN_TOKEN,
  METRICS_TOKEN,
  addCab,
  connectError,
  connectTablet,
  fetchMetrics,
  makeSigner,
  startInProcess,
  tempDir,
  waitForConnect,
} from './helpers.js';

/** A GET from a chosen loopback address. */
function get(url: string, headers: Record<string, string> = {}, localAddress = '127.0.0.1') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.get(url, { headers, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

function receipt(cabId: string, n: number) {
  const rideId = `ride-${n}`;
  return {
    rideId,
    merchantOrderId: `${cabId}.${rideId}`,
    token: newReceiptToken(),
    driverId: null,
    startedAt: '2026-11-21T17:05:00.000Z',
    endedAt: '2026-11-21T17:31:00.000Z',
    paidAt: '2026-11-21T17:32:00.000Z',
    currency: 'SEK',
    lines: [{ id: 'fare', kind: 'fare', label: 'Taxiresa', amount: 10_000, vatRate: 6 }],
    orderAmount: 10_000,
    tipAmount: 0,
    totalAmount: 10_000,
    method: 'other',
    psp: null,
    pspReference: null,
    locale: 'sv',
  };
}

describe('limits at the edge', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function relay(over: Parameters<typeof startInProcess>[2] = {}) {
    const dir = tempDir();
    const started = await startInProcess(dir, await makeSigner(dir), over);
    cleanups.push(() => started.app.close());
    return started;
  }

  it('refuses a connection to the default namespace at once and closes its transport', async () => {
    const { url } = await relay();
    // A bare Engine.IO client, as an attacker would hold the connection open.
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    cleanups.push(() => ws.close());
    const frames: string[] = [];
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data) => {
      const frame = data.toString();
      frames.push(frame);
      if (frame.startsWith('0')) ws.send('40'); // opened: CONNECT to "/"
      if (frame === '2') ws.send('3'); // answer pings, so only the relay can end it
    });
    await closed;
    const refusal = frames.find((f) => f.startsWith('44'));
    expect(refusal, frames.join(' | ')).toBeDefined();
    expect(JSON.parse(refusal!.slice(2))).toMatchObject({ data: { code: 'namespace_closed' } });
    expect(frames.some((f) => f.startsWith('40'))).toBe(false);
  });

  it('answers 429 to an address after 10 wrong admin tokens, even with the right one; others go on', async () => {
    const { url } = await relay();
    for (let i = 1; i <= 10; i++) expect((await get(`${url}/admin/cabs`, { authorization: `Bearer wrong-${i}` })).status, `try ${i}`).toBe(401);
    const refused = await get(`${url}/admin/cabs`, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate_limited' } });
    // The release routes share the guard and its count.
    expect((await get(`${url}/admin/releases`, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(429);
    expect((await get(`${url}/admin/cabs`, { authorization: `Bearer ${ADMIN_TOKEN}` }, '127.0.0.2')).status).toBe(200);
  });

  it('answers 429 to an address after 30 receipt links not found, even for a real one; others go on', async () => {
    const { url } = await relay();
    const tablet = connectTablet(url, 'cab-rc', await addCab(url, 'cab-rc'));
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);
    const real = receipt('cab-rc', 1);
    expect(await tablet.socket.timeout(5_000).emitWithAck('receipt.publish', real)).toMatchObject({ ok: true });

    for (let i = 1; i <= 30; i++) expect((await get(`${url}/receipts/${newReceiptToken()}`)).status, `guess ${i}`).toBe(404);
    const refused = await get(`${url}/receipts/${real.token}`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(`${url}/receipts/${real.token}`, {}, '127.0.0.2')).status).toBe(200);
  });

  it('refuses handshakes from an address after 30 failures without checking the token', async () => {
    const { url } = await relay();
    const token = await addCab(url, 'cab-hs');
    for (let i = 1; i <= 30; i++) {
      const wrong = connectTablet(url, 'cab-hs', `wrong-device-token-${i}`);
      const err = await connectError(wrong);
      wrong.close();
      expect((err.data as { code: string }).code, `try ${i}`).toBe('unauthorized');
    }
    const right = connectTablet(url, 'cab-hs', token);
    cleanups.push(() => right.close());
    const err = await connectError(right);
    expect(err.data).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) });
  });

  it('counts attempts on the default namespace as failed handshakes', async () => {
    const { url } = await relay({ limits: { handshakeFailures: { points: 3, durationS: 60 } } });
    const token = await addCab(url, 'cab-ns');
    for (let i = 0; i < 3; i++) {
      const socket = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      await new Promise((resolve) => socket.once('connect_error', resolve));
      socket.close();
    }
    const tablet = connectTablet(url, 'cab-ns', token);
    cleanups.push(() => tablet.close());
    expect((await connectError(tablet)).data).toMatchObject({ code: 'rate_limited' });
  });

  it("refuses a cab's messages past its limit, unprocessed, counts them per cab and logs one alert", async () => {
    const { app, url } = await relay({ limits: { cabMessages: { points: 20, durationS: 60 } } });
    const lines: { msg: string; cabId?: string; kind?: string; level: number }[] = [];
    const log = app.logger as unknown as { error: (obj: unknown, msg?: string) => void };
    const error = log.error.bind(log);
    log.error = (obj: unknown, msg?: string) => {
      lines.push({ ...(obj as object), msg: msg ?? '', level: 50 });
      error(obj, msg);
    };
    const tablet = connectTablet(url, 'cab-fl', await addCab(url, 'cab-fl'));
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);
    const answers = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) => tablet.socket.timeout(5_000).emitWithAck('receipt.publish', receipt('cab-fl', i)) as Promise<{ ok: boolean; error?: { code: string } }>,
      ),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(20);
    expect(answers.slice(20).map((a) => a.error?.code)).toEqual(Array(10).fill('rate_limited'));
    const stored = (await import('better-sqlite3')).default;
    const db = new stored(app.config.dbPath, { readonly: true });
    expect((db.prepare(`SELECT COUNT(*) AS n FROM receipts WHERE cab_id = 'cab-fl'`).get() as { n: number }).n).toBe(20);
    db.close();
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toContain('relay_cab_quota_exceeded_total{cab="cab-fl",kind="messages"} 10');
    expect(lines.filter((l) => l.cabId === 'cab-fl' && l.kind === 'messages')).toHaveLength(1);
  });

  it('serves /metrics only with its bearer token, and not at all without RELAY_METRICS_TOKEN', async () => {
    const { url } = await relay();
    expect((await get(`${url}/metrics`)).status).toBe(401);
    expect((await get(`${url}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(401);
    const ok = await get(`${url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('relay_connected_cabs');

    const off = await relay({ metricsToken: undefined });
    const res = await get(`${off.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'metrics_off', message: expect.stringContaining('RELAY_METRICS_TOKEN') } });
  });
});
