/**
 * The payment rules the relay holds, not the tablet: the cab's currency, one ride per Vipps
 * check-in. A relay (temp db) with the Vipps and HitPay sandboxes over loopback, socket.io tablets.
 */
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { admin, connectTablet, makeSigner, startInProcess, tempDir, until, waitForConnect, type TestTablet } from './helpers.js';

let sb: Sandbox;
let relay: Awaited<ReturnType<typeof startInProcess>>;
const tablets: TestTablet[] = [];

async function control(method: string, route: string, json?: unknown) {
  const res = await fetch(sb.url + route, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

async function addCab(cabId: string, body: Record<string, unknown>) {
  const added = await admin(relay.url, 'PUT', `/admin/cabs/${cabId}`, body);
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  const tablet = connectTablet(relay.url, cabId, added.body.deviceToken);
  tablets.push(tablet);
  await waitForConnect(tablet);
  return { tablet, qrContent: added.body.qrContent as string | null };
}

async function eventOf<T extends RelayEvent['type']>(t: TestTablet, type: T, match: (e: Extract<RelayEvent, { type: T }>) => boolean = () => true) {
  let found: Extract<RelayEvent, { type: T }> | undefined;
  await until(() => {
    found = t.applied.find((e): e is Extract<RelayEvent, { type: T }> => e.type === type && match(e as Extract<RelayEvent, { type: T }>));
    return found !== undefined;
  }, `${type} on the tablet`);
  return found!;
}

const send = (t: TestTablet, payload: unknown): Promise<any> => t.socket.timeout(15_000).emitWithAck('payment.request', payload);

function request(psp: 'vipps' | 'hitpay', rideId: string, currency: string, over: Record<string, unknown> = {}) {
  const orderAmount = psp === 'vipps' ? 30_000 : 1_100;
  return {
    psp,
    rideId,
    attempt: 1,
    orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: orderAmount, vatRate: 9 }],
    orderAmount,
    tipAmount: 0,
    currency,
    ...over,
  };
}

const cabOf = async (cabId: string) => ((await admin(relay.url, 'GET', '/admin/cabs')).body.cabs as any[]).find((c) => c.cabId === cabId);

beforeAll(async () => {
  sb = await testSandbox();
  await control('POST', '/sandbox/vipps/settings', { webhookBackoffMs: [50, 100], webhookMaxAttempts: 5 });
  const dir = tempDir('cabpay-payment-rules-');
  relay = await startInProcess(dir, await makeSigner(dir), {
    vipps: { baseUrl: sb.url, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn },
    hitpay: { baseUrl: sb.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
    paymentSweepMs: 200,
  });
});

afterAll(async () => {
  for (const t of tablets) t.close();
  await relay?.app.close();
  await sb?.close();
});

describe('the cab’s currency', () => {
  it('PUT /admin/cabs takes an ISO 4217 code the PSP supports, and refuses others with invalid_currency', async () => {
    const put = (cabId: string, body: Record<string, unknown>) =>
      admin(relay.url, 'PUT', `/admin/cabs/${cabId}`, { qrCodes: [], plate: 'SHA 1 A', label: 'SG', ...body });
    for (const currency of ['SEK', 'JPY', 'XYZ', 'S', '']) {
      const res = await put('cab-cur-bad', { psp: 'hitpay', currency });
      expect(res.status, currency).toBe(400);
      expect(res.body.error.code).toBe('invalid_currency');
    }
    expect((await put('cab-cur-bad', { psp: 'hitpay', currency: 'JPY' })).body.error.message).toContain('hitpay takes SGD');
    expect((await put('cab-cur-bad', { psp: 'hitpay', currency: 'XYZ' })).body.error.message).toContain('not an ISO 4217 currency code');
    expect(await cabOf('cab-cur-bad')).toBeUndefined();

    expect((await put('cab-cur-ok', { psp: 'hitpay', currency: 'sgd' })).status).toBe(201);
    expect(await cabOf('cab-cur-ok')).toMatchObject({ psp: 'hitpay', currency: 'SGD' });
    // Without currency: the PSP's default for a new cab; kept on an update.
    expect((await put('cab-cur-default', { psp: 'vipps', qrCodes: ['cab-cur-default-qr'] })).status).toBe(201);
    expect(await cabOf('cab-cur-default')).toMatchObject({ currency: 'NOK' });
    expect((await put('cab-cur-default', { psp: 'vipps', qrCodes: ['cab-cur-default-qr'], currency: 'DKK' })).status).toBe(200);
    expect((await put('cab-cur-default', { psp: 'vipps', qrCodes: ['cab-cur-default-qr'] })).status).toBe(200);
    expect(await cabOf('cab-cur-default')).toMatchObject({ currency: 'DKK' });
    // Moved to a PSP that does not take the kept currency: refused until one is given.
    const moved = await put('cab-cur-default', { psp: 'hitpay' });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toMatchObject({ code: 'invalid_currency', message: expect.stringContaining('send currency with the PUT') });
    expect(await cabOf('cab-cur-default')).toMatchObject({ psp: 'vipps', currency: 'DKK' });
  });

  it('a HitPay payment request in SEK or JPY for an SGD cab is refused with wrong_currency, and HitPay is never asked', async () => {
    const { tablet } = await addCab('cab-sg-cur', { psp: 'hitpay', qrCodes: [], plate: 'SHA 2 B', label: 'SG 2', currency: 'SGD' });
    const before = (await control('GET', '/sandbox/hitpay/ledger')).body.payment_requests.length;
    for (const currency of ['SEK', 'JPY']) {
      const ack = await send(
        tablet,
        request(
          'hitpay',
          uuidv7(),
          currency,
          currency === 'JPY' ? { orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 1_100, vatRate: 9 }] } : {},
        ),
      );
      expect(ack, currency).toMatchObject({ ok: false, error: { code: 'wrong_currency', message: expect.stringContaining('charges in SGD') } });
    }
    expect((await control('GET', '/sandbox/hitpay/ledger')).body.payment_requests).toHaveLength(before);
    const ok = await send(tablet, request('hitpay', uuidv7(), 'SGD'));
    expect(ok).toMatchObject({ ok: true });
    const rows = (await control('GET', '/sandbox/hitpay/ledger')).body.payment_requests as any[];
    expect(rows).toHaveLength(before + 1);
    expect(rows.find((r) => r.id === ok.value.pspReference)).toMatchObject({ currency: 'SGD' });
  });

  it('a Vipps cab registered in DKK refuses a payment request in NOK', async () => {
    const { tablet } = await addCab('cab-dk-cur', { psp: 'vipps', qrCodes: ['cab-dk-cur-qr'], plate: 'DK 1', label: 'DK 1', currency: 'DKK' });
    const ack = await send(tablet, request('vipps', uuidv7(), 'NOK', { sessionId: 'vco_none' }));
    expect(ack).toMatchObject({ ok: false, error: { code: 'wrong_currency' } });
  });
});

describe('a Vipps check-in serves one ride', () => {
  it('a check-in from a paid ride is refused for a new ride (checkin_used); the first ride’s retry stays idempotent', async () => {
    const { tablet, qrContent } = await addCab('cab-no-once', { psp: 'vipps', qrCodes: ['cab-no-once-qr'], plate: 'EL 1', label: 'Oslo 1' });
    const scanned = await control('POST', '/sandbox/vipps/checkin', { qrContent });
    expect(scanned.status).toBe(200);
    const started = await eventOf(tablet, 'qr.session.started');
    const sessionId = started.data.sessionId;

    const rideA = uuidv7();
    const sentAt = Date.now();
    const first = await send(tablet, request('vipps', rideA, 'NOK', { sessionId }));
    expect(first).toMatchObject({ ok: true, value: { expiresAt: expect.any(String) } });
    // The deadline is Vipps' own expiry of a pushed payment (VIPPS_PAYMENT_TTL_S, 300 s).
    expect(Date.parse(first.value.expiresAt) - sentAt).toBeGreaterThan(290_000);
    expect(Date.parse(first.value.expiresAt) - sentAt).toBeLessThanOrEqual(300_000 + 5_000);
    expect(await send(tablet, request('vipps', rideA, 'NOK', { sessionId }))).toEqual(first);
    expect((await control('POST', `/sandbox/vipps/payments/${first.value.pspReference}/approve`)).status).toBe(200);
    await eventOf(tablet, 'order.paid', (e) => e.data.merchantOrderId === `cab-no-once.${rideA}`);

    const paymentsBefore = (await control('GET', '/sandbox/vipps/ledger')).body.payments.length;
    const rideB = uuidv7();
    const second = await send(
      tablet,
      request('vipps', rideB, 'NOK', {
        sessionId,
        orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 3_330_000, vatRate: 12 }],
        orderAmount: 3_330_000,
      }),
    );
    expect(second).toMatchObject({ ok: false, error: { code: 'checkin_used', message: expect.stringContaining('scan the QR again') } });
    // Concurrent tries of other rides: none gets it.
    const racing = await Promise.all([uuidv7(), uuidv7()].map((r) => send(tablet, request('vipps', r, 'NOK', { sessionId }))));
    for (const ack of racing) expect(ack).toMatchObject({ ok: false, error: { code: 'checkin_used' } });
    expect((await control('GET', '/sandbox/vipps/ledger')).body.payments).toHaveLength(paymentsBefore);
    // The first ride asking again still gets its own answer.
    expect(await send(tablet, request('vipps', rideA, 'NOK', { sessionId }))).toEqual(first);
  });

  it('two rides racing for one fresh check-in: exactly one gets it', async () => {
    const { tablet, qrContent } = await addCab('cab-no-race', { psp: 'vipps', qrCodes: ['cab-no-race-qr'], plate: 'EL 2', label: 'Oslo 2' });
    expect((await control('POST', '/sandbox/vipps/checkin', { qrContent })).status).toBe(200);
    const { data } = await eventOf(tablet, 'qr.session.started');
    const acks = await Promise.all([uuidv7(), uuidv7(), uuidv7()].map((r) => send(tablet, request('vipps', r, 'NOK', { sessionId: data.sessionId }))));
    expect(acks.filter((a) => a.ok)).toHaveLength(1);
    expect(acks.filter((a) => !a.ok && a.error.code === 'checkin_used')).toHaveLength(2);
  });
});
