/**
 * The payment service over a real relay and a real socket.io tablet, with an in-test PSP: a
 * provider that records its calls and answers as told, and a webhook that turns a JSON body
 * into a PaymentUpdate routed by payment reference.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { PaymentAttempt, PaymentCheck, PaymentProvider, PspCallOutcome, CreatedPayment } from '../../backend-relay/payments/payment-provider.js';
import type { PaymentUpdate, PspAdapter } from '../../backend-relay/psp/psp-adapter.js';
import type { PaymentRequest } from '../../protocol/relay-protocol.js';
import { admin, connectTablet, makeSigner, postJson, relayConfig, tempDir, until, waitForConnect, type Signer, type TestTablet } from './helpers.js';

interface Calls {
  create: PaymentAttempt[];
  cancel: string[];
  capture: { ref: string; amount: { value: number; currency: string } }[];
  captureLookups: string[];
}

/** A PSP whose answers the test sets; `next*` are consumed first, then the defaults apply. */
function fakePsp() {
  const calls: Calls = { create: [], cancel: [], capture: [], captureLookups: [] };
  const script = {
    create: [] as PspCallOutcome<CreatedPayment>[],
    cancel: [] as PspCallOutcome<null>[],
    capture: [] as PspCallOutcome<null>[],
    captureDefault: { kind: 'ok', value: null } as PspCallOutcome<null>,
    /** What the PSP says it captured when asked (after a capture without an answer). */
    capturedSoFar: { kind: 'ok', value: 0 } as PspCallOutcome<number>,
    qrTtlMs: 600_000,
    /** Answered to every cancel once `cancel` is used up. */
    cancelDefault: { kind: 'ok', value: null } as PspCallOutcome<null>,
    /** What the PSP says when asked about a payment (reconciliation). */
    check: { kind: 'ok', value: { kind: 'open' } } as PspCallOutcome<PaymentCheck>,
  };
  const provider: PaymentProvider = {
    psp: 'hitpay',
    async createPayment(attempt) {
      calls.create.push(attempt);
      return (
        script.create.shift() ?? {
          kind: 'ok',
          value: {
            pspReference: `pr-${attempt.reference}`,
            qr: {
              qrData: `00020101-${attempt.reference}`,
              expiresAt: new Date(Date.now() + script.qrTtlMs).toISOString(),
              paymentRequestId: `pr-${attempt.reference}`,
            },
          },
        }
      );
    },
    async cancelPayment(ref) {
      calls.cancel.push(ref);
      return script.cancel.shift() ?? script.cancelDefault;
    },
    async checkPayment() {
      return script.check;
    },
    async capturePayment(ref, amount) {
      calls.capture.push({ ref, amount });
      return script.capture.shift() ?? script.captureDefault;
    },
    async capturedSoFar(ref) {
      calls.captureLookups.push(ref);
      return script.capturedSoFar;
    },
    async refund() {
      return { kind: 'refused', code: 'unsupported', message: 'not in this test' };
    },
    async refundedSoFar() {
      return { kind: 'refused', code: 'unsupported', message: 'not in this test' };
    },
  };
  const adapter: PspAdapter = {
    name: 'hitpay',
    provider,
    webhooks: [
      {
        kind: 'test',
        path: '/webhooks/test-psp',
        verify: async (request) => {
          const u = request.body as PaymentUpdate & { hookId: string };
          return {
            verdict: 'verified',
            dedupeKey: `test:${u.hookId}`,
            route: { by: 'payment', pspReference: u.pspReference },
            event: null,
            paymentUpdate: u,
            needsLiveCab: false,
            auditData: u,
          };
        },
      },
    ],
  };
  return { calls, script, adapter };
}

let hookSeq = 0;
const hook = (url: string, update: PaymentUpdate) => postJson(url, '/webhooks/test-psp', { ...update, hookId: `h${++hookSeq}` });

function request(rideId: string, attempt = 1, over: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    psp: 'hitpay',
    rideId,
    attempt,
    orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 2000, vatRate: 9 }],
    orderAmount: 2000,
    tipAmount: 200,
    currency: 'SGD',
    ...over,
  };
}

const open: { app: RelayApp; tablet?: TestTablet }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.tablet?.close();
    await o.app.close();
  }
});

async function relay(dir: string, signer: Signer, adapter: PspAdapter, over = {}) {
  const app = await buildRelayApp(relayConfig(dir, signer, { paymentSweepMs: 100, ...over }), {
    logger: createLogger('silent'),
    extraAdapters: [adapter],
  });
  const url = await app.listen();
  const entry: { app: RelayApp; tablet?: TestTablet } = { app };
  open.push(entry);
  return { app, url, entry };
}

async function setup(over = {}) {
  const dir = tempDir();
  const signer = await makeSigner(dir);
  const psp = fakePsp();
  const { app, url, entry } = await relay(dir, signer, psp.adapter, over);
  const put = await admin(url, 'PUT', '/admin/cabs/cab-p', { psp: 'hitpay', qrCodes: [], plate: 'SG1', label: 'Cab P' });
  expect(put.status).toBe(201);
  const tablet = connectTablet(url, 'cab-p', put.body.deviceToken);
  entry.tablet = tablet;
  await waitForConnect(tablet);
  const send = (name: string, payload: unknown) => tablet.socket.timeout(5000).emitWithAck(name, payload);
  return { dir, signer, psp, app, url, tablet, send, token: put.body.deviceToken as string };
}

const ofType = (t: TestTablet, type: string) => t.applied.filter((e) => e.type === type);

describe('payment service', () => {
  it('creates a payment once per attempt, replays the ack, and delivers payment.qr', async () => {
    const { psp, tablet, send } = await setup();
    const first = await send('payment.request', request('r1'));
    expect(first.ok).toBe(true);
    const again = await send('payment.request', request('r1'));
    expect(again).toEqual(first);
    expect(psp.calls.create).toHaveLength(1);
    const attempt = psp.calls.create[0]!;
    expect(attempt.reference).toMatch(/^[A-Za-z0-9-]{8,50}$/);
    expect(attempt.idempotencyKey).toBe(attempt.reference);
    expect(attempt.webhookUrl).toMatch(/\/webhooks\/test-psp$/);
    await until(() => ofType(tablet, 'payment.qr').length === 1, 'payment.qr');
    expect(ofType(tablet, 'payment.qr')[0]!.data).toMatchObject({
      rideId: 'r1',
      attempt: 1,
      amount: 2200,
      currency: 'SGD',
      qrData: `00020101-${attempt.reference}`,
    });
    // Other amounts for the same attempt are refused, not silently replayed.
    const changed = await send('payment.request', request('r1', 1, { tipAmount: 100 }));
    expect(changed).toMatchObject({ ok: false, error: { code: 'invalid' } });
    // A cab of another PSP, and a request that breaks the schema, get final codes.
    expect(await send('payment.request', request('r1', 1, { psp: 'vipps' }))).toMatchObject({ ok: false, error: { code: 'wrong_psp' } });
    expect(await send('payment.request', { ...request('r1'), orderAmount: 1 })).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('answers unavailable when the PSP cannot be reached, then succeeds with the same idempotency key', async () => {
    const { psp, send } = await setup();
    psp.script.create.push({ kind: 'retry', reason: 'HitPay 503' });
    const first = await send('payment.request', request('r2'));
    expect(first).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const second = await send('payment.request', request('r2'));
    expect(second.ok).toBe(true);
    expect(psp.calls.create).toHaveLength(2);
    expect(psp.calls.create[1]!.idempotencyKey).toBe(psp.calls.create[0]!.idempotencyKey);
    // A refusal is final for the attempt and replayed.
    psp.script.create.push({ kind: 'refused', code: 'psp_refused', message: 'amount too small' });
    const refused = await send('payment.request', request('r2b'));
    expect(refused).toEqual({ ok: false, error: { code: 'psp_refused', message: 'amount too small' } });
    expect(await send('payment.request', request('r2b'))).toEqual(refused);
    expect(psp.calls.create).toHaveLength(3);
  });

  it('cancels the live attempt 1 when attempt 2 arrives, pays attempt 2 once, and ignores repeats', async () => {
    const { psp, tablet, send, url } = await setup();
    const a1 = await send('payment.request', request('r3', 1));
    const a2 = await send('payment.request', request('r3', 2));
    expect(a2.ok).toBe(true);
    expect(psp.calls.cancel).toEqual([a1.value.pspReference]);
    const paid = { pspReference: a2.value.pspReference, status: 'completed', amount: { value: 2200, currency: 'SGD' }, pspPaymentId: 'pay-9' } as const;
    expect((await hook(url, paid)).body.status).toBe('stored');
    expect((await hook(url, paid)).body.status).toBe('duplicate');
    // A late failure of the canceled attempt 1 changes nothing either.
    expect((await hook(url, { pspReference: a1.value.pspReference, status: 'failed' })).body.status).toBe('duplicate');
    await until(() => ofType(tablet, 'order.paid').length === 1, 'order.paid');
    expect(ofType(tablet, 'order.paid')[0]!.data).toEqual({
      merchantOrderId: 'cab-p.r3',
      pspOrderId: 'pay-9',
      currency: 'SGD',
      orderAmount: 2000,
      tipAmount: 200,
      totalAmount: 2200,
    });
    // A new attempt of a paid ride is refused.
    expect(await send('payment.request', request('r3', 3))).toMatchObject({ ok: false, error: { code: 'already_paid' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(ofType(tablet, 'order.paid')).toHaveLength(1);
    expect(ofType(tablet, 'order.failed')).toHaveLength(0);
  });

  it('refuses a new attempt when the PSP says the older one was already paid', async () => {
    const { psp, send } = await setup();
    await send('payment.request', request('r3b', 1));
    psp.script.cancel.push({ kind: 'refused', code: 'already_paid', message: 'completed' });
    expect(await send('payment.request', request('r3b', 2))).toMatchObject({ ok: false, error: { code: 'already_paid' } });
    expect(psp.calls.create).toHaveLength(1);
  });

  it('reports an amount mismatch as order.failed amount_mismatch, never order.paid', async () => {
    const { tablet, send, url } = await setup();
    const a = await send('payment.request', request('r4'));
    await hook(url, { pspReference: a.value.pspReference, status: 'completed', amount: { value: 220, currency: 'SGD' } });
    await until(() => ofType(tablet, 'order.failed').length === 1, 'order.failed');
    expect(ofType(tablet, 'order.failed')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r4', code: 'amount_mismatch', attempt: 1 });
    expect(ofType(tablet, 'order.paid')).toHaveLength(0);
    // A failed payment maps to payment_rejected unless the PSP said more.
    const b = await send('payment.request', request('r4b'));
    await hook(url, { pspReference: b.value.pspReference, status: 'failed', reason: 'declined' });
    await until(() => ofType(tablet, 'order.failed').length === 2, 'second order.failed');
    expect(ofType(tablet, 'order.failed')[1]!.data).toMatchObject({ merchantOrderId: 'cab-p.r4b', code: 'payment_rejected', reason: 'declined' });
  });

  it('cancels an expired payment request at the PSP and reports payment_expired', async () => {
    const { psp, tablet, send } = await setup();
    psp.script.qrTtlMs = 200;
    const a = await send('payment.request', request('r5'));
    await until(() => ofType(tablet, 'order.failed').length === 1, 'payment_expired');
    expect(ofType(tablet, 'order.failed')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r5', code: 'payment_expired', attempt: 1 });
    expect(psp.calls.cancel).toContain(a.value.pspReference);
  });

  it('captures an authorized payment, and resumes a capture a restart interrupted', async () => {
    const first = await setup();
    first.psp.script.captureDefault = { kind: 'retry', reason: 'PSP down' };
    const a = await first.send('payment.request', request('r6'));
    await first.tablet.socket.timeout(5000).emitWithAck('tablet:status', { appVersion: '1', rideState: 'awaiting_payment', outboxDepth: 0 });
    expect((await hook(first.url, { pspReference: a.value.pspReference, status: 'authorized' })).body.status).toBe('stored');
    await until(() => first.psp.calls.capture.length >= 1, 'first capture attempt');
    expect(first.psp.calls.capture[0]!.amount).toEqual({ value: 2200, currency: 'SGD' });
    const lastSeq = first.tablet.lastSeq;
    first.tablet.close();
    await first.app.close();
    open.splice(0);

    // The same database, a PSP that now captures.
    const psp = fakePsp();
    const { url, entry } = await relay(first.dir, first.signer, psp.adapter);
    await until(() => psp.calls.capture.length === 1, 'capture resumed after the restart');
    const tablet = connectTablet(url, 'cab-p', first.token, lastSeq);
    entry.tablet = tablet;
    await until(() => ofType(tablet, 'order.paid').length === 1, 'order.paid after the resumed capture');
    expect(ofType(tablet, 'order.paid')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r6', totalAmount: 2200 });
    // The PSP's own captured hook afterwards changes nothing.
    expect((await hook(url, { pspReference: a.value.pspReference, status: 'captured', amount: { value: 2200, currency: 'SGD' } })).body.status).toBe(
      'duplicate',
    );
  });

  it('a capture whose answer never came is looked up, and not sent again when the PSP captured it', async () => {
    const { psp, send, url, tablet } = await setup();
    // The PSP books the capture, but its answer is lost (a timeout): the relay cannot tell.
    psp.script.capture.push({ kind: 'retry', reason: 'no answer within the timeout' });
    psp.script.capturedSoFar = { kind: 'ok', value: 2200 };
    const a = await send('payment.request', request('r7'));
    expect((await hook(url, { pspReference: a.value.pspReference, status: 'authorized' })).body.status).toBe('stored');
    await until(() => ofType(tablet, 'order.paid').length === 1, 'order.paid once the capture is found');
    expect(psp.calls.capture).toHaveLength(1);
    expect(psp.calls.captureLookups).toEqual([a.value.pspReference]);
    expect(ofType(tablet, 'order.paid')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r7', totalAmount: 2200 });
  });

  it('acks every payment with its deadline; at the deadline the tablet hears payment_expired even when the PSP cannot be reached to cancel', async () => {
    const { psp, tablet, send } = await setup();
    psp.script.qrTtlMs = 300;
    psp.script.cancelDefault = { kind: 'retry', reason: 'PSP down' };
    const before = Date.now();
    const a = await send('payment.request', request('r-deadline'));
    expect(a).toMatchObject({ ok: true, value: { pspReference: expect.any(String), expiresAt: expect.any(String) } });
    expect(Date.parse(a.value.expiresAt)).toBeGreaterThanOrEqual(before + 300);
    expect(await send('payment.request', request('r-deadline'))).toEqual(a);
    await until(() => ofType(tablet, 'order.failed').length === 1, 'payment_expired at the deadline');
    expect(ofType(tablet, 'order.failed')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r-deadline', code: 'payment_expired', attempt: 1 });
    // Still live at the PSP: the sweep keeps canceling, and a newer attempt cancels it first.
    const cancels = psp.calls.cancel.length;
    await until(() => psp.calls.cancel.length > cancels + 1, 'the sweep cancels again');
    psp.script.cancelDefault = { kind: 'ok', value: null };
    const b = await send('payment.request', request('r-deadline', 2));
    expect(b.ok).toBe(true);
    expect(psp.calls.cancel).toContain(a.value.pspReference);
  });

  it('a payment made after the relay expired it at its deadline is still recorded as paid and told to the tablet', async () => {
    const { psp, tablet, send, url } = await setup();
    psp.script.qrTtlMs = 200;
    const a = await send('payment.request', request('r-late'));
    await until(() => ofType(tablet, 'order.failed').length === 1, 'payment_expired');
    const late = await hook(url, {
      pspReference: a.value.pspReference,
      status: 'completed',
      amount: { value: 2200, currency: 'SGD' },
      pspPaymentId: 'pay-late',
    });
    expect(late.body.status).toBe('stored');
    await until(() => ofType(tablet, 'order.paid').length === 1, 'order.paid for the late payment');
    expect(ofType(tablet, 'order.paid')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r-late', pspOrderId: 'pay-late', totalAmount: 2200 });
  });

  it('a payment the relay expired at its deadline is reconciled: money the PSP took late, with every hook lost, is not lost', async () => {
    const { psp, tablet, send } = await setup({ reconcileAfterMs: 100, reconcileEveryMs: 100 });
    psp.script.qrTtlMs = 200;
    const a = await send('payment.request', request('r-late-lost'));
    await until(() => ofType(tablet, 'order.failed').length === 1, 'payment_expired');
    psp.script.check = {
      kind: 'ok',
      value: {
        kind: 'update',
        update: { pspReference: a.value.pspReference, status: 'completed', amount: { value: 2200, currency: 'SGD' }, pspPaymentId: 'pay-lost' },
      },
    };
    await until(() => ofType(tablet, 'order.paid').length === 1, 'order.paid learnt by reconciliation');
    expect(ofType(tablet, 'order.paid')[0]!.data).toMatchObject({ merchantOrderId: 'cab-p.r-late-lost', pspOrderId: 'pay-lost' });
  });
});
