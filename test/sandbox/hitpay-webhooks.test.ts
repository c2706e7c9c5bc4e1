/** HitPay sandbox webhooks: legacy hmac step by step, JSON signature, retries, duplicates, tamper, failure. */
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { jsonHitpaySignature, legacyHitpayHmac } from '../../backend-relay/sandbox/hitpay/hmac.js';
import { HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import { ctl, hitpaySandbox, hp, ledgerWhen, paynowForm, rawReceiver } from './hitpay-helpers.js';

let sandbox: Sandbox;
let receiver: Awaited<ReturnType<typeof rawReceiver>>;
let statusFor: (i: number) => number = () => 200;

beforeAll(async () => {
  sandbox = await hitpaySandbox();
  receiver = await rawReceiver((i) => statusFor(i));
});
afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});
afterEach(async () => {
  statusFor = () => 200;
  receiver.received.length = 0;
  await ctl(sandbox.url, 'DELETE', '/sandbox/hitpay/faults');
  await ctl(sandbox.url, 'POST', '/sandbox/hitpay/config', { webhookStyle: 'legacy' });
});

async function createAnd(action: 'pay' | 'fail', form = paynowForm(receiver.url)) {
  const created = await hp(sandbox.url, 'POST', '/v1/payment-requests', { form });
  expect(created.status).toBe(201);
  const settled = await ctl(sandbox.url, 'POST', `/sandbox/hitpay/payment-requests/${created.body.id}/${action}`);
  expect(settled.status).toBe(200);
  return { request: created.body, payment: settled.body };
}

describe('legacy (form-encoded) webhook', () => {
  it('is sent on completion with the documented fields and an hmac that verifies step by step', async () => {
    const { request, payment } = await createAnd('pay');
    expect(payment.status).toBe('completed');
    await receiver.waitFor(1);
    const hook = receiver.received[0]!;
    expect(hook.path).toBe('/hooks/hitpay');
    expect(hook.headers['content-type']).toBe('application/x-www-form-urlencoded');

    const fields = Object.fromEntries(new URLSearchParams(hook.raw));
    expect(Object.keys(fields).sort()).toEqual(['amount', 'currency', 'hmac', 'payment_id', 'payment_request_id', 'phone', 'reference_number', 'status']);
    expect(fields).toMatchObject({
      payment_id: payment.payment_id,
      payment_request_id: request.id,
      phone: '',
      amount: '12.50',
      currency: 'SGD',
      status: 'completed',
      reference_number: 'cab7-ride42-1',
    });

    // 1. drop hmac, 2. sort by key, 3. concatenate key+value, 4. HMAC-SHA256 with the salt, hex.
    const { hmac, ...rest } = fields;
    const signed = Object.keys(rest)
      .sort()
      .map((k) => `${k}${rest[k]}`)
      .join('');
    expect(signed.startsWith('amount12.50currencySGDpayment_id')).toBe(true);
    expect(signed).toContain('phonereference_numbercab7-ride42-1statuscompleted');
    const expected = createHmac('sha256', HITPAY_DEMO_SALT).update(signed).digest('hex');
    expect(hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(hmac).toBe(expected);
    expect(legacyHitpayHmac(rest, HITPAY_DEMO_SALT)).toBe(expected);
    // Another salt or a changed field does not verify.
    expect(legacyHitpayHmac(rest, 'other-salt')).not.toBe(hmac);
    expect(legacyHitpayHmac({ ...rest, amount: '12.51' }, HITPAY_DEMO_SALT)).not.toBe(hmac);

    const got = await hp(sandbox.url, 'GET', `/v1/payment-requests/${request.id}`);
    expect(got.body.status).toBe('completed');
    expect(got.body.payments).toEqual([expect.objectContaining({ id: payment.payment_id, status: 'succeeded', amount: '12.50' })]);
  });

  it('reports a declined payment as failed', async () => {
    const { request, payment } = await createAnd('fail');
    expect(payment).toMatchObject({ status: 'failed', payment_status: 'failed' });
    await receiver.waitFor(1);
    const fields = Object.fromEntries(new URLSearchParams(receiver.received[0]!.raw));
    expect(fields).toMatchObject({ status: 'failed', payment_request_id: request.id, payment_id: payment.payment_id });
    const { hmac, ...rest } = fields;
    expect(legacyHitpayHmac(rest, HITPAY_DEMO_SALT)).toBe(hmac);
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${request.id}`)).body.status).toBe('failed');
  });

  it('sends nothing when the request has no webhook URL', async () => {
    await createAnd('pay', paynowForm(null));
    await createAnd('pay'); // a second one with a webhook, to know deliveries have run
    await receiver.waitFor(1);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('JSON event webhook', () => {
  it('signs the raw body with Hitpay-Signature and names the event in the headers', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/config', { webhookStyle: 'json' });
    expect((await ctl(sandbox.url, 'GET', '/sandbox/hitpay/config')).body).toEqual({ webhookStyle: 'json' });
    const { request, payment } = await createAnd('pay');
    await receiver.waitFor(1);
    const hook = receiver.received[0]!;
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['hitpay-event-type']).toBe('completed');
    expect(hook.headers['hitpay-event-object']).toBe('payment_request');
    expect(hook.headers['user-agent']).toBe('HitPay v2.0');
    const expected = createHmac('sha256', HITPAY_DEMO_SALT).update(hook.raw).digest('hex');
    expect(hook.headers['hitpay-signature']).toBe(expected);
    expect(jsonHitpaySignature(hook.raw, HITPAY_DEMO_SALT)).toBe(expected);
    const body = JSON.parse(hook.raw);
    expect(body).toMatchObject({ id: request.id, status: 'completed', amount: '12.50', currency: 'sgd', reference_number: 'cab7-ride42-1' });
    expect(body.payments).toEqual([expect.objectContaining({ id: payment.payment_id, status: 'succeeded', amount: '12.50' })]);
  });

  it('sends both styles for one payment when configured "both"', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/config', { webhookStyle: 'both' });
    await createAnd('pay');
    await receiver.waitFor(2);
    const types = receiver.received.map((h) => h.headers['content-type']).sort();
    expect(types).toEqual(['application/json', 'application/x-www-form-urlencoded']);
  });

  it('refuses an unknown style', async () => {
    const res = await ctl(sandbox.url, 'POST', '/sandbox/hitpay/config', { webhookStyle: 'xml' });
    expect(res.status).toBe(422);
    expect(res.body.errors.webhookStyle[0]).toMatch(/legacy/);
  });
});

describe('delivery', () => {
  it('retries after a 500 with the same bytes until a 2xx', async () => {
    statusFor = (i) => (i < 2 ? 500 : 200);
    const { request } = await createAnd('pay');
    await receiver.waitFor(3);
    const [a, b, c] = receiver.received;
    expect(b!.raw).toBe(a!.raw);
    expect(c!.raw).toBe(a!.raw);
    const ledger = await ledgerWhen(sandbox.url, (l) => l.webhooks.some((w: any) => w.payment_request_id === request.id && w.status === 'delivered'));
    const row = ledger.webhooks.find((w: any) => w.payment_request_id === request.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, style: 'legacy', event: 'payment_request.completed' });
  });

  it('gives up after maxAttempts and records the failure', async () => {
    statusFor = () => 503;
    const { request } = await createAnd('pay');
    const ledger = await ledgerWhen(sandbox.url, (l) => l.webhooks.some((w: any) => w.payment_request_id === request.id && w.status === 'failed'));
    const row = ledger.webhooks.find((w: any) => w.payment_request_id === request.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 4, last_status_code: 503 });
    expect(receiver.received).toHaveLength(4);
  });

  it('failWebhooks counts attempts that are not sent; the hook still arrives once', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { failWebhooks: 2 });
    const { request } = await createAnd('pay');
    const ledger = await ledgerWhen(sandbox.url, (l) => l.webhooks.some((w: any) => w.payment_request_id === request.id && w.status === 'delivered'));
    expect(ledger.webhooks.find((w: any) => w.payment_request_id === request.id).attempts).toBe(3);
    expect(receiver.received).toHaveLength(1);
  });

  it('duplicates are byte-identical, so a receiver can dedupe on payment_id + status', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { duplicateWebhooks: 1 });
    const { request, payment } = await createAnd('pay');
    await receiver.waitFor(2);
    expect(receiver.received[1]!.raw).toBe(receiver.received[0]!.raw);
    const seen = new Set(
      receiver.received.map((h) => {
        const f = Object.fromEntries(new URLSearchParams(h.raw));
        return `${f.payment_request_id}:${f.payment_id}:${f.status}`;
      }),
    );
    expect([...seen]).toEqual([`${request.id}:${payment.payment_id}:completed`]);
    const ledger = await ledgerWhen(sandbox.url, (l) => l.webhooks.some((w: any) => w.payment_request_id === request.id && w.duplicates === 1));
    expect(ledger.webhooks.find((w: any) => w.payment_request_id === request.id).duplicates).toBe(1);
  });

  it('the amount tamper fault reports another amount, correctly signed', async () => {
    await ctl(sandbox.url, 'POST', '/sandbox/hitpay/faults', { tamperWebhookAmount: 1, tamperAmountMinor: -50 });
    const { request } = await createAnd('pay');
    await receiver.waitFor(1);
    const fields = Object.fromEntries(new URLSearchParams(receiver.received[0]!.raw));
    expect(fields.amount).toBe('12.00');
    const { hmac, ...rest } = fields;
    expect(legacyHitpayHmac(rest, HITPAY_DEMO_SALT)).toBe(hmac);
    // The request itself was paid in full.
    expect((await hp(sandbox.url, 'GET', `/v1/payment-requests/${request.id}`)).body.payments[0].amount).toBe('12.50');
  });

  it('resumes undelivered webhooks after a restart on the same database', async () => {
    const { tempDbPath } = await import('./helpers.js');
    const { buildSandbox } = await import('../../backend-relay/sandbox/app.js');
    const dbPath = tempDbPath();
    const opts = { dbPath, webhook: { attemptTimeoutMs: 2000, backoffMs: [60_000], maxAttempts: 3 } };
    statusFor = (i) => (i === 0 ? 500 : 200);
    const first = await buildSandbox(opts);
    const created = await hp(first.url, 'POST', '/v1/payment-requests', { form: paynowForm(receiver.url) });
    await ctl(first.url, 'POST', `/sandbox/hitpay/payment-requests/${created.body.id}/pay`);
    await ledgerWhen(first.url, (l) => l.webhooks[0]?.attempts === 1);
    await first.close(); // the retry was 60 s away: the row is still pending
    const second = await buildSandbox(opts);
    try {
      await receiver.waitFor(2);
      expect(receiver.received[1]!.raw).toBe(receiver.received[0]!.raw);
      const ledger = await ledgerWhen(second.url, (l) => l.webhooks[0]?.status === 'delivered');
      expect(ledger.webhooks[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await second.close();
    }
  });
});
