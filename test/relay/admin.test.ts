/** Admin API auth and fleet registry semantics; /healthz and /metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayApp } from '../../backend-relay/app.js';
import { addCab, admin, connectTablet, fetchMetrics, makeSigner, sleep, startInProcess, tempDir, waitForConnect } from './helpers.js';

describe('admin API', () => {
  let app: RelayApp;
  let url: string;
  beforeAll(async () => {
    const dir = tempDir();
    // Every route is tried with every wrong header here; the limit on wrong tokens has its own test.
    ({ app, url } = await startInProcess(dir, await makeSigner(dir), { limits: { adminAuthFailures: { points: 100, durationS: 900 } } }));
  });
  afterAll(() => app.close());

  it('answers 401 without the right bearer token, on every admin route', async () => {
    const routes: [string, string][] = [
      ['GET', '/admin/cabs'],
      ['PUT', '/admin/cabs/cab-1'],
      ['POST', '/admin/cabs/cab-1/rotate-token'],
      ['DELETE', '/admin/cabs/cab-1'],
    ];
    for (const [method, route] of routes) {
      for (const header of [undefined, 'Bearer wrong-token-wrong-token', `Basic ${ADMIN_B64}`, 'Bearer ']) {
        const res = await fetch(`${url}${route}`, {
          method,
          headers: { ...(header ? { authorization: header } : {}), 'content-type': 'application/json' },
          body: method === 'PUT' ? JSON.stringify({ qrCodes: ['Q'], plate: 'P', label: 'L' }) : undefined,
        });
        expect(res.status, `${method} ${route} ${header}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
    }
    expect((await admin(url, 'GET', '/admin/cabs')).body.cabs).toEqual([]);
  });

  it('creates a cab with a one-time token (201), updates it (200) with or without a new token, validates input', async () => {
    const created = await admin(url, 'PUT', '/admin/cabs/cab-1', { qrCodes: ['Q1', 'Q2'], plate: 'ABC 123', label: 'Taxi 1' });
    expect(created.status).toBe(201);
    expect(created.body.cabId).toBe('cab-1');
    expect(created.body.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tablet = connectTablet(url, 'cab-1', created.body.deviceToken);
    await waitForConnect(tablet);
    const kept = await admin(url, 'PUT', '/admin/cabs/cab-1?keepToken=true', { qrCodes: ['Q1'], plate: 'ABC 123', label: 'Taxi 1a' });
    expect(kept.status).toBe(200);
    // No HIPS_API_URL/HIPS_MERCHANT_KEY here: the answer says the QR is the fleet's to connect.
    expect(kept.body).toEqual({ cabId: 'cab-1', updated: true, qrSetup: 'out_of_band', notice: expect.stringContaining('"Q1"') });
    await sleep(100);
    expect(tablet.socket.connected).toBe(true); // keepToken: the tablet stays on
    // A plain re-PUT meets the contract {cabId, deviceToken}: a new token, the old one dropped.
    const gone = new Promise<void>((r) => tablet.socket.once('disconnect', () => r()));
    const updated = await admin(url, 'PUT', '/admin/cabs/cab-1', { qrCodes: ['Q3'], plate: 'ABC 124', label: 'Taxi 1b' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ cabId: 'cab-1', updated: true });
    expect(updated.body.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(updated.body.deviceToken).not.toBe(created.body.deviceToken);
    await gone;
    const withNew = connectTablet(url, 'cab-1', updated.body.deviceToken);
    await waitForConnect(withNew);
    withNew.close();
    tablet.close();
    const list = await admin(url, 'GET', '/admin/cabs');
    expect(list.body.cabs[0]).toMatchObject({ cabId: 'cab-1', psp: 'hips', qrCodes: ['Q3'], plate: 'ABC 124', label: 'Taxi 1b', enabled: true, backlog: 0 });
    expect(JSON.stringify(list.body)).not.toContain(created.body.deviceToken);
    // Q1 was released by the update, so another cab may take it.
    await addCab(url, 'cab-2', ['Q1']);

    const bad = [
      ['/admin/cabs/cab.1', { qrCodes: ['Z'], plate: 'P', label: 'L' }],
      ['/admin/cabs/cab-3', { qrCodes: ['Z'], label: 'L' }],
      ['/admin/cabs/cab-3', { qrCodes: ['Z'], plate: 'P', label: 'L', psp: 'paypal' }],
      ['/admin/cabs/cab-3', { qrCodes: [''], plate: 'P', label: 'L' }],
    ] as const;
    for (const [route, body] of bad) {
      const res = await admin(url, 'PUT', route, body);
      expect(res.status, route + JSON.stringify(body)).toBe(400);
      expect(res.body.error.message.length).toBeGreaterThan(5);
    }
  });

  it('answers 404 for rotate and delete of an unknown cab', async () => {
    expect((await admin(url, 'POST', '/admin/cabs/nobody/rotate-token')).status).toBe(404);
    expect((await admin(url, 'DELETE', '/admin/cabs/nobody')).status).toBe(404);
  });

  it('reports health and metrics, and 503 when the database is gone', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', db: 'ok' });
    const metrics = await fetchMetrics(url);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of ['relay_webhooks_total', 'relay_delivery_latency_seconds', 'relay_connected_cabs', 'relay_backlog_events']) {
      expect(text).toContain(name);
    }
    const notFound = await fetch(`${url}/nope`);
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

const ADMIN_B64 = Buffer.from('test-admin-token-0123456789:').toString('base64');

describe('health with a failed database', () => {
  it('answers 503', async () => {
    const dir = tempDir();
    const { app, url } = await startInProcess(dir, await makeSigner(dir));
    await app.store.close();
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('unavailable');
    await app.close();
  });
});
