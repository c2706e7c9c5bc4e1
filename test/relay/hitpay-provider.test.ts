/** The HitPay provider against the real HitPay sandbox (loopback, temp database). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHitpayProvider, type HitpayProviderOptions } from '../../backend-relay/payments/hitpay-provider.js';
import type { PaymentAttempt } from '../../backend-relay/payments/payment-provider.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY } from '../../backend-relay/sandbox/hitpay/index.js';
import type { CabRecord } from '../../backend-relay/store/relay-store.js';
import type { PaymentRequest, RefundRequest } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

const cab: CabRecord = {
  cabId: 'cab-7',
  psp: 'hitpay',
  qrCodes: [],
  plate: 'SHA 1234 X',
  label: 'Taxi 7',
  currency: null,
  enabled: true,
  qrContent: null,
  tokenHash: 'x',
  createdAt: NOW.toISOString(),
  lastSeenAt: null,
  appVersion: null,
  rideState: null,
  outboxDepth: null,
  lastSeq: 0,
  ackedSeq: 0,
  backlog: 0,
};

let seq = 0;
function attempt(over: Partial<PaymentRequest> = {}): PaymentAttempt {
  seq += 1;
  const orderAmount = over.orderAmount ?? 1100;
  const request: PaymentRequest = {
    psp: 'hitpay',
    rideId: `ride-${seq}`,
    attempt: 1,
    orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: orderAmount, vatRate: 9 }],
    orderAmount,
    tipAmount: 150,
    currency: 'SGD',
    ...over,
  };
  return {
    cab,
    request,
    reference: `cab-7-${request.rideId}-${request.attempt}`,
    idempotencyKey: `cab-7-${request.rideId}-${request.attempt}`,
    webhookUrl: 'http://127.0.0.1:9/webhooks/hitpay',
  };
}

function refundOf(paymentId: string, amount: number, refundId = `rf-${++seq}`): RefundRequest {
  return {
    refundId,
    rideId: 'ride-x',
    merchantOrderId: 'cab-7.ride-x',
    psp: 'hitpay',
    pspOrderId: paymentId,
    amount,
    currency: 'SGD',
    reason: 'wrong fare',
    requestedBy: 'driver',
    requestedAt: NOW.toISOString(),
  };
}

interface SentCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

let sb: Sandbox;
let sent: SentCall[];

const recordingFetch: typeof fetch = async (input, init) => {
  sent.push({
    url: String(input),
    method: init?.method ?? 'GET',
    headers: { ...(init?.headers as Record<string, string>) },
    body: typeof init?.body === 'string' ? init.body : undefined,
  });
  return fetch(input, init);
};

function provider(over: Partial<HitpayProviderOptions> = {}) {
  return createHitpayProvider({
    baseUrl: sb.url,
    apiKey: HITPAY_DEMO_API_KEY,
    qrTtlSeconds: 600,
    fetch: recordingFetch,
    now: () => NOW,
    ...over,
  });
}

async function control(method: string, path: string, json?: unknown) {
  const res = await fetch(sb.url + path, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function ledgerRequest(id: string) {
  const { body } = await control('GET', '/sandbox/hitpay/ledger');
  return (body.payment_requests as any[]).find((r) => r.id === id);
}

async function created(p = provider(), a = attempt()) {
  const outcome = await p.createPayment(a);
  if (outcome.kind !== 'ok') throw new Error(`create: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

beforeAll(async () => {
  sb = await testSandbox();
});
afterAll(async () => {
  await sb.close();
});
beforeEach(async () => {
  sent = [];
  await control('DELETE', '/sandbox/hitpay/faults');
});

describe('createPayment', () => {
  it('sends the form HitPay expects and returns the PayNow QR', async () => {
    const a = attempt();
    const value = await created(provider(), a);

    const post = sent.find((c) => c.method === 'POST')!;
    expect(post.url).toBe(`${sb.url}/v1/payment-requests`);
    expect(post.headers['X-BUSINESS-API-KEY']).toBe(HITPAY_DEMO_API_KEY);
    expect(post.headers['X-Requested-With']).toBe('XMLHttpRequest');
    expect(post.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(post.body);
    expect(form.get('amount')).toBe('12.50'); // 1100 fare + 150 tip, as major-unit text
    expect(form.get('currency')).toBe('SGD');
    expect(form.getAll('payment_methods[]')).toEqual(['paynow_online']);
    expect(form.get('generate_qr')).toBe('true');
    expect(form.get('reference_number')).toBe(a.reference);
    expect(form.get('webhook')).toBe(a.webhookUrl);
    expect(form.get('purpose')).toBe('Taxi SHA 1234 X');
    expect(form.get('expires_after')).toBe('10 mins');
    expect(form.get('allow_repeated_payments')).toBe('false');

    expect(value.pspReference).toMatch(/\S/);
    expect(value.qr).toEqual({
      qrData: expect.stringContaining(value.pspReference),
      paymentRequestId: value.pspReference,
      expiresAt: '2026-03-01T10:10:00.000Z',
    });
    const row = await ledgerRequest(value.pspReference);
    expect(row).toMatchObject({ status: 'pending', amount_minor: 1250, currency: 'SGD', reference_number: a.reference });
  });

  it('rounds a TTL that is not whole minutes up, and reports the relay’s own deadline', async () => {
    const value = await created(provider({ qrTtlSeconds: 90 }));
    expect(new URLSearchParams(sent.find((c) => c.method === 'POST')!.body).get('expires_after')).toBe('2 mins');
    expect(value.qr?.expiresAt).toBe('2026-03-01T10:01:30.000Z');
  });

  it('maps a 422 to psp_refused with HitPay’s first validation message', async () => {
    const outcome = await provider().createPayment(attempt({ orderAmount: 10, tipAmount: 0 }));
    expect(outcome.kind).toBe('refused');
    if (outcome.kind !== 'refused') return;
    expect(outcome.code).toBe('psp_refused');
    expect(outcome.message).toMatch(/amount/i);
    expect(outcome.message).toMatch(/0\.3/);
  });

  it('maps a refused API key to psp_refused naming HITPAY_API_KEY', async () => {
    const outcome = await provider({ apiKey: 'not-the-key' }).createPayment(attempt());
    expect(outcome).toMatchObject({ kind: 'refused', code: 'psp_refused' });
    if (outcome.kind === 'refused') expect(outcome.message).toContain('HITPAY_API_KEY');
  });

  it.each([
    ['503', { createRequest503: 1 }],
    ['500', { createRequest500: 1 }],
  ])('asks for a retry on %s, and the retry succeeds', async (_code, fault) => {
    await control('POST', '/sandbox/hitpay/faults', fault);
    const p = provider();
    const a = attempt();
    expect((await p.createPayment(a)).kind).toBe('retry');
    expect((await p.createPayment(a)).kind).toBe('ok');
  });

  it('asks for a retry when HitPay does not answer in time', async () => {
    await control('POST', '/sandbox/hitpay/faults', { createRequestTimeout: 1, createRequestHangMs: 1500, createRequestAfterHang: 'drop' });
    const outcome = await provider({ timeoutMs: 300 }).createPayment(attempt());
    expect(outcome.kind).toBe('retry');
    if (outcome.kind === 'retry') expect(outcome.reason).toMatch(/did not answer/);
  });

  it('asks for a retry when HitPay cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await provider({ baseUrl: `http://127.0.0.1:${port}` }).createPayment(attempt());
    expect(outcome.kind).toBe('retry');
    if (outcome.kind === 'retry') expect(outcome.reason).toMatch(/cannot reach HitPay/);
  });
});

describe('cancelPayment', () => {
  it('deletes a live request; again, or for an unknown id, is still ok', async () => {
    const p = provider();
    const { pspReference } = await created(p);
    expect(await p.cancelPayment(pspReference, cab)).toEqual({ kind: 'ok', value: null });
    expect((await ledgerRequest(pspReference)).status).toBe('canceled');
    expect(sent.some((c) => c.method === 'DELETE' && c.url.endsWith(`/v1/payment-requests/${pspReference}`))).toBe(true);
    expect(await p.cancelPayment(pspReference, cab)).toEqual({ kind: 'ok', value: null });
    expect(await p.cancelPayment('00000000-0000-7000-8000-000000000000', cab)).toEqual({ kind: 'ok', value: null });
  });

  it('refuses a paid request with already_paid', async () => {
    const p = provider();
    const { pspReference } = await created(p);
    expect((await control('POST', `/sandbox/hitpay/payment-requests/${pspReference}/pay`)).status).toBe(200);
    const outcome = await p.cancelPayment(pspReference, cab);
    expect(outcome).toMatchObject({ kind: 'refused', code: 'already_paid' });
    expect((await ledgerRequest(pspReference)).status).toBe('completed');
  });
});

describe('refund', () => {
  it('refunds part, refuses more than is left, then refunds the rest', async () => {
    const p = provider();
    const { pspReference } = await created(p);
    const paid = await control('POST', `/sandbox/hitpay/payment-requests/${pspReference}/pay`);
    const paymentId = paid.body.payment_id as string;

    const first = await p.refund(refundOf(paymentId, 500), cab);
    expect(first.kind).toBe('ok');
    const post = sent.filter((c) => c.url.endsWith('/v1/refund')).at(-1)!;
    expect(Object.fromEntries(new URLSearchParams(post.body))).toEqual({ amount: '5.00', payment_id: paymentId });

    const over = await p.refund(refundOf(paymentId, 800), cab);
    expect(over).toMatchObject({ kind: 'refused', code: 'refund_refused' });
    if (over.kind === 'refused') expect(over.message).toMatch(/\S/);

    const rest = await p.refund(refundOf(paymentId, 750), cab);
    expect(rest.kind).toBe('ok');
    if (first.kind === 'ok' && rest.kind === 'ok') expect(rest.value.pspRefundId).not.toBe(first.value.pspRefundId);

    const { body } = await control('GET', '/sandbox/hitpay/ledger');
    const payment = (body.payments as any[]).find((x) => x.id === paymentId);
    expect(payment.refunded_minor).toBe(1250);
  });

  it('refuses a refund of an unknown payment', async () => {
    const outcome = await provider().refund(refundOf('00000000-0000-7000-8000-000000000000', 100), cab);
    expect(outcome).toMatchObject({ kind: 'refused', code: 'refund_refused' });
  });
});

describe('duplicate guard (a HitPay that lists payment requests by reference)', () => {
  /** A scripted HitPay: the list answer is given; every call is recorded. */
  function scripted(list: unknown[]) {
    const calls: { method: string; url: string }[] = [];
    const f: typeof fetch = async (input, init) => {
      const method = init?.method ?? 'GET';
      calls.push({ method, url: String(input) });
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
      if (method === 'GET' && String(input).includes('/v1/payment-requests?')) return json(200, { data: list });
      if (method === 'DELETE') return json(200, { success: true });
      if (method === 'POST') return json(201, { id: 'req-new', status: 'pending', qr_code_data: { qr_code: 'QR-NEW' } });
      return json(404, { message: 'not found' });
    };
    return { calls, provider: createHitpayProvider({ baseUrl: 'http://hitpay.test', apiKey: 'k', qrTtlSeconds: 600, fetch: f, now: () => NOW }) };
  }

  it('reuses the live request of a retried attempt instead of creating a second one', async () => {
    const a = attempt();
    const { calls, provider: p } = scripted([
      { id: 'req-other', status: 'pending', reference_number: `${a.reference}0`, amount: '12.50', currency: 'sgd', qr_code_data: { qr_code: 'QR-X' } },
      { id: 'req-old', status: 'pending', reference_number: a.reference, amount: '12.50', currency: 'sgd', qr_code_data: { qr_code: 'QR-OLD' } },
    ]);
    const outcome = await p.createPayment(a);
    expect(outcome).toMatchObject({ kind: 'ok', value: { pspReference: 'req-old', qr: { qrData: 'QR-OLD', paymentRequestId: 'req-old' } } });
    expect(calls.map((c) => c.method)).toEqual(['GET']);
    expect(new URL(calls[0]!.url).searchParams.get('search')).toBe(a.reference);
  });

  it('deletes a live request it cannot reuse, then creates one', async () => {
    const a = attempt();
    const { calls, provider: p } = scripted([{ id: 'req-old', status: 'pending', reference_number: a.reference, amount: '99.00', currency: 'sgd' }]);
    const outcome = await p.createPayment(a);
    expect(outcome).toMatchObject({ kind: 'ok', value: { pspReference: 'req-new' } });
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      'GET /v1/payment-requests',
      'DELETE /v1/payment-requests/req-old',
      'POST /v1/payment-requests',
    ]);
  });
});
