/**
 * Vipps MobilePay end to end over loopback: a relay (temp db) configured with the Vipps sandbox,
 * which registers its webhook at start; a socket.io tablet; the sandbox's passenger app (check-in,
 * approve, reject) and its HMAC-signed webhooks back to the relay.
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { signVippsRequest } from '../../backend-relay/psp/vipps-hmac.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { admin, connectTablet, makeSigner, relayConfig, storedCounts, tempDir, until, waitForConnect, type Signer, type TestTablet } from './helpers.js';

const CAB = 'cab-no-1';
const QR = 'cab-no-1-qr';
const OTHER_CAB = 'cab-no-2';

let sb: Sandbox;
let dir: string;
let signer: Signer;
let relay: { app: RelayApp; url: string };
let tablet: TestTablet;
let qrContent: string;
const logLines: string[] = [];

async function control(method: string, route: string, json?: unknown) {
  const res = await fetch(sb.url + route, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

/** The relay waits this long for Vipps; the sandbox's late answers come after LATE_MS. */
const PSP_TIMEOUT_MS = 2_000;
const LATE_MS = 4_000;

async function startRelay(port = 0) {
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
  const vipps = { baseUrl: sb.url, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn };
  const app = await buildRelayApp(relayConfig(dir, signer, { port, vipps, paymentSweepMs: 200, pspTimeoutMs: PSP_TIMEOUT_MS }), { logger });
  const url = await app.listen();
  return { app, url };
}

async function webhooksAtVipps() {
  const res = await fetch(`${sb.url}/sandbox/vipps/ledger`);
  return ((await res.json()) as any).webhooks as any[];
}

async function registered(url: string): Promise<{ id: string; url: string }[]> {
  const tokenRes = await fetch(`${sb.url}/accesstoken/get`, {
    method: 'POST',
    headers: { client_id: C.clientId, client_secret: C.clientSecret, 'Ocp-Apim-Subscription-Key': C.subscriptionKey },
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const res = await fetch(`${sb.url}/webhooks/v1/webhooks`, {
    headers: { authorization: `Bearer ${access_token}`, 'Ocp-Apim-Subscription-Key': C.subscriptionKey },
  });
  return ((await res.json()) as { webhooks: { id: string; url: string }[] }).webhooks.filter((w) => w.url === `${url}/webhooks/vipps`);
}

async function eventOf<T extends RelayEvent['type']>(t: TestTablet, type: T, match: (e: Extract<RelayEvent, { type: T }>) => boolean = () => true) {
  let found: Extract<RelayEvent, { type: T }> | undefined;
  await until(() => {
    found = t.applied.find((e): e is Extract<RelayEvent, { type: T }> => e.type === type && match(e as Extract<RelayEvent, { type: T }>));
    return found !== undefined;
  }, `${type} on the tablet`);
  return found!;
}

/** The passenger scans the cab's QR in the app; returns the session the tablet got and the secret token. */
async function scan(t: TestTablet = tablet, content = qrContent) {
  const res = await control('POST', '/sandbox/vipps/checkin', { qrContent: content });
  expect(res.status).toBe(200);
  const token = res.body.customerToken as string;
  const started = await eventOf(t, 'qr.session.started', (e) => Date.parse(e.data.expiresAt) === Date.parse(res.body.initiatedAt) + 15 * 60_000);
  return { token, started };
}

function paymentRequest(sessionId: string, rideId: string, attempt = 1) {
  return {
    psp: 'vipps',
    sessionId,
    rideId,
    attempt,
    orderLines: [
      { id: 'fare', kind: 'fare', label: 'Fare', amount: 30_000, vatRate: 12 },
      { id: 'toll', kind: 'toll', label: 'Toll', amount: 2_000, vatRate: 0 },
    ],
    orderAmount: 32_000,
    tipAmount: 3_000,
    currency: 'NOK',
  };
}

const send = (payload: unknown, t: TestTablet = tablet): Promise<any> => t.socket.timeout(15_000).emitWithAck('payment.request', payload);

beforeAll(async () => {
  sb = await testSandbox();
  await control('POST', '/sandbox/vipps/settings', { webhookBackoffMs: [50, 100], webhookMaxAttempts: 5 });
  dir = tempDir('cabpay-vipps-flow-');
  signer = await makeSigner(dir);
  relay = await startRelay();
  const added = await admin(relay.url, 'PUT', `/admin/cabs/${CAB}`, { psp: 'vipps', qrCodes: [QR], plate: 'EL 12345', label: 'Taxi Oslo 1' });
  expect(added.status).toBe(201);
  qrContent = added.body.qrContent as string;
  tablet = connectTablet(relay.url, CAB, added.body.deviceToken);
  await waitForConnect(tablet);
});

afterAll(async () => {
  tablet?.close();
  await relay?.app.close();
  await sb?.close();
});

describe('Vipps through the relay', () => {
  it('registers its webhook at start and provisions the cab QR with the plate', async () => {
    const hooks = await registered(relay.url);
    expect(hooks).toHaveLength(1);
    expect(qrContent).toBe(`${sb.url}/vipps/qr/${C.msn}/${QR}`);
    const cabs = await admin(relay.url, 'GET', '/admin/cabs');
    expect(cabs.body.cabs.find((c: { cabId: string }) => c.cabId === CAB)).toMatchObject({ psp: 'vipps', qrCodes: [QR] });
  });

  it('a check-in becomes qr.session.started on the right cab, with the customer token nowhere but the relay', async () => {
    const other = await admin(relay.url, 'PUT', `/admin/cabs/${OTHER_CAB}`, {
      psp: 'vipps',
      qrCodes: [`${OTHER_CAB}-qr`],
      plate: 'EL 99999',
      label: 'Taxi Oslo 2',
    });
    expect(other.status).toBe(201);
    const otherTablet = connectTablet(relay.url, OTHER_CAB, other.body.deviceToken);
    await waitForConnect(otherTablet);
    try {
      const { token, started } = await scan();
      expect(started.data).toMatchObject({ psp: 'vipps', qrCode: QR, allowTip: true });
      expect(started.data.sessionId).toMatch(/^vco_/);
      expect(started.data.oneTimeOrderApiKey).toBeUndefined();
      expect(JSON.stringify(tablet.received)).not.toContain(token);
      expect(logLines.join('')).not.toContain(token);
      // The other cab got nothing of it.
      await new Promise((r) => setTimeout(r, 200));
      expect(otherTablet.applied.filter((e) => e.type === 'qr.session.started')).toHaveLength(0);
      const delivered = (await webhooksAtVipps()).filter((w: any) => w.event === 'user.checked-in.v1' && w.body.customerToken === token);
      expect(delivered.map((w: any) => [w.status, w.lastStatusCode])).toEqual([['delivered', 200]]);
    } finally {
      otherTablet.close();
    }
  });

  it('check-in → payment.request → the passenger approves → capture → order.paid', async () => {
    const { started } = await scan();
    const rideId = uuidv7();
    const ack = await send(paymentRequest(started.data.sessionId, rideId));
    expect(ack).toMatchObject({ ok: true, value: { pspReference: expect.any(String) } });
    const reference = ack.value.pspReference as string;
    expect((await control('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ currency: 'NOK', orderAmount: 32_000, tipAmount: 3_000, totalAmount: 35_000 });
    await until(async () => {
      const p = ((await control('GET', '/sandbox/vipps/ledger')).body.payments as any[]).find((x) => x.reference === reference);
      return p?.captured === 35_000;
    }, 'the capture at Vipps');
  });

  it('refund.request refunds part of a paid ride at Vipps, refuses an over-refund, and logs order.refunded', async () => {
    const { started } = await scan();
    const rideId = uuidv7();
    const ack = await send(paymentRequest(started.data.sessionId, rideId));
    expect((await control('POST', `/sandbox/vipps/payments/${ack.value.pspReference}/approve`)).status).toBe(200);
    const order = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    // Vipps refunds by the payment's reference, so that is what order.paid carries.
    expect(order.data.pspOrderId).toBe(ack.value.pspReference);
    const refund = (refundId: string, amount: number): Promise<any> =>
      tablet.socket.timeout(15_000).emitWithAck('refund.request', {
        refundId,
        rideId,
        merchantOrderId: order.data.merchantOrderId,
        psp: 'vipps',
        pspOrderId: order.data.pspOrderId,
        amount,
        currency: 'NOK',
        reason: 'detour',
        requestedBy: 'driver',
        requestedAt: new Date().toISOString(),
      });
    const refundId = uuidv7();
    expect(await refund(refundId, 5_000)).toEqual({ ok: true, value: { refundedAmount: 5_000 } });
    const refunded = await eventOf(tablet, 'order.refunded', (e) => e.data.refundId === refundId);
    expect(refunded.data).toMatchObject({ merchantOrderId: order.data.merchantOrderId, amount: 5_000, currency: 'NOK' });
    expect(await refund(uuidv7(), 40_000)).toMatchObject({ ok: false, error: { code: 'exceeds_refundable' } });
    const p = ((await control('GET', '/sandbox/vipps/ledger')).body.payments as any[]).find((x) => x.reference === ack.value.pspReference);
    expect(p).toMatchObject({ captured: 35_000, refunded: 5_000 });
  });

  it('a capture and a refund answered after the timeout are looked up at Vipps, never sent again', async () => {
    expect((await control('POST', '/sandbox/vipps/faults', { lateCaptures: 1, lateRefunds: 1, lateAnswerMs: LATE_MS })).status).toBe(200);
    const { started } = await scan();
    const rideId = uuidv7();
    const ack = await send(paymentRequest(started.data.sessionId, rideId));
    const reference = ack.value.pspReference as string;
    expect((await control('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
    const order = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    // Vipps' CAPTURED hook (sent when the capture was booked) or the relay's lookup settled it: paid once.
    const refund = (refundId: string): Promise<any> =>
      tablet.socket.timeout(15_000).emitWithAck('refund.request', {
        refundId,
        rideId,
        merchantOrderId: order.data.merchantOrderId,
        psp: 'vipps',
        pspOrderId: order.data.pspOrderId,
        amount: 5_000,
        currency: 'NOK',
        reason: 'detour',
        requestedBy: 'driver',
        requestedAt: new Date().toISOString(),
      });
    const refundId = uuidv7();
    expect(await refund(refundId)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await refund(refundId)).toEqual({ ok: true, value: { refundedAmount: 5_000 } });
    expect(logLines.some((l) => l.includes('unanswered refunds were booked by the PSP; settled without calling again') && l.includes(refundId))).toBe(true);
    await new Promise((r) => setTimeout(r, LATE_MS));
    const p = ((await control('GET', '/sandbox/vipps/ledger')).body.payments as any[]).find((x) => x.reference === reference);
    expect(p).toMatchObject({ captured: 35_000, refunded: 5_000 });
    expect((p.events as { name: string }[]).filter((e) => e.name === 'CAPTURED')).toHaveLength(1);
    expect(tablet.applied.filter((e) => e.type === 'order.refunded' && (e.data as { refundId: string }).refundId === refundId)).toHaveLength(1);
  });

  it('attempt 2 (a new tip) terminates attempt 1 at Vipps first, so only one payment is payable', async () => {
    const { started } = await scan();
    const rideId = uuidv7();
    const first = await send(paymentRequest(started.data.sessionId, rideId, 1));
    expect(first.ok).toBe(true);
    const second = await send({ ...paymentRequest(started.data.sessionId, rideId, 2), tipAmount: 0 });
    expect(second.ok).toBe(true);
    expect(second.value.pspReference).not.toBe(first.value.pspReference);
    const ledger = (await control('GET', '/sandbox/vipps/ledger')).body.payments as any[];
    expect(ledger.find((p) => p.reference === first.value.pspReference)).toMatchObject({ state: 'TERMINATED' });
    expect(ledger.find((p) => p.reference === second.value.pspReference)).toMatchObject({ state: 'CREATED', amount: 32_000 });
    expect((await control('POST', `/sandbox/vipps/payments/${second.value.pspReference}/approve`)).status).toBe(200);
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ totalAmount: 32_000, tipAmount: 0 });
  });

  it('the passenger declines in the app → order.failed payment_rejected', async () => {
    const { started } = await scan();
    const rideId = uuidv7();
    const ack = await send(paymentRequest(started.data.sessionId, rideId));
    expect(ack.ok).toBe(true);
    expect((await control('POST', `/sandbox/vipps/payments/${ack.value.pspReference}/reject`)).status).toBe(200);
    const failed = await eventOf(tablet, 'order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(failed.data).toMatchObject({ code: 'payment_rejected', attempt: 1 });
  });

  it('a check-in whose token Vipps no longer takes is refused: customer_token_expired', async () => {
    const { token, started } = await scan();
    expect((await control('POST', `/sandbox/vipps/tokens/${encodeURIComponent(token)}/expire`)).status).toBe(200);
    const ack = await send(paymentRequest(started.data.sessionId, uuidv7()));
    expect(ack).toMatchObject({ ok: false, error: { code: 'customer_token_expired' } });
  });

  it('a check-in while the tablet is offline waits in the cab log (no 412) and arrives on reconnect', async () => {
    const lastSeq = tablet.lastSeq;
    tablet.close();
    const res = await control('POST', '/sandbox/vipps/checkin', { qrContent });
    expect(res.status).toBe(200);
    await until(async () => {
      const hooks = (await webhooksAtVipps()).filter((w: any) => w.event === 'user.checked-in.v1' && w.body.customerToken === res.body.customerToken);
      return hooks.length === 1 && hooks[0].status === 'delivered';
    }, 'the check-in delivered to the relay');
    const token = (await admin(relay.url, 'POST', `/admin/cabs/${CAB}/rotate-token`)).body.deviceToken as string;
    tablet = connectTablet(relay.url, CAB, token, lastSeq);
    await waitForConnect(tablet);
    const started = await eventOf(tablet, 'qr.session.started');
    expect(started.seq).toBeGreaterThan(lastSeq);
    expect(JSON.stringify(started)).not.toContain(res.body.customerToken);
    // The session is usable: the payment goes out to the passenger's app.
    const ack = await send(paymentRequest(started.data.sessionId, uuidv7()));
    expect(ack.ok).toBe(true);
  });

  it('a forged or tampered hook gets 401 and nothing is stored', async () => {
    const before = await storedCounts(path.join(dir, 'relay.db'));
    const body = JSON.stringify({ customerToken: 'forged', merchantQrId: QR, msn: C.msn, initiatedAt: new Date().toISOString() });
    const host = new URL(relay.url).host;
    const forged = signVippsRequest({ secret: 'not-the-secret', pathAndQuery: '/webhooks/vipps', host, rawBody: body, date: new Date() });
    const post = (headers: Record<string, string>, raw = body) =>
      fetch(`${relay.url}/webhooks/vipps`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    expect((await post(forged)).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect(await storedCounts(path.join(dir, 'relay.db'))).toEqual(before);
  });

  it('a restart reuses the registered webhook (kept in the relay database)', async () => {
    const before = await registered(relay.url);
    expect(before).toHaveLength(1);
    const port = Number(new URL(relay.url).port);
    tablet.close();
    await relay.app.close();
    relay = await startRelay(port);
    const after = await registered(relay.url);
    expect(after.map((w) => w.id)).toEqual(before.map((w) => w.id));
    expect(logLines.some((l) => l.includes('vipps webhook reused'))).toBe(true);
    // And it still works: a new check-in reaches the reconnected tablet.
    const token = (await admin(relay.url, 'POST', `/admin/cabs/${CAB}/rotate-token`)).body.deviceToken as string;
    tablet = connectTablet(relay.url, CAB, token);
    await waitForConnect(tablet);
    const { started } = await scan();
    expect(started.data.qrCode).toBe(QR);
  });
});
