/**
 * `order.created` and what the relay does with it, against the real relay and sandbox: the
 * tablet's report is only a pointer (the relay checks every claim at Hips with the merchant key),
 * a report is validated, and a relay that cannot ask Hips says so. Also the reconciliation
 * lease: a node that does not hold it does not run.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteLease } from '../../backend-relay/reconcile/lease.js';
import { RECONCILE_LEASE } from '../../backend-relay/reconcile/reconciler.js';
import { openRelayDatabase } from '../../backend-relay/store/sqlite-store.js';
import { SOCKET_EVENTS, type OrderCreated } from '../../protocol/relay-protocol.js';
import { tempDir } from '../core/helpers.js';
import { connectTablet, makeSigner, startInProcess, waitForConnect, addCab } from '../relay/helpers.js';
import { eventually, startPspStack, type PspKiosk, type PspStack } from '../helpers/psp-stack.js';

let stack: PspStack;

beforeAll(async () => {
  stack = await startPspStack({ reconcileAfterMs: 200, reconcileEveryMs: 100 });
});

afterAll(async () => {
  await stack?.stop();
});

/** Speaks as the cab's tablet on its own socket (the kiosk core of that cab is stopped first). */
async function asTablet(kiosk: PspKiosk) {
  await kiosk.core.stop();
  const tablet = connectTablet(stack.relayUrl, kiosk.cabId, kiosk.config.deviceToken);
  await waitForConnect(tablet);
  return {
    report: (payload: unknown) => tablet.socket.timeout(5_000).emitWithAck(SOCKET_EVENTS.orderCreated, payload) as Promise<any>,
    close: () => tablet.close(),
  };
}

/** A Hips ride of `kiosk` whose order exists at the sandbox, left unpaid; resolves with its ids. */
async function orderAtHips(kiosk: PspKiosk): Promise<{ rideId: string; pspOrderId: string }> {
  const scanned = await stack.sandboxCall('POST', '/sandbox/scan', { qr_data: kiosk.qrContent });
  await kiosk.waitFor((s) => s.session?.sessionId === scanned.body.session_id, 'the session');
  await kiosk.must({ name: 'startRide' });
  await kiosk.must({ name: 'setFare', amountMinor: 10_000 });
  await kiosk.must({ name: 'endRide' });
  const created = await kiosk.waitFor((s) => s.ride?.order === 'created', 'the order at Hips');
  const ledger = await stack.sandboxCall('GET', '/sandbox/ledger');
  const order = (ledger.body.orders as { id: string; order_id: string }[]).find((o) => o.order_id === created.ride!.merchantOrderId)!;
  return { rideId: created.ride!.rideId, pspOrderId: order.id };
}

const report = (cabId: string, rideId: string, pspOrderId: string, over: Partial<OrderCreated> = {}): OrderCreated => ({
  psp: 'hips',
  rideId,
  attempt: 1,
  merchantOrderId: `${cabId}.${rideId}`,
  pspOrderId,
  createdAt: new Date().toISOString(),
  ...over,
});

describe('order.created', () => {
  it('the kiosk reports each order it made; the relay follows it until a webhook or Hips settles it', async () => {
    const kiosk = await stack.addKiosk('hips');
    const { pspOrderId } = await orderAtHips(kiosk);
    const row = await eventually(() => stack.relay.reconciliations.get('hips', pspOrderId, kiosk.cabId), 'the order followed by the relay');
    expect(row).toMatchObject({ psp: 'hips', cabId: kiosk.cabId, attempt: 1 });
  });

  it('is validated: a bad shape, another cab’s ride id, a relay-made PSP', async () => {
    const hips = await stack.addKiosk('hips');
    const vipps = await stack.addKiosk('vipps');
    const tablet = await asTablet(hips);
    try {
      const bad = await tablet.report({ psp: 'hips', rideId: 'r1' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
      expect(bad.error.message).toMatch(/pspOrderId/);
      const other = await tablet.report(report(hips.cabId, 'r1', 'o-1', { merchantOrderId: `${vipps.cabId}.r1` }));
      expect(other).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      const wrong = await tablet.report(report(hips.cabId, 'r1', 'o-1', { psp: 'vipps' }));
      expect(wrong).toMatchObject({ ok: false, error: { code: 'wrong_psp' } });
    } finally {
      tablet.close();
    }
    const vippsTablet = await asTablet(vipps);
    try {
      expect(await vippsTablet.report(report(vipps.cabId, 'r1', 'o-1'))).toMatchObject({ ok: false, error: { code: 'wrong_psp' } });
    } finally {
      vippsTablet.close();
    }
  });

  it('a cab that claims another cab’s order: Hips says whose it is, so the claim is rejected and nothing reaches the claimant', async () => {
    const owner = await stack.addKiosk('hips');
    const thief = await stack.addKiosk('hips');
    const { pspOrderId } = await orderAtHips(owner);
    // The thief claims the owner's order for a ride of its own.
    const tablet = await asTablet(thief);
    try {
      expect(await tablet.report(report(thief.cabId, 'stolen-ride', pspOrderId))).toEqual({ ok: true, value: { tracked: true } });
      const row = await eventually(async () => {
        const r = await stack.relay.reconciliations.get('hips', pspOrderId, thief.cabId);
        return r?.status === 'rejected' ? r : null;
      }, 'the claim rejected');
      expect(row.detail).toContain(owner.cabId);
      expect(await thief.relayEvents('order.paid')).toEqual([]);
      expect(await thief.relayEvents('order.failed')).toEqual([]);
      // The owner's own report of the same order is followed on its own.
      expect(await stack.relay.reconciliations.get('hips', pspOrderId, owner.cabId)).toMatchObject({ cabId: owner.cabId });
    } finally {
      tablet.close();
    }
  });

  it('an order id Hips does not know is rejected after a few checks', async () => {
    const kiosk = await stack.addKiosk('hips');
    const tablet = await asTablet(kiosk);
    try {
      expect(await tablet.report(report(kiosk.cabId, 'r-unknown', 'no-such-order'))).toMatchObject({ ok: true });
      expect(await tablet.report(report(kiosk.cabId, 'r-unknown', 'no-such-order'))).toMatchObject({ ok: true }); // idempotent
      const row = await eventually(
        async () => {
          const r = await stack.relay.reconciliations.get('hips', 'no-such-order', kiosk.cabId);
          return r?.status === 'rejected' ? r : null;
        },
        'the unknown order given up',
        20_000,
      );
      expect(row).toMatchObject({ outcome: 'unknown', checks: 3 });
    } finally {
      tablet.close();
    }
  });
});

describe('order.created on a relay without the Hips merchant key', () => {
  it('is refused as unsupported, naming the variables to set', async () => {
    const dir = tempDir('cabpay-order-reports-');
    const signer = await makeSigner(dir);
    const { app, url } = await startInProcess(dir, signer);
    try {
      const token = await addCab(url, 'cab-nokey');
      const tablet = connectTablet(url, 'cab-nokey', token);
      await waitForConnect(tablet);
      const answer = (await tablet.socket.timeout(5_000).emitWithAck(SOCKET_EVENTS.orderCreated, report('cab-nokey', 'r1', 'o-1'))) as any;
      tablet.close();
      expect(answer).toMatchObject({ ok: false, error: { code: 'unsupported' } });
      expect(answer.error.message).toContain('HIPS_API_URL and HIPS_MERCHANT_KEY');
    } finally {
      await app.close();
    }
  });
});

describe('the reconcile lease', () => {
  it('one holder at a time; another takes over once it runs out; a node without it does not run', async () => {
    const dbPath = path.join(tempDir('cabpay-lease-'), 'relay.db');
    openRelayDatabase(dbPath).close();
    const a = new SqliteLease(new Database(dbPath));
    const b = new SqliteLease(new Database(dbPath));
    expect(a.acquire('job', 1_000, 10_000)).toBe(true);
    expect(b.acquire('job', 1_000, 10_500)).toBe(false);
    expect(a.acquire('job', 1_000, 10_900)).toBe(true); // renewed until 11 900
    expect(b.acquire('job', 1_000, 11_800)).toBe(false);
    expect(b.acquire('job', 1_000, 11_900)).toBe(true);
    expect(a.acquire('job', 1_000, 12_000)).toBe(false);
    b.release('job');
    expect(a.acquire('job', 1_000, 12_000)).toBe(true);

    // The stack's relay: while another node holds the lease, a run does nothing.
    const db = new Database(path.join(stack.relay.config.dbPath));
    db.prepare(
      `INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, 'another-node', ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
    ).run(RECONCILE_LEASE, Date.now() + 60_000);
    try {
      expect(await stack.relay.reconciler.run()).toMatchObject({ ran: false, checked: 0 });
    } finally {
      db.prepare(`DELETE FROM leases WHERE name = ?`).run(RECONCILE_LEASE);
      db.close();
    }
    expect(await stack.relay.reconciler.run()).toMatchObject({ ran: true });
  });
});
