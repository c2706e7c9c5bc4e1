/**
 * Refunds the relay checks against its own records, over loopback with the HitPay sandbox: two
 * cabs on one relay (one of them trying to refund the other's payment), concurrent refunds of one
 * payment, a refund answered only after the relay's PSP timeout, and the fleet's audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { buildRelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import { admin, connectTablet, makeSigner, relayConfig, startInProcess, tempDir, until, waitForConnect, type TestTablet } from './helpers.js';

/** The relay waits this long for HitPay; the late-answer fault answers after LATE_MS. */
const PSP_TIMEOUT_MS = 400;
const LATE_MS = 1_500;

let sb: Sandbox;
let relay: Awaited<ReturnType<typeof startInProcess>>;
const tablets = new Map<string, TestTablet>();

async function control(method: string, path: string, json?: unknown) {
  const res = await fetch(sb.url + path, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function hitpayRefunds(paymentId: string): Promise<{ amount_minor: number }[]> {
  const ledger = (await control('GET', '/sandbox/hitpay/ledger')).body;
  return (ledger.refunds as { payment_id: string; amount_minor: number }[]).filter((r) => r.payment_id === paymentId);
}

function eventsOf<T extends RelayEvent['type']>(cabId: string, type: T): Extract<RelayEvent, { type: T }>[] {
  return tablets.get(cabId)!.applied.filter((e): e is Extract<RelayEvent, { type: T }> => e.type === type);
}

/** A ride of `cabId` paid at HitPay (1 250 SGD cents); its order.paid as the tablet got it. */
async function paidRide(cabId: string): Promise<{ rideId: string; paymentId: string }> {
  const rideId = uuidv7();
  const tablet = tablets.get(cabId)!;
  const ack = await tablet.socket.timeout(15_000).emitWithAck('payment.request', {
    psp: 'hitpay',
    rideId,
    attempt: 1,
    orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 1100, vatRate: 9 }],
    orderAmount: 1100,
    tipAmount: 150,
    currency: 'SGD',
  });
  expect(ack).toMatchObject({ ok: true });
  expect((await control('POST', `/sandbox/hitpay/payment-requests/${ack.value.pspReference}/pay`)).status).toBe(200);
  await until(() => eventsOf(cabId, 'order.paid').some((e) => e.data.merchantOrderId === `${cabId}.${rideId}`), 'order.paid');
  const paid = eventsOf(cabId, 'order.paid').find((e) => e.data.merchantOrderId === `${cabId}.${rideId}`)!;
  return { rideId, paymentId: paid.data.pspOrderId };
}

function refund(cabId: string, over: { rideId: string; pspOrderId: string; amount: number; refundId?: string; currency?: string }): Promise<any> {
  return tablets
    .get(cabId)!
    .socket.timeout(15_000)
    .emitWithAck('refund.request', {
      refundId: over.refundId ?? uuidv7(),
      rideId: over.rideId,
      merchantOrderId: `${cabId}.${over.rideId}`,
      psp: 'hitpay',
      pspOrderId: over.pspOrderId,
      amount: over.amount,
      currency: over.currency ?? 'SGD',
      reason: 'test',
      requestedBy: `driver-of-${cabId}`,
      requestedAt: new Date().toISOString(),
    });
}

beforeAll(async () => {
  sb = await testSandbox();
  const dir = tempDir('cabpay-refund-safety-');
  relay = await startInProcess(dir, await makeSigner(dir), {
    hitpay: { baseUrl: sb.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
    pspTimeoutMs: PSP_TIMEOUT_MS,
    // Ten refunds at once is the point here, not the per-cab quota (tested in edge-quotas).
    cabQuotas: { refundsPerMinute: 1000, refundsPerDay: 1000 },
  });
  for (const cabId of ['cab-victim', 'cab-thief']) {
    const added = await admin(relay.url, 'PUT', `/admin/cabs/${cabId}`, { psp: 'hitpay', qrCodes: [], plate: 'SHA 1 A', label: cabId });
    expect(added.status).toBe(201);
    const tablet = connectTablet(relay.url, cabId, added.body.deviceToken);
    await waitForConnect(tablet);
    tablets.set(cabId, tablet);
  }
});

afterAll(async () => {
  for (const t of tablets.values()) t.close();
  await relay?.app.close();
  await sb?.close();
});

describe('refunds the relay checks against its own records', () => {
  it('refuses a refund of another cab’s payment under a made-up ride; HitPay is never asked', async () => {
    const victim = await paidRide('cab-victim');
    const ack = await refund('cab-thief', { rideId: uuidv7(), pspOrderId: victim.paymentId, amount: 1250 });
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_paid' } });
    expect(await hitpayRefunds(victim.paymentId)).toEqual([]);
    expect(eventsOf('cab-victim', 'order.refunded')).toEqual([]);
  });

  it('refunds the cab’s own recorded payment, never the one a tablet names, in the recorded currency', async () => {
    const victim = await paidRide('cab-victim');
    const own = await paidRide('cab-thief');
    const refundId = uuidv7();
    const ack = await refund('cab-thief', { rideId: own.rideId, pspOrderId: victim.paymentId, amount: 500, refundId, currency: 'NOK' });
    expect(ack).toEqual({ ok: true, value: { refundedAmount: 500 } });
    expect(await hitpayRefunds(victim.paymentId)).toEqual([]);
    expect((await hitpayRefunds(own.paymentId)).map((r) => r.amount_minor)).toEqual([500]);
    await until(() => eventsOf('cab-thief', 'order.refunded').some((e) => e.data.refundId === refundId), 'order.refunded');
    expect(eventsOf('cab-thief', 'order.refunded').find((e) => e.data.refundId === refundId)!.data).toEqual({
      merchantOrderId: `cab-thief.${own.rideId}`,
      amount: 500,
      currency: 'SGD',
      refundId,
    });
  });

  it('checks the total itself: of ten concurrent 30 % refunds three go through and HitPay sees only those', async () => {
    const ride = await paidRide('cab-victim');
    const part = Math.floor(1250 * 0.3);
    const acks = await Promise.all(Array.from({ length: 10 }, () => refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: part })));
    expect(acks.filter((a) => a.ok)).toHaveLength(3);
    const refusals = acks.filter((a) => !a.ok);
    expect(refusals).toHaveLength(7);
    for (const r of refusals) expect(r.error.code).toBe('exceeds_refundable');
    expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([part, part, part]);
    // The rest is still refundable, exactly.
    expect(await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 1250 - 3 * part + 1 })).toMatchObject({
      ok: false,
      error: { code: 'exceeds_refundable' },
    });
    expect(await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 1250 - 3 * part })).toMatchObject({ ok: true });
  });

  it('a refund answered after the timeout is looked up, not sent again: one refund at HitPay, one order.refunded', async () => {
    const ride = await paidRide('cab-victim');
    expect((await control('POST', '/sandbox/hitpay/faults', { lateRefunds: 1, lateAnswerMs: LATE_MS })).status).toBe(200);
    const refundId = uuidv7();
    const first = await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 500, refundId });
    expect(first).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    // HitPay booked it (its answer is still on its way); the tablet's retry must not book another.
    expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([500]);
    const retry = await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 500, refundId });
    expect(retry).toEqual({ ok: true, value: { refundedAmount: 500 } });
    // A further refund counts the looked-up one: only 750 remain.
    expect(await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 800 })).toMatchObject({
      ok: false,
      error: { code: 'exceeds_refundable' },
    });
    await new Promise((r) => setTimeout(r, LATE_MS));
    expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([500]);
    expect(eventsOf('cab-victim', 'order.refunded').filter((e) => e.data.refundId === refundId)).toHaveLength(1);
  });

  it('a refund the PSP cannot explain (someone refunded by hand meanwhile) is refund_unresolved, never sent again', async () => {
    const ride = await paidRide('cab-victim');
    expect((await control('POST', '/sandbox/hitpay/faults', { lateRefunds: 1, lateAnswerMs: LATE_MS })).status).toBe(200);
    const refundId = uuidv7();
    expect(await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 500, refundId })).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    });
    // The fleet office refunds 1.00 at HitPay directly, outside the relay.
    const byHand = await fetch(`${sb.url}/v1/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-business-api-key': HITPAY_DEMO_API_KEY },
      body: JSON.stringify({ payment_id: ride.paymentId, amount: '1.00' }),
    });
    expect(byHand.status).toBe(200);
    const retry = await refund('cab-victim', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 500, refundId });
    expect(retry).toMatchObject({ ok: false, error: { code: 'refund_unresolved', message: expect.stringContaining('has refunded 600 SGD') } });
    expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([500, 100]);
    await new Promise((r) => setTimeout(r, LATE_MS));
  });

  it('GET /admin/refunds shows who asked, for which cab, how much and how it ended, with filters, behind the admin token', async () => {
    expect((await admin(relay.url, 'GET', '/admin/refunds', undefined, 'wrong-token')).status).toBe(401);
    const all = await admin(relay.url, 'GET', '/admin/refunds?limit=1000');
    expect(all.status).toBe(200);
    const thief = await admin(relay.url, 'GET', '/admin/refunds?cabId=cab-thief&outcome=rejected');
    expect(thief.body.refunds).toHaveLength(1);
    expect(thief.body.refunds[0]).toMatchObject({
      cabId: 'cab-thief',
      psp: 'hitpay',
      pspOrderId: null,
      amount: 1250,
      requestedBy: 'driver-of-cab-thief',
      outcome: 'rejected',
      code: 'not_paid',
    });
    const refunded = await admin(relay.url, 'GET', '/admin/refunds?cabId=cab-victim&outcome=refunded');
    expect(refunded.body.refunds.length).toBeGreaterThanOrEqual(5);
    expect(refunded.body.refunds.every((r: any) => r.currency === 'SGD' && typeof r.pspOrderId === 'string')).toBe(true);
    const page = await admin(relay.url, 'GET', '/admin/refunds?limit=2');
    expect(page.body.refunds).toHaveLength(2);
    const next = await admin(relay.url, 'GET', `/admin/refunds?limit=2&before=${page.body.next}`);
    expect(next.body.refunds[0].id).toBeLessThan(page.body.refunds[1].id + 1);
    expect(next.body.refunds[0].id).not.toBe(page.body.refunds[1].id);
    const future = await admin(relay.url, 'GET', `/admin/refunds?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.refunds).toEqual([]);
    const bad = await admin(relay.url, 'GET', '/admin/refunds?outcome=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('outcome');
  });
});

describe('a refund that never reached the PSP', () => {
  it('is sent again once HitPay says it booked nothing, and booked once', async () => {
    // The network drops the relay's first refund call before HitPay sees it.
    let dropRefunds = 1;
    const lossyFetch: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith('/v1/refund') && dropRefunds > 0) {
        dropRefunds--;
        throw new TypeError('fetch failed: connection reset');
      }
      return fetch(input, init);
    };
    const dir = tempDir('cabpay-refund-lost-');
    const app = await buildRelayApp(
      relayConfig(dir, await makeSigner(dir), {
        hitpay: { baseUrl: sb.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
        pspTimeoutMs: PSP_TIMEOUT_MS,
      }),
      { logger: createLogger('silent'), fetch: lossyFetch },
    );
    const url = await app.listen();
    try {
      const added = await admin(url, 'PUT', '/admin/cabs/cab-lossy', { psp: 'hitpay', qrCodes: [], plate: 'SHA 2 B', label: 'lossy' });
      const tablet = connectTablet(url, 'cab-lossy', added.body.deviceToken);
      await waitForConnect(tablet);
      tablets.set('cab-lossy', tablet);
      const ride = await paidRide('cab-lossy');
      const refundId = uuidv7();
      expect(await refund('cab-lossy', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 400, refundId })).toMatchObject({
        ok: false,
        error: { code: 'unavailable' },
      });
      expect(await hitpayRefunds(ride.paymentId)).toEqual([]);
      expect(await refund('cab-lossy', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 400, refundId })).toEqual({
        ok: true,
        value: { refundedAmount: 400 },
      });
      expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([400]);
      expect(await refund('cab-lossy', { rideId: ride.rideId, pspOrderId: ride.paymentId, amount: 400, refundId })).toEqual({
        ok: true,
        value: { refundedAmount: 400 },
      });
      expect((await hitpayRefunds(ride.paymentId)).map((r) => r.amount_minor)).toEqual([400]);
    } finally {
      tablets.get('cab-lossy')?.close();
      tablets.delete('cab-lossy');
      await app.close();
    }
  });
});
