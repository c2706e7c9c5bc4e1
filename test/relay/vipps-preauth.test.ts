/**
 * Vipps pre-authorization end to end over loopback: a relay (temp db) with VIPPS_PREAUTHORIZE on,
 * the Vipps sandbox (check-in, the passenger's approve/reject, HMAC-signed hooks back to the
 * relay) and a socket.io tablet that sends the normal payment.request at ride end.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { loadRelayConfig } from '../../backend-relay/config.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { admin, connectTablet, makeSigner, relayConfig, sleep, tempDir, until, waitForConnect, type Signer, type TestTablet } from './helpers.js';

const CAB = 'cab-pre-1';
const QR = 'cab-pre-1-qr';
const PLATE = 'EL 55555';
const RESERVED = 60_000;

let sb: Sandbox;
let dir: string;
let signer: Signer;
let relay: { app: RelayApp; url: string };
let tablet: TestTablet;
let qrContent: string;
/** References whose cancel the relay's fetch fails (Vipps "unreachable" for the release). */
const blockCancel = new Set<string>();

const relayFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const m = /^\/epayment\/v1\/payments\/([^/]+)\/cancel$/.exec(url.pathname);
  if (m && blockCancel.has(decodeURIComponent(m[1]!))) return Promise.reject(new TypeError('fetch failed (test: cancel blocked)'));
  return fetch(input, init);
};

async function control(method: string, route: string, json?: unknown) {
  const res = await fetch(sb.url + route, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

async function startRelay(port = 0) {
  const vipps = {
    baseUrl: sb.url,
    clientId: C.clientId,
    clientSecret: C.clientSecret,
    subscriptionKey: C.subscriptionKey,
    msn: C.msn,
    preauthorize: true,
    preauthAmount: RESERVED,
  };
  const app = await buildRelayApp(relayConfig(dir, signer, { port, vipps, paymentSweepMs: 200 }), { logger: createLogger('silent'), fetch: relayFetch });
  const url = await app.listen();
  return { app, url };
}

async function ledgerPayment(reference: string) {
  return ((await control('GET', '/sandbox/vipps/ledger')).body.payments as any[]).find((p) => p.reference === reference);
}

async function paymentsOfToken(token: string): Promise<any[]> {
  return (await control('GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(token)}`)).body.payments as any[];
}

/** Waits until the relay answered Vipps' hook for this payment event. */
async function hookDelivered(reference: string, name: string) {
  await until(async () => {
    const hooks = ((await control('GET', '/sandbox/vipps/ledger')).body.webhooks as any[]).filter(
      (w) => w.event === `epayments.payment.${name}.v1` && w.body.reference === reference,
    );
    return hooks.length > 0 && hooks.every((w) => w.status === 'delivered');
  }, `${name} of ${reference} delivered to the relay`);
}

function eventsOf<T extends RelayEvent['type']>(t: TestTablet, type: T, match: (e: Extract<RelayEvent, { type: T }>) => boolean = () => true) {
  return t.applied.filter((e): e is Extract<RelayEvent, { type: T }> => e.type === type && match(e as Extract<RelayEvent, { type: T }>));
}

async function eventOf<T extends RelayEvent['type']>(t: TestTablet, type: T, match?: (e: Extract<RelayEvent, { type: T }>) => boolean) {
  await until(() => eventsOf(t, type, match).length > 0, `${type} on the tablet`);
  return eventsOf(t, type, match)[0]!;
}

/** The passenger scans; returns their token, the tablet's session and the reservation Vipps pushed. */
async function scanAndReservation() {
  const res = await control('POST', '/sandbox/vipps/checkin', { qrContent });
  expect(res.status).toBe(200);
  const token = res.body.customerToken as string;
  const started = await eventOf(tablet, 'qr.session.started', (e) => Date.parse(e.data.expiresAt) === Date.parse(res.body.initiatedAt) + 15 * 60_000);
  let reservation: any;
  await until(async () => {
    reservation = (await paymentsOfToken(token)).find((p) => p.amount.value === RESERVED);
    return reservation !== undefined;
  }, 'the reservation pushed to the passenger');
  return { token, sessionId: started.data.sessionId, reference: reservation.reference as string, reservation };
}

async function approveReservation(reference: string) {
  expect((await control('POST', `/sandbox/vipps/payments/${reference}/approve`)).status).toBe(200);
  await hookDelivered(reference, 'authorized');
}

function rideEnd(sessionId: string, rideId: string, orderAmount = 32_000, tipAmount = 3_000, attempt = 1) {
  return {
    psp: 'vipps',
    sessionId,
    rideId,
    attempt,
    orderLines: [
      { id: 'fare', kind: 'fare', label: 'Fare', amount: orderAmount - 2_000, vatRate: 12 },
      { id: 'toll', kind: 'toll', label: 'Toll', amount: 2_000, vatRate: 0 },
    ],
    orderAmount,
    tipAmount,
    currency: 'NOK',
  };
}

const send = (payload: unknown): Promise<any> => tablet.socket.timeout(15_000).emitWithAck('payment.request', payload);

function reservationRow(reference: string): { status: string; capture_amount: number | null } {
  const db = new Database(path.join(dir, 'relay.db'), { readonly: true });
  try {
    return db.prepare('SELECT status, capture_amount FROM reservations WHERE reference = ?').get(reference) as {
      status: string;
      capture_amount: number | null;
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  sb = await testSandbox();
  await control('POST', '/sandbox/vipps/settings', { webhookBackoffMs: [50, 100], webhookMaxAttempts: 5 });
  dir = tempDir('cabpay-vipps-preauth-');
  signer = await makeSigner(dir);
  relay = await startRelay();
  const added = await admin(relay.url, 'PUT', `/admin/cabs/${CAB}`, { psp: 'vipps', qrCodes: [QR], plate: PLATE, label: 'Taxi Oslo pre' });
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

describe('Vipps pre-authorization settings', () => {
  const env = async () => {
    const d = tempDir('cabpay-preauth-env-');
    const s = await makeSigner(d);
    const { writeFileSync } = await import('node:fs');
    const keyFile = path.join(d, 'hips.pem');
    writeFileSync(keyFile, s.publicPem);
    return {
      RELAY_ADMIN_TOKEN: 'a-long-enough-admin-token',
      HIPS_PUBLIC_KEY_FILE: keyFile,
      RELAY_DB: path.join(d, 'relay.db'),
      RELAY_PUBLIC_URL: 'https://relay.example.com',
      VIPPS_BASE_URL: 'https://apitest.vipps.no',
      VIPPS_CLIENT_ID: 'client',
      VIPPS_CLIENT_SECRET: 'secret',
      VIPPS_SUBSCRIPTION_KEY: 'sub',
      VIPPS_MSN: '123456',
    };
  };

  it('is off by default, and needs VIPPS_PREAUTH_AMOUNT when on', async () => {
    const base = await env();
    expect(loadRelayConfig(base).vipps).toMatchObject({ preauthorize: false });
    expect(() => loadRelayConfig({ ...base, VIPPS_PREAUTHORIZE: 'true' })).toThrow(/VIPPS_PREAUTH_AMOUNT is required when VIPPS_PREAUTHORIZE=true/);
    expect(() => loadRelayConfig({ ...base, VIPPS_PREAUTHORIZE: 'true', VIPPS_PREAUTH_AMOUNT: '600.50' })).toThrow(
      /VIPPS_PREAUTH_AMOUNT: must be a whole number/,
    );
    expect(() => loadRelayConfig({ ...base, VIPPS_PREAUTHORIZE: 'true', VIPPS_PREAUTH_AMOUNT: '60000', VIPPS_PREAUTH_CURRENCY: 'SEK' })).toThrow(
      /VIPPS_PREAUTH_CURRENCY: must be NOK, DKK or EUR/,
    );
    const { VIPPS_BASE_URL: _drop, ...noVipps } = base;
    expect(() => loadRelayConfig({ ...noVipps, VIPPS_PREAUTHORIZE: 'true', VIPPS_PREAUTH_AMOUNT: '60000' })).toThrow(/Vipps MobilePay/);
    const on = loadRelayConfig({ ...base, VIPPS_PREAUTHORIZE: 'true', VIPPS_PREAUTH_AMOUNT: '60000' });
    expect(on.vipps).toMatchObject({ preauthorize: true, preauthAmount: 60_000, preauthCurrency: 'NOK' });
  });
});

describe('Vipps pre-authorization through the relay', () => {
  it('a check-in pushes a reservation of VIPPS_PREAUTH_AMOUNT; the tablet only gets its session', async () => {
    const before = tablet.applied.length;
    const { reference, reservation } = await scanAndReservation();
    expect(reservation).toMatchObject({
      state: 'CREATED',
      amount: { currency: 'NOK', value: RESERVED },
      paymentDescription: `Reservation, taxi ${PLATE}: you pay only the final fare`,
      receipt: null,
    });
    await approveReservation(reference);
    await sleep(200);
    expect(tablet.applied.slice(before).map((e) => e.type)).toEqual(['qr.session.started']);
    expect(JSON.stringify(tablet.received)).not.toContain(reference);
    expect(reservationRow(reference).status).toBe('authorized');
  });

  it('approve, then a fare below the reservation: capture = fare, the rest released, order.paid once', async () => {
    const { token, sessionId, reference } = await scanAndReservation();
    await approveReservation(reference);
    const rideId = uuidv7();
    const ack = await send(rideEnd(sessionId, rideId));
    expect(ack).toEqual({ ok: true, value: { pspReference: reference } });
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ pspOrderId: reference, currency: 'NOK', orderAmount: 32_000, tipAmount: 3_000, totalAmount: 35_000 });
    await until(async () => (await ledgerPayment(reference))?.cancelled === RESERVED - 35_000, 'the release of the rest');
    expect(await ledgerPayment(reference)).toMatchObject({ authorized: RESERVED, captured: 35_000, cancelled: 25_000, refunded: 0 });
    await until(() => reservationRow(reference).status === 'settled', 'the reservation settled');
    // The same attempt again replays the answer; nothing else was pushed to the passenger.
    expect(await send(rideEnd(sessionId, rideId))).toEqual(ack);
    await hookDelivered(reference, 'cancelled');
    await hookDelivered(reference, 'captured');
    expect(eventsOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`)).toHaveLength(1);
    expect(eventsOf(tablet, 'order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`)).toHaveLength(0);
    expect((await paymentsOfToken(token)).map((p) => p.reference)).toEqual([reference]);
    // It is refunded like any Vipps payment, by the reference order.paid carries.
    const refunded: any = await tablet.socket.timeout(15_000).emitWithAck('refund.request', {
      refundId: uuidv7(),
      rideId,
      merchantOrderId: paid.data.merchantOrderId,
      psp: 'vipps',
      pspOrderId: paid.data.pspOrderId,
      amount: 5_000,
      currency: 'NOK',
      reason: 'detour',
      requestedBy: 'driver',
      requestedAt: new Date().toISOString(),
    });
    expect(refunded).toEqual({ ok: true, value: { refundedAmount: 5_000 } });
  });

  it('a fare above the reservation: the reservation is released and a normal payment asks for the whole fare', async () => {
    const { sessionId, reference } = await scanAndReservation();
    await approveReservation(reference);
    const rideId = uuidv7();
    const ack = await send(rideEnd(sessionId, rideId, 65_000, 5_000));
    expect(ack.ok).toBe(true);
    expect(ack.value.pspReference).not.toBe(reference);
    await until(async () => (await ledgerPayment(reference))?.cancelled === RESERVED, 'the reservation released');
    expect(await ledgerPayment(reference)).toMatchObject({ captured: 0, cancelled: RESERVED });
    expect(await ledgerPayment(ack.value.pspReference)).toMatchObject({ state: 'CREATED', amount: 70_000 });
    expect((await control('POST', `/sandbox/vipps/payments/${ack.value.pspReference}/approve`)).status).toBe(200);
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ pspOrderId: ack.value.pspReference, orderAmount: 65_000, tipAmount: 5_000, totalAmount: 70_000 });
    await until(async () => (await ledgerPayment(ack.value.pspReference))?.captured === 70_000, 'the normal capture');
    expect(reservationRow(reference).status).toBe('canceled');
  });

  it('a rejected reservation tells the tablet nothing; the ride end pays normally', async () => {
    const { sessionId, reference } = await scanAndReservation();
    expect((await control('POST', `/sandbox/vipps/payments/${reference}/reject`)).status).toBe(200);
    await hookDelivered(reference, 'aborted');
    expect(reservationRow(reference).status).toBe('rejected');
    expect(JSON.stringify(tablet.received)).not.toContain(reference);
    const rideId = uuidv7();
    const ack = await send(rideEnd(sessionId, rideId));
    expect(ack.ok).toBe(true);
    expect(ack.value.pspReference).not.toBe(reference);
    expect(await ledgerPayment(ack.value.pspReference)).toMatchObject({ state: 'CREATED', amount: 35_000 });
    expect((await control('POST', `/sandbox/vipps/payments/${ack.value.pspReference}/approve`)).status).toBe(200);
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ totalAmount: 35_000 });
    expect(eventsOf(tablet, 'order.failed', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`)).toHaveLength(0);
  });

  it('a reservation still waiting for the passenger at ride end is terminated and a normal payment pushed', async () => {
    const { token, sessionId, reference } = await scanAndReservation();
    const ack = await send(rideEnd(sessionId, uuidv7()));
    expect(ack.ok).toBe(true);
    expect(ack.value.pspReference).not.toBe(reference);
    await until(async () => (await ledgerPayment(reference))?.state === 'TERMINATED', 'the reservation terminated');
    const pushed = await paymentsOfToken(token);
    expect(pushed.find((p) => p.reference === ack.value.pspReference)).toMatchObject({ state: 'CREATED', amount: { value: 35_000 } });
  });

  it('a restart between the capture and the release: the release completes after the restart', async () => {
    const { sessionId, reference } = await scanAndReservation();
    await approveReservation(reference);
    blockCancel.add(reference);
    const rideId = uuidv7();
    const ack = await send(rideEnd(sessionId, rideId, 20_000, 2_000));
    expect(ack).toEqual({ ok: true, value: { pspReference: reference } });
    const paid = await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `${CAB}.${rideId}`);
    expect(paid.data).toMatchObject({ totalAmount: 22_000, pspOrderId: reference });
    await until(async () => (await ledgerPayment(reference))?.captured === 22_000, 'the capture');
    await until(() => reservationRow(reference).status === 'release_due', 'the release due');
    await sleep(300);
    expect(await ledgerPayment(reference)).toMatchObject({ captured: 22_000, cancelled: 0 });

    const port = Number(new URL(relay.url).port);
    const lastSeq = tablet.lastSeq;
    tablet.close();
    await relay.app.close();
    blockCancel.delete(reference);
    relay = await startRelay(port);
    await until(async () => (await ledgerPayment(reference))?.cancelled === RESERVED - 22_000, 'the release after the restart');
    await until(() => reservationRow(reference).status === 'settled', 'the reservation settled after the restart');
    expect(await ledgerPayment(reference)).toMatchObject({ authorized: RESERVED, captured: 22_000, cancelled: RESERVED - 22_000 });
    // The tablet, back online, gets no second order.paid.
    const token = (await admin(relay.url, 'POST', `/admin/cabs/${CAB}/rotate-token`)).body.deviceToken as string;
    tablet = connectTablet(relay.url, CAB, token, lastSeq);
    await waitForConnect(tablet);
    await sleep(300);
    expect(tablet.applied.filter((e) => e.type === 'order.paid')).toHaveLength(0);
  });
});
