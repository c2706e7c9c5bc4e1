/**
 * The Vipps adapter against the real Vipps sandbox over loopback: access tokens, webhook
 * registration kept across restarts, QR provisioning, and the ePayment provider's outcomes
 * (create, capture, cancel, refund, pre-authorization settlement).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import { createVippsClient } from '../../backend-relay/payments/vipps-client.js';
import { createVippsProvider, type VippsPaymentProvider } from '../../backend-relay/payments/vipps-provider.js';
import type { PaymentAttempt } from '../../backend-relay/payments/payment-provider.js';
import { createVippsAdapter } from '../../backend-relay/psp/vipps.js';
import { VIPPS_WEBHOOK_META_KEY } from '../../backend-relay/psp/vipps-webhook-registration.js';
import type { CabRecord } from '../../backend-relay/store/relay-store.js';
import { paymentRequest } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';

const silent = pino({ level: 'silent' });

interface Counted {
  fetch: typeof fetch;
  calls: { method: string; path: string; headers: Record<string, string> }[];
}

/** The global fetch, recording each call's method, path and headers. */
function countingFetch(): Counted {
  const calls: Counted['calls'] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    calls.push({ method: init?.method ?? 'GET', path: url.pathname, headers });
    return fetch(input, init);
  };
  return { fetch: wrapped, calls };
}

function memoryMeta() {
  const map = new Map<string, string>();
  return { map, get: async (k: string) => map.get(k) ?? null, set: async (k: string, v: string) => void map.set(k, v) };
}

const cab = (over: Partial<CabRecord> = {}): CabRecord => ({
  cabId: 'cab-v1',
  psp: 'vipps',
  qrCodes: ['cab-v1-qr'],
  plate: 'AB 12345',
  label: 'Taxi 1',
  enabled: true,
  qrContent: null,
  currency: null,
  tokenHash: 'x',
  createdAt: new Date().toISOString(),
  lastSeenAt: null,
  appVersion: null,
  rideState: null,
  outboxDepth: null,
  lastSeq: 0,
  ackedSeq: 0,
  backlog: 0,
  ...over,
});

async function json(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('Vipps adapter against the Vipps sandbox', () => {
  let sandbox: Sandbox;
  let base: string;
  const creds = () => ({ baseUrl: base, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn });
  let ref = 0;
  const reference = () => `cabv1-ride-${Date.now().toString(36)}-${++ref}`;

  /** Provisions a QR and checks in at it as a passenger would; returns the customer token. */
  async function checkIn(qrId: string): Promise<string> {
    const adapter = createVippsAdapter(creds(), { logger: silent, meta: memoryMeta(), publicUrl: () => 'http://127.0.0.1:1' });
    const { qrContent } = await adapter.provisionCab!({ cabId: 'cab-v1', plate: 'AB 12345', qrCodes: [qrId] });
    const res = await json(base, 'POST', '/sandbox/vipps/checkin', { qrContent });
    expect(res.status).toBe(200);
    return res.body.customerToken as string;
  }

  function attempt(customerToken: string | undefined, over: { orderAmount?: number; tipAmount?: number; currency?: string } = {}): PaymentAttempt {
    const orderAmount = over.orderAmount ?? 25_000;
    const request = paymentRequest.parse({
      psp: 'vipps',
      sessionId: 'vco_x',
      rideId: 'ride-1',
      attempt: 1,
      orderLines: [
        { id: 'fare', kind: 'fare', label: 'Fare', amount: orderAmount - 5_000, vatRate: 12 },
        { id: 'toll', kind: 'toll', label: 'Toll', amount: 5_000, vatRate: 0 },
      ],
      orderAmount,
      tipAmount: over.tipAmount ?? 2_500,
      currency: over.currency ?? 'NOK',
    });
    const r = reference();
    return { cab: cab(), request, reference: r, idempotencyKey: `${r}-create`, webhookUrl: 'http://127.0.0.1:1/webhooks/vipps', customerToken };
  }

  beforeAll(async () => {
    sandbox = await testSandbox();
    base = sandbox.url;
  });
  afterAll(async () => {
    await sandbox.close();
  });

  describe('access token', () => {
    it('fetches one token for many calls, even concurrent ones, with the required headers', async () => {
      const counted = countingFetch();
      const client = createVippsClient(creds(), { fetch: counted.fetch });
      const answers = await Promise.all(Array.from({ length: 8 }, () => client.call('GET', '/webhooks/v1/webhooks')));
      for (let i = 0; i < 4; i++) answers.push(await client.call('GET', '/webhooks/v1/webhooks'));
      expect(answers.every((a) => a.kind === 'answered' && a.status === 200)).toBe(true);
      const tokenCalls = counted.calls.filter((c) => c.path === '/accesstoken/get');
      expect(tokenCalls).toHaveLength(1);
      expect(tokenCalls[0]!.headers).toMatchObject({
        client_id: C.clientId,
        client_secret: C.clientSecret,
        'ocp-apim-subscription-key': C.subscriptionKey,
        'merchant-serial-number': C.msn,
      });
      const api = counted.calls.filter((c) => c.path !== '/accesstoken/get');
      expect(api).toHaveLength(12);
      for (const call of api) {
        expect(call.headers.authorization).toMatch(/^Bearer \S+$/);
        expect(call.headers).toMatchObject({ 'ocp-apim-subscription-key': C.subscriptionKey, 'merchant-serial-number': C.msn, 'vipps-system-name': 'cabpay' });
        expect(call.headers['vipps-system-version']).toBeTruthy();
      }
    });

    it('a token Vipps no longer takes (401) is replaced once and the call goes through', async () => {
      await json(base, 'POST', '/sandbox/vipps/settings', { accessTokenTtlSeconds: 1 });
      try {
        const counted = countingFetch();
        // A clock that stands still: the cache believes its token is fresh after the sandbox expired it.
        const client = createVippsClient(creds(), { fetch: counted.fetch, now: () => 0 });
        expect(await client.call('GET', '/webhooks/v1/webhooks')).toMatchObject({ kind: 'answered', status: 200 });
        await new Promise((r) => setTimeout(r, 1_100));
        expect(await client.call('GET', '/webhooks/v1/webhooks')).toMatchObject({ kind: 'answered', status: 200 });
        expect(counted.calls.filter((c) => c.path === '/accesstoken/get')).toHaveLength(2);
        const statuses = counted.calls.filter((c) => c.path === '/webhooks/v1/webhooks');
        expect(statuses).toHaveLength(3); // ok, 401, retried ok
      } finally {
        await json(base, 'POST', '/sandbox/vipps/settings', { accessTokenTtlSeconds: 3600 });
      }
    });

    it('wrong credentials are a configuration error, not something to retry', async () => {
      const provider = createVippsProvider(createVippsClient({ ...creds(), clientSecret: 'wrong' }));
      const out = await provider.cancelPayment('abcdefgh-1', cab());
      expect(out).toMatchObject({ kind: 'refused', code: 'psp_refused' });
      expect((out as { message: string }).message).toMatch(/credentials/);
    });

    it('an unreachable Vipps is worth retrying', async () => {
      const provider = createVippsProvider(createVippsClient({ ...creds(), baseUrl: 'http://127.0.0.1:1' }));
      expect(await provider.cancelPayment('abcdefgh-1', cab())).toMatchObject({ kind: 'retry' });
    });
  });

  describe('webhook registration', () => {
    const hookUrl = 'http://127.0.0.1:9/relay-a';
    const list = async () => {
      const client = createVippsClient(creds());
      const a = await client.call('GET', '/webhooks/v1/webhooks');
      return (a as { body: { webhooks: { id: string; url: string; events: string[] }[] } }).body.webhooks.filter((w) => w.url === `${hookUrl}/webhooks/vipps`);
    };

    it('registers once, stores id and secret, and reuses them after a restart', async () => {
      const meta = memoryMeta();
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const first = createVippsAdapter(creds(), { logger, meta, publicUrl: () => hookUrl });
      await first.start!(hookUrl);
      const stored = JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!) as { id: string; secret: string; url: string };
      expect(stored.url).toBe(`${hookUrl}/webhooks/vipps`);
      const registered = await list();
      expect(registered.map((w) => w.id)).toEqual([stored.id]);
      expect(registered[0]!.events).toEqual(
        expect.arrayContaining(['user.checked-in.v1', 'epayments.payment.authorized.v1', 'epayments.payment.captured.v1', 'epayments.payment.refunded.v1']),
      );

      // A restart: a new adapter over the same meta keeps the registration.
      const counted = countingFetch();
      const second = createVippsAdapter(creds(), { logger, meta, publicUrl: () => hookUrl, fetch: counted.fetch });
      await second.start!(hookUrl);
      expect(counted.calls.some((c) => c.method === 'POST' && c.path === '/webhooks/v1/webhooks')).toBe(false);
      expect((await list()).map((w) => w.id)).toEqual([stored.id]);
      expect(JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!)).toEqual(stored);
      expect(lines.some((l) => l.includes('vipps webhook reused'))).toBe(true);
      expect(lines.join('\n')).not.toContain(stored.secret);
    });

    it('a registration deleted at Vipps, or one whose secret was lost, is replaced by exactly one new one', async () => {
      const meta = memoryMeta();
      const adapter = createVippsAdapter(creds(), { logger: silent, meta, publicUrl: () => hookUrl });
      await adapter.start!(hookUrl);
      const firstId = JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!).id as string;
      const client = createVippsClient(creds());
      await client.call('DELETE', `/webhooks/v1/webhooks/${firstId}`);
      await createVippsAdapter(creds(), { logger: silent, meta, publicUrl: () => hookUrl }).start!(hookUrl);
      const secondId = JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!).id as string;
      expect(secondId).not.toBe(firstId);
      expect((await list()).map((w) => w.id)).toEqual([secondId]);

      // The meta table was lost: the old registration (whose secret is gone) is deleted.
      const fresh = memoryMeta();
      await createVippsAdapter(creds(), { logger: silent, meta: fresh, publicUrl: () => hookUrl }).start!(hookUrl);
      const thirdId = JSON.parse(fresh.map.get(VIPPS_WEBHOOK_META_KEY)!).id as string;
      expect((await list()).map((w) => w.id)).toEqual([thirdId]);
    });

    it('a failed start logs, keeps the relay going and registers in the background once Vipps answers', async () => {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      // Vipps is down for the first two registration attempts.
      let down = 2;
      const flaky: typeof fetch = async (input, init) => {
        const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
        if (path === '/webhooks/v1/webhooks' && (init?.method ?? 'GET') === 'GET' && down > 0) {
          down--;
          throw new TypeError('fetch failed (Vipps down)');
        }
        return fetch(input, init);
      };
      const url = 'http://127.0.0.1:9/relay-b';
      const meta = memoryMeta();
      const adapter = createVippsAdapter(creds(), { logger, meta, publicUrl: () => url, fetch: flaky, registerRetryMs: [30] });
      await expect(adapter.start!(url)).resolves.toBeUndefined();
      const line = JSON.parse(lines.find((l) => l.includes('registration failed'))!) as { level: number; retryInMs: number };
      expect(line.level).toBe(50);
      expect(line.retryInMs).toBe(30);
      expect(meta.map.has(VIPPS_WEBHOOK_META_KEY)).toBe(false);
      const deadline = Date.now() + 5_000;
      const done = () => lines.some((l) => l.includes('vipps webhook registered'));
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(lines.filter((l) => l.includes('registration failed'))).toHaveLength(2);
      const stored = JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!) as { id: string; secret: string };
      expect(done()).toBe(true);
      // From now on hooks signed with the registered secret verify (the public URL's path prefix is signed too).
      const { signVippsRequest } = await import('../../backend-relay/psp/vipps-hmac.js');
      const body = JSON.stringify({
        msn: C.msn,
        reference: 'abcdefgh-1',
        pspReference: '1',
        name: 'CREATED',
        amount: { currency: 'NOK', value: 100 },
        timestamp: new Date().toISOString(),
        idempotencyKey: 'k',
        success: true,
      });
      const headers = signVippsRequest({
        secret: stored.secret,
        pathAndQuery: '/relay-b/webhooks/vipps',
        host: '127.0.0.1:9',
        rawBody: body,
        date: new Date(),
      });
      const verdict = await adapter.webhooks[0]!.verify(
        { rawBody: Buffer.from(body), body: null, headers, method: 'POST', pathAndQuery: '/webhooks/vipps' },
        new Date(),
      );
      expect(verdict.verdict).toBe('verified');
    });
    it('after a restart, hooks signed with the stored secret verify while Vipps is still unreachable; stop() ends the retries', async () => {
      const url = 'http://127.0.0.1:9/relay-c';
      const meta = memoryMeta();
      await createVippsAdapter(creds(), { logger: silent, meta, publicUrl: () => url }).start!(url);
      const stored = JSON.parse(meta.map.get(VIPPS_WEBHOOK_META_KEY)!) as { secret: string };

      // The restart: Vipps is down, so start() cannot confirm the registration.
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const down: typeof fetch = async () => {
        throw new TypeError('fetch failed (Vipps down)');
      };
      const restarted = createVippsAdapter(creds(), { logger, meta, publicUrl: () => url, fetch: down, registerRetryMs: [30] });
      await restarted.start!(url);
      expect(JSON.parse(lines.find((l) => l.includes('registration failed'))!)).toMatchObject({ acceptingHooks: true });

      const { signVippsRequest } = await import('../../backend-relay/psp/vipps-hmac.js');
      const body = JSON.stringify({
        msn: C.msn,
        reference: 'abcdefgh-2',
        pspReference: '2',
        name: 'CREATED',
        amount: { currency: 'NOK', value: 100 },
        timestamp: new Date().toISOString(),
        idempotencyKey: 'k2',
        success: true,
      });
      const verdictFor = (secret: string, adapter = restarted) =>
        adapter.webhooks[0]!.verify(
          {
            rawBody: Buffer.from(body),
            body: null,
            headers: signVippsRequest({ secret, pathAndQuery: '/relay-c/webhooks/vipps', host: '127.0.0.1:9', rawBody: body, date: new Date() }),
            method: 'POST',
            pathAndQuery: '/webhooks/vipps',
          },
          new Date(),
        );
      expect((await verdictFor(stored.secret)).verdict).toBe('verified');
      expect((await verdictFor('not-the-secret')).verdict).toBe('unauthenticated');
      // A registration stored for another public URL is not ours to trust.
      const moved = createVippsAdapter(creds(), { logger: silent, meta, publicUrl: () => 'http://127.0.0.1:9/relay-d', fetch: down });
      const movedVerdict = await moved.webhooks[0]!.verify(
        {
          rawBody: Buffer.from(body),
          body: null,
          headers: signVippsRequest({ secret: stored.secret, pathAndQuery: '/relay-d/webhooks/vipps', host: '127.0.0.1:9', rawBody: body, date: new Date() }),
          method: 'POST',
          pathAndQuery: '/webhooks/vipps',
        },
        new Date(),
      );
      expect(movedVerdict.verdict).toBe('unauthenticated');

      // Retries go on in the background until stop().
      const failures = () => lines.filter((l) => l.includes('registration failed')).length;
      const deadline = Date.now() + 5_000;
      while (failures() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(failures()).toBeGreaterThanOrEqual(2);
      restarted.stop!();
      const afterStop = failures();
      await new Promise((r) => setTimeout(r, 200));
      // Nothing is scheduled after stop(), and an attempt in flight ends quietly.
      expect(failures()).toBe(afterStop);
    });
  });

  describe('provisionCab', () => {
    it('creates each QR with the plate and returns the first qrContent', async () => {
      const adapter = createVippsAdapter(creds(), { logger: silent, meta: memoryMeta(), publicUrl: () => 'http://x' });
      const out = await adapter.provisionCab!({ cabId: 'cab-p', plate: ' AB 12345 ', qrCodes: ['cab-p-1', 'cab-p-2'] });
      expect(out.qrContent).toBe(`${base}/vipps/qr/${C.msn}/cab-p-1`);
      const client = createVippsClient(creds());
      for (const id of ['cab-p-1', 'cab-p-2']) {
        const got = await client.call('GET', `/qr/v1/merchant-callback/${id}`);
        expect(got).toMatchObject({ kind: 'answered', status: 200, body: { merchantQrId: id, locationDescription: 'AB 12345' } });
      }
    });

    it('cuts a plate over 36 characters to 36 (Vipps refuses longer) and updates an existing QR', async () => {
      const adapter = createVippsAdapter(creds(), { logger: silent, meta: memoryMeta(), publicUrl: () => 'http://x' });
      const long = 'TAXI 4711 Stockholm Arlanda Airport Terminal 5';
      await adapter.provisionCab!({ cabId: 'cab-p', plate: long, qrCodes: ['cab-p-1'] });
      const got = (await createVippsClient(creds()).call('GET', '/qr/v1/merchant-callback/cab-p-1')) as { body: { locationDescription: string } };
      expect(got.body.locationDescription).toBe(long.slice(0, 36).trim());
      expect(got.body.locationDescription.length).toBeLessThanOrEqual(36);
      await expect(adapter.provisionCab!({ cabId: 'cab-p', plate: '   ', qrCodes: ['cab-p-1'] })).rejects.toThrow(/plate is empty/);
    });

    it('a QR id Vipps refuses is an error naming the QR', async () => {
      const adapter = createVippsAdapter(creds(), { logger: silent, meta: memoryMeta(), publicUrl: () => 'http://x' });
      await expect(adapter.provisionCab!({ cabId: 'cab-p', plate: 'AB 1', qrCodes: ['bad id!'] })).rejects.toThrow(/bad id!.*400/);
    });

    it('a verify-only adapter (secret alone) makes no calls: no provider, no provisioning, no start', () => {
      const adapter = createVippsAdapter({ webhookSecret: 'out-of-band' }, { logger: silent, meta: memoryMeta(), publicUrl: () => 'http://x' });
      expect(adapter.provider).toBeUndefined();
      expect(adapter.provisionCab).toBeUndefined();
      expect(adapter.start).toBeUndefined();
      expect(adapter.webhooks.map((w) => [w.kind, w.path])).toEqual([['events', '/webhooks/vipps']]);
    });
  });

  describe('ePayment provider', () => {
    let provider: VippsPaymentProvider;
    let counted: Counted;
    beforeAll(() => {
      counted = countingFetch();
      provider = createVippsProvider(createVippsClient(creds(), { fetch: counted.fetch }));
    });
    const payment = async (reference: string) =>
      (await json(base, 'GET', '/sandbox/vipps/ledger')).body.payments.find((p: { reference: string }) => p.reference === reference);

    it('creates a push payment of fare + tip with the receipt, idempotently', async () => {
      const token = await checkIn('cab-v1-qr');
      const a = attempt(token);
      expect(await provider.createPayment(a)).toEqual({ kind: 'ok', value: { pspReference: a.reference, expiresAt: expect.any(String) } });
      // A retried call (same idempotency key) is a replay, not a second payment.
      expect(await provider.createPayment(a)).toEqual({ kind: 'ok', value: { pspReference: a.reference, expiresAt: expect.any(String) } });
      const push = (await json(base, 'GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(token)}`)).body;
      expect(push.payments).toHaveLength(1);
      expect(push.payments[0]).toMatchObject({
        reference: a.reference,
        state: 'CREATED',
        amount: { currency: 'NOK', value: 27_500 },
        paymentDescription: 'Taxi AB 12345',
        receipt: {
          orderLines: [
            { id: 'fare', name: 'Fare', totalAmount: 20_000, totalTaxAmount: 2_143, totalAmountExcludingTax: 17_857, taxRate: 1200 },
            { id: 'toll', name: 'Toll', totalAmount: 5_000, totalTaxAmount: 0, totalAmountExcludingTax: 5_000, taxRate: 0 },
          ],
          bottomLine: { currency: 'NOK', tipAmount: 2_500, posId: 'cab-v1', receiptNumber: a.reference },
        },
      });
      const create = counted.calls.filter((c) => c.method === 'POST' && c.path === '/epayment/v1/payments');
      expect(new Set(create.map((c) => c.headers['idempotency-key']))).toEqual(new Set([a.idempotencyKey]));
    });

    it('capture, refund, and a refund over what is left (refused for good)', async () => {
      const a = attempt(await checkIn('cab-v1-qr'));
      expect((await provider.createPayment(a)).kind).toBe('ok');
      // Capture before the passenger approved: Vipps says no, and the driver is told why.
      expect(await provider.capturePayment(a.reference, { value: 27_500, currency: 'NOK' }, a.cab)).toMatchObject({ kind: 'refused', code: 'psp_refused' });
      expect((await json(base, 'POST', `/sandbox/vipps/payments/${a.reference}/approve`)).status).toBe(200);
      expect(await provider.capturePayment(a.reference, { value: 27_500, currency: 'NOK' }, a.cab)).toEqual({ kind: 'ok', value: null });
      // The same capture again is a replay (idempotent per amount), not a second one.
      expect(await provider.capturePayment(a.reference, { value: 27_500, currency: 'NOK' }, a.cab)).toEqual({ kind: 'ok', value: null });
      expect(await payment(a.reference)).toMatchObject({ authorized: 27_500, captured: 27_500 });

      const refund = (refundId: string, amount: number) =>
        provider.refund(
          {
            refundId,
            rideId: 'ride-1',
            merchantOrderId: 'cab-v1.ride-1',
            psp: 'vipps',
            pspOrderId: a.reference,
            amount,
            currency: 'NOK',
            reason: 'wrong fare',
            requestedBy: 'driver',
            requestedAt: new Date().toISOString(),
          },
          a.cab,
        );
      const first = await refund('rf-1', 10_000);
      expect(first.kind).toBe('ok');
      expect((first as { value: { pspRefundId: string } }).value.pspRefundId).toBeTruthy();
      expect(await refund('rf-1', 10_000)).toEqual(first); // same refundId: replay
      expect(await refund('rf-2', 20_000)).toMatchObject({ kind: 'refused', code: 'refund_refused' });
      expect(await payment(a.reference)).toMatchObject({ refunded: 10_000 });
      // Cancelling a captured payment: nothing left to cancel, which is what was wanted.
      expect(await provider.cancelPayment(a.reference, a.cab)).toEqual({ kind: 'ok', value: null });
    });

    it('cancel ends a pending payment, and is ok on one already ended', async () => {
      const a = attempt(await checkIn('cab-v1-qr'));
      expect((await provider.createPayment(a)).kind).toBe('ok');
      expect(await provider.cancelPayment(a.reference, a.cab)).toEqual({ kind: 'ok', value: null });
      expect(await payment(a.reference)).toMatchObject({ state: 'TERMINATED' });
      expect(await provider.cancelPayment(a.reference, a.cab)).toEqual({ kind: 'ok', value: null });

      const b = attempt(await checkIn('cab-v1-qr'));
      expect((await provider.createPayment(b)).kind).toBe('ok');
      expect((await json(base, 'POST', `/sandbox/vipps/payments/${b.reference}/reject`)).status).toBe(200);
      expect(await provider.cancelPayment(b.reference, b.cab)).toEqual({ kind: 'ok', value: null });
      expect(await payment(b.reference)).toMatchObject({ state: 'ABORTED' });
    });

    it('a dead customer token is customer_token_expired; no token at all is session_unknown', async () => {
      const token = await checkIn('cab-v1-qr');
      expect((await json(base, 'POST', `/sandbox/vipps/tokens/${encodeURIComponent(token)}/expire`)).status).toBe(200);
      const out = await provider.createPayment(attempt(token));
      expect(out).toMatchObject({ kind: 'refused', code: 'customer_token_expired' });
      expect((out as { message: string }).message).toMatch(/scan the QR code again/);
      expect(await provider.createPayment(attempt(undefined))).toMatchObject({ kind: 'refused', code: 'session_unknown' });
      expect(await provider.createPayment(attempt(token, { currency: 'SEK' }))).toMatchObject({ kind: 'refused', code: 'invalid' });
    });

    it('a 5xx from Vipps is retry, and the retried call creates the payment once', async () => {
      const a = attempt(await checkIn('cab-v1-qr'));
      await json(base, 'POST', '/sandbox/vipps/faults', { createPayment503: 1, createPayment500: 1 });
      expect(await provider.createPayment(a)).toMatchObject({ kind: 'retry' });
      expect(await provider.createPayment(a)).toMatchObject({ kind: 'retry' });
      expect(await provider.createPayment(a)).toEqual({ kind: 'ok', value: { pspReference: a.reference, expiresAt: expect.any(String) } });
      expect(await payment(a.reference)).toMatchObject({ state: 'CREATED', amount: 27_500 });
    });

    it('pre-authorization: captures less than reserved and releases the rest', async () => {
      const pre = createVippsProvider(createVippsClient(creds()), { preauthorize: true });
      expect(pre.preauthorize).toBe(true);
      const a = attempt(await checkIn('cab-v1-qr'), { orderAmount: 40_000, tipAmount: 0 });
      expect((await pre.createPayment(a)).kind).toBe('ok');
      expect((await json(base, 'POST', `/sandbox/vipps/payments/${a.reference}/approve`)).status).toBe(200);
      expect(await pre.captureAndRelease(a.reference, { value: 31_000, currency: 'NOK' }, a.cab)).toEqual({ kind: 'ok', value: null });
      expect(await payment(a.reference)).toMatchObject({ state: 'AUTHORIZED', authorized: 40_000, captured: 31_000, cancelled: 9_000 });
      // Settling again changes nothing (both calls are replays).
      expect(await pre.captureAndRelease(a.reference, { value: 31_000, currency: 'NOK' }, a.cab)).toEqual({ kind: 'ok', value: null });
      expect(await payment(a.reference)).toMatchObject({ captured: 31_000, cancelled: 9_000 });
      // More than reserved is refused before anything is released.
      const b = attempt(await checkIn('cab-v1-qr'), { orderAmount: 10_000, tipAmount: 0 });
      expect((await pre.createPayment(b)).kind).toBe('ok');
      expect((await json(base, 'POST', `/sandbox/vipps/payments/${b.reference}/approve`)).status).toBe(200);
      expect(await pre.captureAndRelease(b.reference, { value: 12_000, currency: 'NOK' }, b.cab)).toMatchObject({ kind: 'refused' });
      expect(await payment(b.reference)).toMatchObject({ captured: 0, cancelled: 0 });
    });
  });
});
