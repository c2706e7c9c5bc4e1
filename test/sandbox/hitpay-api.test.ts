/** HitPay sandbox merchant API: auth, validation, create/get/QR, delete, expiry, refunds, ledger. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { sgtString } from '../../backend-relay/sandbox/hitpay/time.js';
import { ctl, hitpaySandbox, hp, paynowForm } from './hitpay-helpers.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await hitpaySandbox();
});
afterAll(() => sandbox.close());

const create = (form: [string, string][]) => hp(sandbox.url, 'POST', '/v1/payment-requests', { form });

describe('authentication', () => {
  it('answers 401 without or with a wrong X-BUSINESS-API-KEY, and creates nothing', async () => {
    const missing = await hp(sandbox.url, 'POST', '/v1/payment-requests', { form: paynowForm(null), key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.message).toMatch(/X-BUSINESS-API-KEY/);
    const wrong = await hp(sandbox.url, 'GET', '/v1/payment-requests/abc', { key: 'not-the-key' });
    expect(wrong.status).toBe(401);
    const ledger = await ctl(sandbox.url, 'GET', '/sandbox/hitpay/ledger');
    expect(ledger.body.payment_requests.some((r: any) => r.reference_number === 'cab7-ride42-1')).toBe(false);
  });
});

describe('validation (422 {message, errors})', () => {
  it('names the missing required fields, Laravel style', async () => {
    const res = await create([['payment_methods[]', 'paynow_online']]);
    expect(res.status).toBe(422);
    expect(res.body.errors.amount).toEqual(['The amount field is required.']);
    expect(res.body.errors.currency).toEqual(['The currency field is required.']);
    expect(res.body.message).toBe('The amount field is required. (and 1 more error)');
  });

  it.each([
    ['0.29', 'The amount must be between 0.3 and 999999999.99.'],
    ['1000000000.00', 'The amount must be between 0.3 and 999999999.99.'],
    ['12.345', 'The amount must have at most 2 decimal places for SGD.'],
    ['-5', 'The amount must be a number.'],
    ['1e3', 'The amount must be a number.'],
  ])('rejects amount %s', async (amount, message) => {
    const res = await create([
      ['amount', amount],
      ['currency', 'SGD'],
    ]);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ amount: [message] });
  });

  it('accepts the minimum 0.30 and a trailing zero beyond the currency digits', async () => {
    const a = await create([
      ['amount', '0.30'],
      ['currency', 'sgd'],
    ]);
    expect(a.status).toBe(201);
    expect(a.body.amount).toBe('0.30');
    const b = await create([
      ['amount', '7.500'],
      ['currency', 'SGD'],
    ]);
    expect(b.status).toBe(201);
    expect(b.body.amount).toBe('7.50');
  });

  it('rejects unknown methods, bad URLs, a QR without a QR method and bad expiries', async () => {
    const res = await create([
      ['amount', '10'],
      ['currency', 'XYZ'],
      ['payment_methods[]', 'bitcoin'],
      ['webhook', 'ftp://relay/hook'],
      ['email', 'nope'],
    ]);
    expect(res.status).toBe(422);
    expect(res.body.errors.currency).toEqual(['The selected currency is invalid.']);
    expect(res.body.errors.payment_methods).toEqual(['The selected payment methods is invalid.']);
    expect(res.body.errors.webhook).toEqual(['The webhook format is invalid.']);
    expect(res.body.errors.email).toEqual(['The email must be a valid email address.']);

    const noQrMethod = await create([
      ['amount', '10'],
      ['currency', 'SGD'],
      ['payment_methods[]', 'card'],
      ['generate_qr', 'true'],
    ]);
    expect(noQrMethod.status).toBe(422);
    expect(noQrMethod.body.errors.payment_methods[0]).toMatch(/paynow_online/);

    const past = await create([
      ['amount', '10'],
      ['currency', 'SGD'],
      ['expiry_date', '2020-01-01 00:00:00'],
    ]);
    expect(past.body.errors.expiry_date).toEqual(['The expiry date must be a date after now.']);
    const badAfter = await create([
      ['amount', '10'],
      ['currency', 'SGD'],
      ['expires_after', 'soon'],
    ]);
    expect(badAfter.status).toBe(422);
    expect(Object.keys(badAfter.body.errors)).toEqual(['expires_after']);
  });
});

describe('create and get', () => {
  it('creates a PayNow QR request (form-encoded) with the HitPay response shape', async () => {
    const res = await create(
      paynowForm('http://127.0.0.1:9/hook', [
        ['purpose', 'Taxi fare'],
        ['expires_after', '10 minutes'],
      ]),
    );
    expect(res.status).toBe(201);
    const pr = res.body;
    expect(pr).toMatchObject({
      amount: '12.50',
      currency: 'sgd',
      status: 'pending',
      purpose: 'Taxi fare',
      reference_number: 'cab7-ride42-1',
      payment_methods: ['paynow_online'],
      webhook: 'http://127.0.0.1:9/hook',
      redirect_url: null,
      name: null,
      email: null,
      phone: null,
      send_sms: true,
      send_email: false,
      allow_repeated_payments: false,
    });
    expect(pr.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(pr.qr_code_data.qr_code).toBe(`${sandbox.url}/hitpay/paynow/${pr.id}`);
    expect(pr.qr_code_data.qr_code_expiry).toBe(pr.expiry_date);
    // SGT wall-clock without offset, ~10 minutes after creation.
    expect(pr.expiry_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const minutes = (Date.parse(`${pr.expiry_date}+08:00`) - Date.parse(`${pr.created_at}+08:00`)) / 60_000;
    expect(minutes).toBeGreaterThanOrEqual(9.9);
    expect(minutes).toBeLessThanOrEqual(10.1);
    expect(pr).not.toHaveProperty('payments');

    const got = await hp(sandbox.url, 'GET', `/v1/payment-requests/${pr.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: pr.id, status: 'pending', amount: '12.50', payments: [] });
    expect(got.body.qr_code_data).toEqual(pr.qr_code_data);
  });

  it('also takes JSON bodies with a numeric amount', async () => {
    const res = await hp(sandbox.url, 'POST', '/v1/payment-requests', {
      json: { amount: 25.4, currency: 'SGD', payment_methods: ['paynow_online'], generate_qr: true },
    });
    expect(res.status).toBe(201);
    expect(res.body.amount).toBe('25.40');
    expect(res.body.qr_code_data.qr_code_expiry).toBeNull();
  });

  it("answers 404 with HitPay's message for an unknown id", async () => {
    const res = await hp(sandbox.url, 'GET', '/v1/payment-requests/00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/^No query results for model \[App\\Business\\PaymentRequest\]/);
  });

  it('serves the phone page the QR opens, with merchant, amount and both buttons', async () => {
    const { body } = await create(paynowForm(null));
    const page = await fetch(body.qr_code_data.qr_code);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-testid="amount">SGD 12.50<');
    expect(html).toContain('Pay with PayNow');
    expect(html).toContain('Decline');
    expect(html).toContain('Sandbox Taxi');
  });
});

describe('lifecycle', () => {
  it('DELETE cancels a pending request; a canceled one cannot be paid', async () => {
    const { body } = await create(paynowForm(null));
    const del = await hp(sandbox.url, 'DELETE', `/v1/payment-requests/${body.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ success: true });
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${body.id}`)).body.status).toBe('canceled');
    const pay = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${body.id}/pay`);
    expect(pay.status).toBe(409);
    expect(pay.body.status).toBe('canceled');
    // Deleting again is harmless.
    expect((await hp(sandbox.url, 'DELETE', `/v1/payment-requests/${body.id}`)).status).toBe(200);
  });

  it('DELETE refuses a completed request', async () => {
    const { body } = await create(paynowForm(null));
    await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${body.id}/pay`);
    const del = await hp(sandbox.url, 'DELETE', `/v1/payment-requests/${body.id}`);
    expect(del.status).toBe(400);
    expect(del.body.message).toMatch(/completed payment request cannot be deleted/);
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${body.id}`)).body.status).toBe('completed');
  });

  it('expires after expiry_date and then cannot be paid', async () => {
    const soon = sgtString(Date.now() + 1500);
    const { body, status } = await create(paynowForm(null, [['expiry_date', soon.replace('T', ' ')]]));
    expect(status).toBe(201);
    expect(body.expiry_date).toBe(soon);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${body.id}`)).body.status).toBe('expired');
    const pay = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${body.id}/pay`);
    expect(pay.status).toBe(409);
    expect(pay.body.message).toMatch(/expired/);
  });

  it('expires_after in seconds (sandbox extension) also expires', async () => {
    const { body } = await create(paynowForm(null, [['expires_after', '1 second']]));
    await new Promise((r) => setTimeout(r, 1200));
    const pay = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${body.id}/fail`);
    expect(pay.status).toBe(409);
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${body.id}`)).body.status).toBe('expired');
  });
});

describe('refunds', () => {
  it('refunds partially, then the rest, and refuses more with 422', async () => {
    const { body: pr } = await create(paynowForm(null));
    const paid = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${pr.id}/pay`);
    expect(paid.status).toBe(200);
    const paymentId = paid.body.payment_id;

    const first = await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '5.00'],
        ['payment_id', paymentId],
      ],
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      payment_id: paymentId,
      amount_refunded: 5,
      total_amount: 12.5,
      currency: 'sgd',
      status: 'succeeded',
      payment_method: 'paynow_online',
    });
    expect(first.body.id).toMatch(/^[0-9a-f-]{36}$/);

    const over = await hp(sandbox.url, 'POST', '/v1/refund', { json: { amount: 7.51, payment_id: paymentId } });
    expect(over.status).toBe(422);
    expect(over.body.errors.amount[0]).toMatch(/refundable amount 7\.50/);

    const rest = await hp(sandbox.url, 'POST', '/v1/refund', { json: { amount: 7.5, payment_id: paymentId } });
    expect(rest.status).toBe(200);
    expect(rest.body.amount_refunded).toBe(7.5);

    const more = await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '0.01'],
        ['payment_id', paymentId],
      ],
    });
    expect(more.status).toBe(422);

    const got = await hp(sandbox.url, 'GET', `/v1/payment-requests/${pr.id}`);
    expect(got.body.payments[0]).toMatchObject({ id: paymentId, status: 'refunded', amount: '12.50', refunded_amount: '12.50' });
  });

  it('GET /v1/charges/{id} shows what was refunded of a payment, and each refund; an unknown id is 404', async () => {
    const { body: pr } = await create(paynowForm(null));
    const paymentId = (await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${pr.id}/pay`)).body.payment_id;
    expect((await hp(sandbox.url, 'GET', `/v1/charges/${paymentId}`)).body).toMatchObject({ id: paymentId, refunded_amount: '0.00', refunds: [] });
    await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '2.00'],
        ['payment_id', paymentId],
      ],
    });
    await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '0.50'],
        ['payment_id', paymentId],
      ],
    });
    const charge = await hp(sandbox.url, 'GET', `/v1/charges/${paymentId}`);
    expect(charge.status).toBe(200);
    expect(charge.body).toMatchObject({ id: paymentId, payment_request_id: pr.id, amount: '12.50', refunded_amount: '2.50', status: 'partially_refunded' });
    expect(charge.body.refunds.map((r: { amount_refunded: number }) => r.amount_refunded)).toEqual([2, 0.5]);
    expect((await hp(sandbox.url, 'GET', '/v1/charges/nope')).status).toBe(404);
  });

  it('the late-answer fault books a refund at once and answers it only after lateAnswerMs', async () => {
    const { body: pr } = await create(paynowForm(null));
    const paymentId = (await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${pr.id}/pay`)).body.payment_id;
    expect((await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { lateRefunds: 1, lateAnswerMs: 1_000 })).status).toBe(200);
    const started = Date.now();
    const answer = hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '1.00'],
        ['payment_id', paymentId],
      ],
    });
    // Booked before the answer: the charge already shows it.
    let seen = '0.00';
    while (seen === '0.00' && Date.now() - started < 5_000) seen = (await hp(sandbox.url, 'GET', `/v1/charges/${paymentId}`)).body.refunded_amount;
    expect(seen).toBe('1.00');
    expect((await answer).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect((await ctl(sandbox.url, 'GET', '/sandbox/hitpay/faults')).body).toMatchObject({ lateRefunds: 0, answeredLate: 1 });
    await ctl(sandbox.url, 'DELETE', '/sandbox/hitpay/faults');
  });

  it('validates the refund body and refuses a failed payment', async () => {
    const missing = await hp(sandbox.url, 'POST', '/v1/refund', { form: [['amount', '1.00']] });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual({ payment_id: ['The payment id field is required.'] });

    const { body: pr } = await create(paynowForm(null));
    const failed = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${pr.id}/fail`);
    const res = await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '1.00'],
        ['payment_id', failed.body.payment_id],
      ],
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors)).toEqual(['payment_id']);

    const unknown = await hp(sandbox.url, 'POST', '/v1/refund', {
      form: [
        ['amount', '1.00'],
        ['payment_id', 'nope'],
      ],
    });
    expect(unknown.status).toBe(404);
  });
});

describe('create faults', () => {
  it('answers 503 then works; a hang with drop closes the socket without creating', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { createRequest503: 1 });
    expect((await create(paynowForm(null))).status).toBe(503);
    expect((await create(paynowForm(null))).status).toBe(201);

    const before = (await ctl(sandbox.url, 'GET', '/sandbox/hitpay/ledger')).body.payment_requests.length;
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { createRequestTimeout: 1, createRequestHangMs: 50, createRequestAfterHang: 'drop' });
    await expect(create(paynowForm(null))).rejects.toThrow();
    const after = (await ctl(sandbox.url, 'GET', '/sandbox/hitpay/ledger')).body.payment_requests.length;
    expect(after).toBe(before);
    await ctl(sandbox.url, 'DELETE', '/sandbox/hitpay/faults');
  });

  it('rejects unknown fault names', async () => {
    const res = await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { failEverything: 1 });
    expect(res.status).toBe(422);
  });
});

describe('ledger', () => {
  it('reconciles requests, payments and refunds in minor and major units', async () => {
    const fresh = await hitpaySandbox();
    try {
      const make = (amount: string) =>
        hp(fresh.url, 'POST', '/v1/payment-requests', {
          form: [
            ['amount', amount],
            ['currency', 'SGD'],
            ['payment_methods[]', 'paynow_online'],
          ],
        });
      const a = (await make('10.00')).body;
      const b = (await make('3.35')).body;
      const c = (await make('99.99')).body;
      const pa = (await ctl(fresh.url, 'POST', `/sandbox/hitpay/payment-requests/${a.id}/pay`)).body;
      await ctl(fresh.url, 'POST', `/sandbox/hitpay/payment-requests/${b.id}/pay`);
      await ctl(fresh.url, 'POST', `/sandbox/hitpay/payment-requests/${c.id}/fail`);
      await hp(fresh.url, 'POST', '/v1/refund', {
        form: [
          ['amount', '2.5'],
          ['payment_id', pa.payment_id],
        ],
      });

      const { body } = await ctl(fresh.url, 'GET', '/sandbox/hitpay/ledger');
      expect(body.payment_requests.map((r: any) => [r.amount_minor, r.amount, r.status])).toEqual([
        [1000, '10.00', 'completed'],
        [335, '3.35', 'completed'],
        [9999, '99.99', 'failed'],
      ]);
      expect(body.payments).toHaveLength(3);
      expect(body.refunds).toEqual([expect.objectContaining({ payment_id: pa.payment_id, amount_minor: 250, amount: '2.50', currency: 'SGD' })]);
      expect(body.totals.SGD).toEqual({
        charged_minor: 1335,
        refunded_minor: 250,
        net_minor: 1085,
        charged: '13.35',
        refunded: '2.50',
        net: '10.85',
      });
    } finally {
      await fresh.close();
    }
  });
});
