import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { accessToken, C, req, startHookServer, vippsSandbox, waitFor, type Hook } from './vipps-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(settings: Record<string, unknown> = {}, status?: (hook: Hook, i: number) => number) {
  const v = await vippsSandbox(settings);
  cleanups.push(() => v.sandbox.close());
  const hooks = await startHookServer(status);
  cleanups.push(() => hooks.close());
  const reg = await v.api('POST', '/webhooks/v1/webhooks', {
    url: hooks.url,
    events: [
      'user.checked-in.v1',
      'epayments.payment.created.v1',
      'epayments.payment.authorized.v1',
      'epayments.payment.aborted.v1',
      'epayments.payment.expired.v1',
      'epayments.payment.terminated.v1',
      'epayments.payment.captured.v1',
      'epayments.payment.cancelled.v1',
      'epayments.payment.refunded.v1',
    ],
  });
  expect(reg.status).toBe(201);
  await v.api('PUT', '/qr/v1/merchant-callback/cab-42', { locationDescription: 'Taxi AB 123' });
  const qr = (await v.api('GET', '/qr/v1/merchant-callback/cab-42')).body;
  return { ...v, hooks, secret: reg.body.secret as string, webhookId: reg.body.id as string, qr };
}

async function checkIn(v: { base: string }, qrContent: string): Promise<string> {
  const r = await req(v.base, 'POST', '/sandbox/vipps/checkin', { body: { qrContent } });
  expect(r.status).toBe(200);
  return r.body.customerToken as string;
}

const paymentBody = (customerToken: string, reference: string, value = 25_000) => ({
  amount: { value, currency: 'NOK' },
  paymentMethod: { type: 'WALLET' },
  customer: { customerToken },
  customerInteraction: 'CUSTOMER_PRESENT',
  reference,
  userFlow: 'PUSH_MESSAGE',
  paymentDescription: 'Taxi ride',
});

const hooksNamed = (hooks: Hook[], name: string, reference?: string) =>
  hooks.filter((h) => h.body.name === name && (reference === undefined || h.body.reference === reference));

describe('Access token API', () => {
  it('issues a Bearer token with string times for the demo credentials and refuses others', async () => {
    const v = await vippsSandbox();
    cleanups.push(() => v.sandbox.close());
    const ok = await req(v.base, 'POST', '/accesstoken/get', {
      headers: { client_id: C.clientId, client_secret: C.clientSecret, 'Ocp-Apim-Subscription-Key': C.subscriptionKey, 'Merchant-Serial-Number': C.msn },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: '3600',
      ext_expires_in: '0',
      resource: expect.any(String),
      access_token: expect.any(String),
    });
    expect(Number(ok.body.expires_on) - Number(ok.body.not_before)).toBe(3600);

    const bad = await req(v.base, 'POST', '/accesstoken/get', {
      headers: { client_id: C.clientId, client_secret: 'wrong', 'Ocp-Apim-Subscription-Key': C.subscriptionKey },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body).toMatchObject({ type: 'https://httpstatuses.io/401', status: 401, instance: '/accesstoken/get', traceId: expect.any(String) });

    // No token, wrong subscription key, wrong MSN.
    expect((await req(v.base, 'GET', '/webhooks/v1/webhooks', { headers: { 'Ocp-Apim-Subscription-Key': C.subscriptionKey } })).status).toBe(401);
    expect((await v.api('GET', '/webhooks/v1/webhooks', undefined, { 'Ocp-Apim-Subscription-Key': 'nope' })).status).toBe(401);
    expect((await v.api('GET', '/webhooks/v1/webhooks', undefined, { 'Merchant-Serial-Number': '999999' })).status).toBe(403);
  });

  it('expires tokens after the configured lifetime', async () => {
    const v = await vippsSandbox({ accessTokenTtlSeconds: 1 });
    cleanups.push(() => v.sandbox.close());
    const token = await accessToken(v.base);
    const headers = { authorization: `Bearer ${token}`, 'Ocp-Apim-Subscription-Key': C.subscriptionKey };
    expect((await req(v.base, 'GET', '/webhooks/v1/webhooks', { headers })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await req(v.base, 'GET', '/webhooks/v1/webhooks', { headers });
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/expired/);
  });
});

describe('QR API: merchant callback', () => {
  it('creates, updates, reads, lists and deletes; 36 characters at most', async () => {
    const v = await vippsSandbox();
    cleanups.push(() => v.sandbox.close());
    expect((await v.api('PUT', '/qr/v1/merchant-callback/cab-1', { locationDescription: 'x'.repeat(36) })).status).toBe(204);
    const tooLong = await v.api('PUT', '/qr/v1/merchant-callback/cab-2', { locationDescription: 'x'.repeat(37) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.extraDetails).toEqual([{ name: 'locationDescription', reason: expect.stringMatching(/36/) }]);
    expect((await v.api('PUT', '/qr/v1/merchant-callback/cab-1', { locationDescription: 'Taxi 1' })).status).toBe(204);

    const one = await v.api('GET', '/qr/v1/merchant-callback/cab-1');
    expect(one.body).toEqual({
      merchantSerialNumber: C.msn,
      merchantQrId: 'cab-1',
      locationDescription: 'Taxi 1',
      qrImageUrl: `${v.base}/vipps/qr-image/${C.msn}/cab-1.svg`,
      qrContent: `${v.base}/vipps/qr/${C.msn}/cab-1`,
    });
    const svg = await req(v.base, 'GET', `/vipps/qr-image/${C.msn}/cab-1.svg`);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    // The camera opens the passenger app with the QR content.
    const opened = await req(v.base, 'GET', `/vipps/qr/${C.msn}/cab-1`);
    expect(opened.status).toBe(302);
    expect(opened.headers.get('location')).toBe(`/vipps/app?qr=${encodeURIComponent(one.body.qrContent)}`);

    expect((await v.api('GET', '/qr/v1/merchant-callback')).body.map((q: any) => q.merchantQrId)).toEqual(['cab-1']);
    expect((await v.api('DELETE', '/qr/v1/merchant-callback/cab-1')).status).toBe(204);
    expect((await v.api('GET', '/qr/v1/merchant-callback/cab-1')).status).toBe(404);
    expect((await req(v.base, 'POST', '/sandbox/vipps/checkin', { body: { qrContent: one.body.qrContent } })).status).toBe(404);
  });
});

describe('Webhooks API and signed deliveries', () => {
  it('registers, lists and deletes webhooks; delivers a check-in signed as documented, retrying after a 500', async () => {
    const v = await setup({}, (_h, i) => (i === 0 ? 500 : 200));
    const list = await v.api('GET', '/webhooks/v1/webhooks');
    expect(list.body.webhooks).toEqual([{ id: v.webhookId, url: v.hooks.url, events: expect.arrayContaining(['user.checked-in.v1']) }]);
    expect((await v.api('POST', '/webhooks/v1/webhooks', { url: v.hooks.url, events: ['no.such.event'] })).status).toBe(400);

    const token = await checkIn(v, v.qr.qrContent);
    await waitFor('two attempts', () => v.hooks.received.length >= 2);
    const [first, second] = v.hooks.received as [Hook, Hook];
    expect(first.raw).toBe(second.raw); // a retry sends the same event
    expect(second.body).toEqual({ customerToken: token, merchantQrId: 'cab-42', msn: C.msn, initiatedAt: expect.any(String) });

    // Verify step by step, as the relay will.
    const hash = createHash('sha256').update(second.raw).digest('base64');
    expect(second.headers['x-ms-content-sha256']).toBe(hash);
    expect(second.headers.host).toBe(new URL(v.hooks.url).host);
    expect(second.path).toBe('/hooks/vipps?cab=1');
    const signed = `POST\n${second.path}\n${second.headers['x-ms-date']};${second.headers.host};${hash}`;
    const signature = createHmac('sha256', v.secret).update(signed).digest('base64');
    expect(second.headers.authorization).toBe(`HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`);
    expect(Math.abs(Date.parse(second.headers['x-ms-date'] as string) - Date.now())).toBeLessThan(60_000);

    const ledger = (await req(v.base, 'GET', '/sandbox/vipps/ledger')).body;
    expect(ledger.webhooks).toEqual([expect.objectContaining({ event: 'user.checked-in.v1', status: 'delivered', attempts: 2, lastStatusCode: 200 })]);

    expect((await v.api('DELETE', `/webhooks/v1/webhooks/${v.webhookId}`)).status).toBe(204);
    await checkIn(v, v.qr.qrContent);
    expect((await v.api('GET', '/webhooks/v1/webhooks')).body.webhooks).toEqual([]);
    expect((await req(v.base, 'GET', '/sandbox/vipps/ledger')).body.webhooks).toHaveLength(1);
  });

  it('fails the next deliveries on the failWebhooks fault and still delivers at least once', async () => {
    const v = await setup();
    await req(v.base, 'POST', '/sandbox/vipps/faults', { body: { failWebhooks: 2, duplicateWebhooks: 1 } });
    await checkIn(v, v.qr.qrContent);
    await waitFor('a delivery and its duplicate', () => v.hooks.received.length >= 2);
    const ledger = (await req(v.base, 'GET', '/sandbox/vipps/ledger')).body;
    expect(ledger.webhooks[0]).toMatchObject({ status: 'delivered', attempts: 3, duplicates: 1 });
  });
});

describe('ePayment API', () => {
  it('validates create-payment requests with problem+json naming the field', async () => {
    const v = await setup();
    const token = await checkIn(v, v.qr.qrContent);
    const create = (body: unknown, key = `k-${Math.random()}`) => v.api('POST', '/epayment/v1/payments', body, { 'Idempotency-Key': key });

    const noKey = await v.api('POST', '/epayment/v1/payments', paymentBody(token, 'ride-0001'));
    expect(noKey.status).toBe(400);
    expect(noKey.body.extraDetails[0].name).toBe('(body)');

    const cases: [unknown, string][] = [
      [{ ...paymentBody(token, 'ride-0001'), amount: { value: 100, currency: 'SEK' } }, 'amount.currency'],
      [{ ...paymentBody(token, 'ride-0001'), amount: { value: 10.5, currency: 'NOK' } }, 'amount.value'],
      [{ ...paymentBody(token, 'ride-0001'), paymentMethod: { type: 'CARD' } }, 'paymentMethod.type'],
      [{ ...paymentBody(token, 'ride-0001'), customerInteraction: 'CUSTOMER_NOT_PRESENT' }, 'customerInteraction'],
      [{ ...paymentBody(token, 'ride-0001'), userFlow: 'WEB_REDIRECT' }, 'userFlow'],
      [paymentBody(token, 'short'), 'reference'],
      [paymentBody(token, 'has space ok'), 'reference'],
      [{ ...paymentBody(token, 'ride-0001'), customer: { phoneNumber: '4791234567' } }, 'customer.customerToken'],
    ];
    for (const [body, field] of cases) {
      const r = await create(body);
      expect(r.status, field).toBe(400);
      expect(r.body.type).toBe('https://httpstatuses.io/400');
      expect(
        r.body.extraDetails.map((d: any) => d.name),
        field,
      ).toContain(field);
    }
    const unknownToken = await create(paymentBody('not-a-token', 'ride-0001'));
    expect(unknownToken.status).toBe(400);
    expect(unknownToken.body.title).toBe('Invalid CustomerToken');

    await req(v.base, 'POST', `/sandbox/vipps/tokens/${encodeURIComponent(token)}/expire`);
    const expiredToken = await create(paymentBody(token, 'ride-0001'));
    expect(expiredToken.body.title).toBe('Invalid CustomerToken');
  });

  it('create → approve: AUTHORIZED with events; partial capture, cancel the rest, refund; ledger sums', async () => {
    const v = await setup();
    const token = await checkIn(v, v.qr.qrContent);
    const created = await v.api('POST', '/epayment/v1/payments', paymentBody(token, 'cab42-ride1-1'), { 'Idempotency-Key': 'create-1' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ reference: 'cab42-ride1-1', redirectUrl: expect.any(String) });

    const pushes = await req(v.base, 'GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(token)}`);
    expect(pushes.body.payments).toEqual([
      expect.objectContaining({ reference: 'cab42-ride1-1', state: 'CREATED', amount: { currency: 'NOK', value: 25_000 } }),
    ]);

    expect((await req(v.base, 'POST', '/sandbox/vipps/payments/cab42-ride1-1/approve')).status).toBe(200);
    const authorized = await waitFor('AUTHORIZED hook', () => hooksNamed(v.hooks.received, 'AUTHORIZED')[0]);
    expect(authorized.body).toEqual({
      msn: C.msn,
      reference: 'cab42-ride1-1',
      pspReference: expect.any(String),
      name: 'AUTHORIZED',
      amount: { currency: 'NOK', value: 25_000 },
      timestamp: expect.any(String),
      idempotencyKey: 'create-1',
      success: true,
    });
    const got = await v.api('GET', '/epayment/v1/payments/cab42-ride1-1');
    expect(got.body).toMatchObject({
      state: 'AUTHORIZED',
      amount: { currency: 'NOK', value: 25_000 },
      paymentMethod: { type: 'WALLET' },
      profile: {},
      reference: 'cab42-ride1-1',
    });
    expect(got.body.aggregate.authorizedAmount.value).toBe(25_000);

    const over = await v.api(
      'POST',
      '/epayment/v1/payments/cab42-ride1-1/capture',
      { modificationAmount: { currency: 'NOK', value: 25_001 } },
      { 'Idempotency-Key': 'cap-x' },
    );
    expect(over.status).toBe(400);
    expect(over.body.title).toBe('Capture amount too high');

    const cap = await v.api(
      'POST',
      '/epayment/v1/payments/cab42-ride1-1/capture',
      { modificationAmount: { currency: 'NOK', value: 20_000 } },
      { 'Idempotency-Key': 'cap-1' },
    );
    expect(cap.status).toBe(200);
    expect(cap.body).toMatchObject({ state: 'AUTHORIZED', aggregate: { capturedAmount: { value: 20_000 } } });
    const cancel = await v.api('POST', '/epayment/v1/payments/cab42-ride1-1/cancel', undefined, { 'Idempotency-Key': 'can-1' });
    expect(cancel.status).toBe(200);
    expect(cancel.body.aggregate).toEqual({
      authorizedAmount: { currency: 'NOK', value: 25_000 },
      cancelledAmount: { currency: 'NOK', value: 5000 },
      capturedAmount: { currency: 'NOK', value: 20_000 },
      refundedAmount: { currency: 'NOK', value: 0 },
    });
    const tooMuch = await v.api(
      'POST',
      '/epayment/v1/payments/cab42-ride1-1/refund',
      { modificationAmount: { currency: 'NOK', value: 20_001 } },
      { 'Idempotency-Key': 'ref-x' },
    );
    expect(tooMuch.status).toBe(400);
    const refund = await v.api(
      'POST',
      '/epayment/v1/payments/cab42-ride1-1/refund',
      { modificationAmount: { currency: 'NOK', value: 7000 } },
      { 'Idempotency-Key': 'ref-1' },
    );
    expect(refund.body.aggregate.refundedAmount.value).toBe(7000);

    await waitFor('REFUNDED hook', () => hooksNamed(v.hooks.received, 'REFUNDED')[0]);
    expect(hooksNamed(v.hooks.received, 'CAPTURED')[0]!.body.amount.value).toBe(20_000);
    expect(hooksNamed(v.hooks.received, 'CANCELLED')[0]!.body.amount.value).toBe(5000);
    expect(hooksNamed(v.hooks.received, 'REFUNDED')[0]!.body.idempotencyKey).toBe('ref-1');

    const events = await v.api('GET', '/epayment/v1/payments/cab42-ride1-1/events');
    expect(events.body.map((e: any) => [e.name, e.amount.value])).toEqual([
      ['CREATED', 25_000],
      ['AUTHORIZED', 25_000],
      ['CAPTURED', 20_000],
      ['CANCELLED', 5000],
      ['REFUNDED', 7000],
    ]);
    const ledger = (await req(v.base, 'GET', '/sandbox/vipps/ledger')).body;
    expect(ledger.totals).toEqual({ NOK: { authorized: 25_000, captured: 20_000, cancelled: 5000, refunded: 7000, net: 13_000 } });
    expect(ledger.payments[0].events.map((e: any) => e.name)).toEqual(['CREATED', 'AUTHORIZED', 'CAPTURED', 'CANCELLED', 'REFUNDED']);
  });

  it('replays the same answer for the same Idempotency-Key and body, 409 for another body', async () => {
    const v = await setup();
    const token = await checkIn(v, v.qr.qrContent);
    const body = paymentBody(token, 'cab42-ride2-1');
    const first = await v.api('POST', '/epayment/v1/payments', body, { 'Idempotency-Key': 'same' });
    const again = await v.api('POST', '/epayment/v1/payments', body, { 'Idempotency-Key': 'same' });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    const other = await v.api('POST', '/epayment/v1/payments', { ...body, amount: { value: 30_000, currency: 'NOK' } }, { 'Idempotency-Key': 'same' });
    expect(other.status).toBe(409);
    expect(other.body.title).toBe('Idempotency error');
    const dupRef = await v.api('POST', '/epayment/v1/payments', body, { 'Idempotency-Key': 'another' });
    expect(dupRef.status).toBe(409);

    await req(v.base, 'POST', '/sandbox/vipps/payments/cab42-ride2-1/approve');
    const capBody = { modificationAmount: { currency: 'NOK', value: 1000 } };
    await v.api('POST', '/epayment/v1/payments/cab42-ride2-1/capture', capBody, { 'Idempotency-Key': 'cap' });
    const capAgain = await v.api('POST', '/epayment/v1/payments/cab42-ride2-1/capture', capBody, { 'Idempotency-Key': 'cap' });
    expect(capAgain.body.aggregate.capturedAmount.value).toBe(1000); // not captured twice
    const ledger = (await req(v.base, 'GET', '/sandbox/vipps/ledger')).body;
    expect(ledger.payments.map((p: any) => p.reference)).toEqual(['cab42-ride2-1']);
    expect(ledger.totals.NOK.captured).toBe(1000);
  });

  it('reject → ABORTED; cancel before approval → TERMINATED; no approval in time → EXPIRED', async () => {
    const v = await setup({ paymentExpirySeconds: 1 });
    const token = await checkIn(v, v.qr.qrContent);
    for (const ref of ['ride-rejected', 'ride-terminated', 'ride-expired']) {
      expect((await v.api('POST', '/epayment/v1/payments', paymentBody(token, ref), { 'Idempotency-Key': ref })).status).toBe(201);
    }
    expect((await req(v.base, 'POST', '/sandbox/vipps/payments/ride-rejected/reject')).body.state).toBe('ABORTED');
    const terminated = await v.api('POST', '/epayment/v1/payments/ride-terminated/cancel', {}, { 'Idempotency-Key': 'c1' });
    expect(terminated.body.state).toBe('TERMINATED');
    await waitFor('EXPIRED hook', () => hooksNamed(v.hooks.received, 'EXPIRED', 'ride-expired')[0], 5000);
    expect((await v.api('GET', '/epayment/v1/payments/ride-expired')).body.state).toBe('EXPIRED');
    expect(hooksNamed(v.hooks.received, 'ABORTED', 'ride-rejected')).toHaveLength(1);
    expect(hooksNamed(v.hooks.received, 'TERMINATED', 'ride-terminated')).toHaveLength(1);
    const late = await req(v.base, 'POST', '/sandbox/vipps/payments/ride-expired/approve');
    expect(late.status).toBe(400);
    const capture = await v.api(
      'POST',
      '/epayment/v1/payments/ride-rejected/capture',
      { modificationAmount: { currency: 'NOK', value: 100 } },
      { 'Idempotency-Key': 'x' },
    );
    expect(capture.status).toBe(400);
  });

  it('approves through the documented test endpoint and fails create on the 503 fault', async () => {
    const v = await setup();
    const token = await checkIn(v, v.qr.qrContent);
    await req(v.base, 'POST', '/sandbox/vipps/faults', { body: { createPayment503: 1 } });
    const failed = await v.api('POST', '/epayment/v1/payments', paymentBody(token, 'ride-test-1'), { 'Idempotency-Key': 't1' });
    expect(failed.status).toBe(503);
    expect((await v.api('POST', '/epayment/v1/payments', paymentBody(token, 'ride-test-1'), { 'Idempotency-Key': 't1' })).status).toBe(201);
    expect((await v.api('POST', '/epayment/v1/test/payments/ride-test-1/approve', {})).status).toBe(200);
    expect((await v.api('GET', '/epayment/v1/payments/ride-test-1')).body.state).toBe('AUTHORIZED');
    expect((await v.api('GET', '/epayment/v1/payments/unknown-ref')).status).toBe(404);
  });
});

describe('passenger app page', () => {
  it('serves a self-contained phone page with the approve and reject controls', async () => {
    const v = await vippsSandbox();
    cleanups.push(() => v.sandbox.close());
    const page = await req(v.base, 'GET', '/vipps/app');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    for (const id of ['qr-input', 'scan-button', 'app-state', 'push-amount', 'approve-button', 'reject-button']) {
      expect(page.body).toContain(`data-testid="${id}"`);
    }
  });
});
