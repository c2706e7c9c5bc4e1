/** A Hips ride paid at the real sandbox, then refunded in part through refund.request. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { buildSandbox, type Sandbox } from '../../backend-relay/sandbox/app.js';
import type { RelayApp } from '../../backend-relay/app.js';
import { addCab, connectTablet, makeSigner, startInProcess, tempDir, until, waitForConnect, type TestTablet } from './helpers.js';

async function call(base: string, method: string, route: string, body?: unknown, auth?: string) {
  const res = await fetch(base + route, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

describe('Hips refunds through the relay', () => {
  let sandbox: Sandbox;
  let app: RelayApp;
  let url: string;
  let tablet: TestTablet;
  let pspOrderId: string;

  beforeAll(async () => {
    const dir = tempDir();
    sandbox = await buildSandbox({ dbPath: path.join(dir, 'sandbox.db'), webhook: { attemptTimeoutMs: 2000, backoffMs: [50, 50] } });
    const signer = await makeSigner(dir);
    ({ app, url } = await startInProcess(
      dir,
      { ...signer, publicPem: sandbox.publicKeyPem },
      {
        hipsMerchant: { apiUrl: sandbox.url, merchantKey: sandbox.merchantKey },
        pspTimeoutMs: 1_000,
      },
    ));
    const qr = await call(
      sandbox.url,
      'POST',
      '/v2/qrs',
      { qr_code: 'QR-REFUND', qr_start_webhook_url: `${url}/webhooks/hips/qr`, allow_tip: true },
      sandbox.merchantKey,
    );
    expect(qr.status).toBe(201);
    const token = await addCab(url, 'cab-h', ['QR-REFUND']);
    tablet = connectTablet(url, 'cab-h', token);
    await waitForConnect(tablet);

    // The passenger scans; the tablet creates the order with the one-time key; the passenger pays.
    const scan = await call(sandbox.url, 'POST', '/sandbox/scan', { qr_data: qr.body.qr_data });
    expect(scan.status).toBe(200);
    await until(() => tablet.applied.some((e) => e.type === 'qr.session.started'), 'qr.session.started');
    const started = tablet.applied.find((e) => e.type === 'qr.session.started')!.data as { sessionId: string; oneTimeOrderApiKey: string };
    const order = await call(
      sandbox.url,
      'POST',
      '/v2/orders',
      {
        order_id: 'cab-h.ride-1',
        purchase_currency: 'SEK',
        cart: { items: [{ name: 'Taxi fare', quantity: 1, unit_price: 30_000, vat_amount: 1_698, type: 'service' }] },
        fulfill: true,
        qr_session_id: started.sessionId,
        hooks: { webhook_url: `${url}/webhooks/hips/orders` },
      },
      `Bearer ${started.oneTimeOrderApiKey}`,
    );
    expect(order.status).toBe(201);
    expect((await call(sandbox.url, 'POST', `/sandbox/sessions/${started.sessionId}/pay`, { tip_amount: 3_000 })).status).toBe(200);
    await until(() => tablet.applied.some((e) => e.type === 'order.paid'), 'order.paid');
    pspOrderId = (tablet.applied.find((e) => e.type === 'order.paid')!.data as { pspOrderId: string }).pspOrderId;
  });

  afterAll(async () => {
    tablet?.close();
    await app?.close();
    await sandbox?.close();
  });

  const refund = (refundId: string, amount: number) =>
    tablet.socket.timeout(10_000).emitWithAck('refund.request', {
      refundId,
      rideId: 'ride-1',
      merchantOrderId: 'cab-h.ride-1',
      psp: 'hips',
      pspOrderId,
      amount,
      currency: 'SEK',
      reason: 'passenger complaint',
      requestedBy: 'driver-7',
      requestedAt: '2026-11-22T10:00:00.000Z',
    });

  it('refunds 30%, appends order.refunded, books it in the sandbox ledger, and does not refund a repeat twice', async () => {
    const total = 33_000;
    const part = Math.floor((total * 30) / 100);
    const ack = await refund('rf-30', part);
    expect(ack).toEqual({ ok: true, value: { refundedAmount: part } });
    await until(() => tablet.applied.some((e) => e.type === 'order.refunded'), 'order.refunded');
    expect(tablet.applied.find((e) => e.type === 'order.refunded')!.data).toEqual({
      merchantOrderId: 'cab-h.ride-1',
      amount: part,
      currency: 'SEK',
      refundId: 'rf-30',
    });

    expect(await refund('rf-30', part)).toEqual(ack);
    const ledger = (await call(sandbox.url, 'GET', '/sandbox/ledger')).body;
    const refunds = (ledger.refunds as { order_id: string; amount: number }[]).filter((r) => r.order_id === pspOrderId);
    expect(refunds.map((r) => r.amount)).toEqual([part]);
    expect(ledger.totals.SEK.refunded).toBe(part);
    await new Promise((r) => setTimeout(r, 200));
    expect(tablet.applied.filter((e) => e.type === 'order.refunded')).toHaveLength(1);
  });

  it('answers exceeds_refundable, before asking Hips, when more than the rest is asked for', async () => {
    const ack = await refund('rf-too-much', 30_000);
    expect(ack).toMatchObject({ ok: false, error: { code: 'exceeds_refundable', message: expect.stringContaining('at most 23100 SEK') } });
    // Final: the repeat gets the same answer.
    expect(await refund('rf-too-much', 30_000)).toEqual(ack);
  });

  it('a refund Hips answers after the timeout is found booked on the order, not sent again', async () => {
    expect((await call(sandbox.url, 'POST', '/sandbox/faults', { lateRefunds: 1, lateAnswerMs: 2_500 })).status).toBe(200);
    expect(await refund('rf-late', 1_000)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await refund('rf-late', 1_000)).toEqual({ ok: true, value: { refundedAmount: 1_000 } });
    await new Promise((r) => setTimeout(r, 2_500));
    const ledger = (await call(sandbox.url, 'GET', '/sandbox/ledger')).body;
    const refunds = (ledger.refunds as { order_id: string; amount: number }[]).filter((r) => r.order_id === pspOrderId);
    expect(refunds.map((r) => r.amount)).toEqual([9_900, 1_000]);
    await until(() => tablet.applied.some((e) => e.type === 'order.refunded' && (e.data as { refundId: string }).refundId === 'rf-late'), 'order.refunded');
  });

  it('refuses another cab’s order', async () => {
    const ack = await tablet.socket.timeout(5000).emitWithAck('refund.request', {
      refundId: 'rf-other',
      rideId: 'ride-9',
      merchantOrderId: 'cab-x.ride-9',
      psp: 'hips',
      pspOrderId,
      amount: 100,
      currency: 'SEK',
      reason: 'x',
      requestedBy: 'driver',
      requestedAt: new Date().toISOString(),
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
