import { afterEach, describe, expect, it } from 'vitest';
import { buildRelay } from '../../backend-relay/app.js';
import {
  addCab,
  connectTablet,
  relayConfig,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  qrHook,
  startInProcess,
  tempDir,
  until,
  waitForConnect,
  type TestTablet,
} from './helpers.js';

describe('relay walking skeleton', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('verifies a QR hook, commits it, and delivers qr.session.started then order.paid to the cab', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer);
    cleanups.push(() => app.close());
    const token = await addCab(url, 'cab-1', ['QR-1']);

    const tablet: TestTablet = connectTablet(url, 'cab-1', token);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);

    const qr = qrHook('QR-1');
    const res = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, qr));
    expect(res.status).toBe(200);
    await until(() => tablet.applied.length === 1, 'qr.session.started');
    const started = tablet.applied[0]!;
    expect(started.type).toBe('qr.session.started');
    expect(started.seq).toBe(1);
    if (started.type !== 'qr.session.started') throw new Error('unreachable');
    expect(started.data.sessionId).toBe(qr.session_id);
    expect(started.data.oneTimeOrderApiKey).toBe(qr.one_time_order_api_key);
    expect(started.data.allowTip).toBe(true);

    const paid = await postJson(url, '/webhooks/hips/orders', await hookBody(signer, orderHook('cab-1.ride-1')));
    expect(paid.status).toBe(200);
    await until(() => tablet.applied.length === 2, 'order.paid');
    expect(tablet.applied[1]).toMatchObject({
      seq: 2,
      type: 'order.paid',
      data: { merchantOrderId: 'cab-1.ride-1', orderAmount: 30000, tipAmount: 3000, totalAmount: 33000, currency: 'SEK' },
    });
    await until(async () => (await app.store.getCab('cab-1'))?.ackedSeq === 2, 'acks recorded');
  });

  it('buildRelay listens on an ephemeral loopback port and closes cleanly', async () => {
    const dir = tempDir();
    const relay = await buildRelay(relayConfig(dir, await makeSigner(dir)));
    expect(relay.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    await relay.close();
    await expect(fetch(`${relay.url}/healthz`)).rejects.toThrow();
  });
});
