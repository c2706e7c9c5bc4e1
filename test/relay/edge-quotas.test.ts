/**
 * What one cab may store and ask for, against a listening relay and, for payments, the HitPay
 * sandbox: receipts per minute, per receipt and in total, payment requests per minute, receipts
 * pruned after their retention, and an alert (an error line and a counter per cab and kind).
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRelayConfig } from '../../backend-relay/config.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from '../../backend-relay/sandbox/hitpay/index.js';
import { newReceiptToken } from '../../electron/core/receipts.js';
import { testSandbox } from '../sandbox/helpers.js';
import { addCab, admin, connectTablet, fetchMetrics, makeSigner, startInProcess, tempDir, until, waitForConnect, type TestTablet } from './helpers.js';

type Ack = { ok: boolean; value?: unknown; error?: { code: string; message: string } };

function receipt(cabId: string, rideId: string, lines = 1) {
  return {
    rideId,
    merchantOrderId: `${cabId}.${rideId}`,
    token: newReceiptToken(),
    driverId: null,
    startedAt: '2026-11-21T17:05:00.000Z',
    endedAt: '2026-11-21T17:31:00.000Z',
    paidAt: '2026-11-21T17:32:00.000Z',
    currency: 'SEK',
    lines: Array.from({ length: lines }, (_, i) => ({ id: `line-${i}-${'x'.repeat(90)}`, kind: 'other', label: 'Ö'.repeat(100), amount: 100, vatRate: 6 })),
    orderAmount: 100 * lines,
    tipAmount: 0,
    totalAmount: 100 * lines,
    method: 'other',
    psp: null,
    pspReference: null,
    locale: 'sv',
  };
}

const emit = (tablet: TestTablet, name: string, payload: unknown) => tablet.socket.timeout(15_000).emitWithAck(name, payload) as Promise<Ack>;

function receiptsOf(dbPath: string, cabId: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM receipts WHERE cab_id = ?').get(cabId) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('per-cab quotas', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function relayWithCabs(over: Parameters<typeof startInProcess>[2], cabIds: string[]) {
    const dir = tempDir();
    const relay = await startInProcess(dir, await makeSigner(dir), over);
    cleanups.push(() => relay.app.close());
    const errors: Record<string, unknown>[] = [];
    const logger = relay.app.logger as unknown as { error: (obj: unknown, msg?: string) => void };
    const error = logger.error.bind(logger);
    logger.error = (obj: unknown, msg?: string) => {
      errors.push({ ...(obj as object), msg });
      error(obj, msg);
    };
    const tablets: TestTablet[] = [];
    for (const id of cabIds) {
      const tablet = connectTablet(relay.url, id, await addCab(relay.url, id));
      cleanups.push(() => tablet.close());
      await waitForConnect(tablet);
      tablets.push(tablet);
    }
    return { ...relay, tablets, errors };
  }

  it('stores at most 30 receipts a minute per cab, refuses the rest as rate_limited, and alerts once', async () => {
    const { app, url, tablets, errors } = await relayWithCabs({}, ['cab-q1', 'cab-q2']);
    const [flooder, neighbour] = tablets as [TestTablet, TestTablet];
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => emit(flooder, 'receipt.publish', receipt('cab-q1', `r${i}`))));
    expect(answers.filter((a) => a.ok)).toHaveLength(30);
    expect(new Set(answers.filter((a) => !a.ok).map((a) => a.error?.code))).toEqual(new Set(['rate_limited']));
    expect(receiptsOf(app.config.dbPath, 'cab-q1')).toBe(30);
    // Another cab is not held back by it.
    expect(await emit(neighbour, 'receipt.publish', receipt('cab-q2', 'n1'))).toMatchObject({ ok: true });

    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toContain('relay_cab_quota_exceeded_total{cab="cab-q1",kind="receipt_rate"} 20');
    expect(metrics).not.toContain('cab="cab-q2"');
    const alerts = errors.filter((e) => e.cabId === 'cab-q1' && e.kind === 'receipt_rate');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.msg).toMatch(/cab over its quota/);
  });

  it('refuses a receipt larger than 16 KB as invalid and stores nothing of it', async () => {
    const { app, url, tablets } = await relayWithCabs({}, ['cab-big']);
    const big = receipt('cab-big', 'big', 50); // 50 lines of 100 two-byte letters: the schema allows it
    const answer = await emit(tablets[0]!, 'receipt.publish', big);
    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid', message: expect.stringMatching(/more than the 16384 a receipt may have/) } });
    expect(receiptsOf(app.config.dbPath, 'cab-big')).toBe(0);
    expect(await emit(tablets[0]!, 'receipt.publish', receipt('cab-big', 'small', 3))).toMatchObject({ ok: true });
    expect(await (await fetchMetrics(url)).text()).toContain('relay_cab_quota_exceeded_total{cab="cab-big",kind="receipt_size"} 1');
  });

  it('keeps at most receiptsKept receipts per cab; a resend of a stored ride still updates it', async () => {
    const { app, tablets } = await relayWithCabs({ cabQuotas: { receiptsKept: 3 } }, ['cab-k']);
    const stored = [];
    for (let i = 0; i < 3; i++) {
      const r = receipt('cab-k', `k${i}`);
      expect(await emit(tablets[0]!, 'receipt.publish', r)).toMatchObject({ ok: true });
      stored.push(r);
    }
    expect(await emit(tablets[0]!, 'receipt.publish', receipt('cab-k', 'k3'))).toMatchObject({ ok: false, error: { code: 'quota_exceeded' } });
    expect(await emit(tablets[0]!, 'receipt.publish', { ...stored[0]!, tipAmount: 10, totalAmount: 110 })).toMatchObject({ ok: true });
    expect(receiptsOf(app.config.dbPath, 'cab-k')).toBe(3);
  });

  it('prunes receipts older than the retention; their links then show the 404 page', async () => {
    const { app, url, tablets } = await relayWithCabs({ receiptRetentionMs: 1 }, ['cab-old']);
    const r = receipt('cab-old', 'old');
    expect(await emit(tablets[0]!, 'receipt.publish', r)).toMatchObject({ ok: true });
    expect((await fetch(`${url}/receipts/${r.token}`)).status).toBe(200);
    await until(async () => (await app.prune()).receipts === 1 || receiptsOf(app.config.dbPath, 'cab-old') === 0, 'the receipt pruned');
    expect(receiptsOf(app.config.dbPath, 'cab-old')).toBe(0);
    expect((await fetch(`${url}/receipts/${r.token}`)).status).toBe(404);
  });

  it('takes at most 10 refund requests a minute from one cab', async () => {
    const { url, tablets } = await relayWithCabs({}, ['cab-rf']);
    const refund = (i: number) => ({
      refundId: `rf-${i}`,
      rideId: 'r1',
      merchantOrderId: 'cab-rf.r1',
      psp: 'hips',
      pspOrderId: 'ord-1',
      amount: 100,
      currency: 'SEK',
      reason: 'overcharged',
      requestedBy: 'driver',
      requestedAt: '2026-11-21T17:32:00.000Z',
    });
    const answers = await Promise.all(Array.from({ length: 13 }, (_, i) => emit(tablets[0]!, 'refund.request', refund(i))));
    // The first ten reach the refund service (which has no Hips merchant key here); three are refused first.
    expect(answers.map((a) => a.error?.code).filter((c) => c === 'rate_limited')).toHaveLength(3);
    expect(answers.slice(0, 10).map((a) => a.error?.code)).not.toContain('rate_limited');
    expect(await (await fetchMetrics(url)).text()).toContain('relay_cab_quota_exceeded_total{cab="cab-rf",kind="refund_rate"} 3');
  });

  it('reads the receipt retention from RELAY_RECEIPT_RETENTION_DAYS (180 days by default)', async () => {
    const env = { RELAY_ADMIN_TOKEN: 'a'.repeat(16), HIPS_PUBLIC_KEY_FILE: (await makeSigner()).pemFile };
    expect(loadRelayConfig(env).receiptRetentionMs).toBe(180 * 86_400_000);
    expect(loadRelayConfig({ ...env, RELAY_RECEIPT_RETENTION_DAYS: '30' }).receiptRetentionMs).toBe(30 * 86_400_000);
    expect(() => loadRelayConfig({ ...env, RELAY_RECEIPT_RETENTION_DAYS: '1' })).toThrow(/RELAY_RECEIPT_RETENTION_DAYS/);
  });

  it('makes at most 30 HitPay payment requests a minute for one cab; the rest are refused before the PSP is called', async () => {
    const sandbox: Sandbox = await testSandbox();
    cleanups.push(() => sandbox.close());
    const dir = tempDir();
    const relay = await startInProcess(dir, await makeSigner(dir), {
      hitpay: { baseUrl: sandbox.url, apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, qrTtlSeconds: 600 },
    });
    cleanups.push(() => relay.app.close());
    const added = await admin(relay.url, 'PUT', '/admin/cabs/cab-pay', { psp: 'hitpay', qrCodes: [], plate: 'SHA 1 X', label: 'Taxi' });
    const tablet = connectTablet(relay.url, 'cab-pay', added.body.deviceToken);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);

    const request = (rideId: string) => ({
      psp: 'hitpay',
      rideId,
      attempt: 1,
      orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 1100, vatRate: 9 }],
      orderAmount: 1100,
      tipAmount: 0,
      currency: 'SGD',
    });
    const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => emit(tablet, 'payment.request', request(`flood-${i}`))));
    expect(answers.filter((a) => a.ok)).toHaveLength(30);
    expect(answers.filter((a) => !a.ok).map((a) => a.error?.code)).toEqual(Array(15).fill('rate_limited'));
    const ledger = (await (await fetch(`${sandbox.url}/sandbox/hitpay/ledger`)).json()) as { payment_requests: unknown[] };
    expect(ledger.payment_requests).toHaveLength(30);
    expect(await (await fetchMetrics(relay.url)).text()).toContain('relay_cab_quota_exceeded_total{cab="cab-pay",kind="payment_rate"} 15');
  });
});
