/**
 * Reconciliation end to end, every real part on loopback: the sandbox drops every webhook of a
 * payment (the lost-payment fault, as when a relay outage outlasts the PSP's retries), and the
 * relay still learns how it ended by asking the PSP, so the kiosk shows the ride paid (or
 * failed) as the PSP says. A webhook that arrives after all changes nothing: one order.paid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentReference } from '../../backend-relay/payments/reference.js';
import type { KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import { eventually, PSP_STACK_METRICS_TOKEN, startPspStack, type PspKiosk, type PspStack } from '../helpers/psp-stack.js';

let stack: PspStack;

beforeAll(async () => {
  // Asked about once a payment has gone 300 ms without its outcome; looked for every 100 ms.
  stack = await startPspStack({ reconcileAfterMs: 300, reconcileEveryMs: 100 });
});

afterAll(async () => {
  await stack?.stop();
});

const FAULTS: Record<PspName, string> = { hips: '/sandbox/faults', vipps: '/sandbox/vipps/faults', hitpay: '/sandbox/hitpay/faults' };

async function must(res: Promise<{ status: number; body: any }>, what: string) {
  const answer = await res;
  if (answer.status >= 300) throw new Error(`${what}: the sandbox answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function endRide(kiosk: PspKiosk, fare: number): Promise<string> {
  await kiosk.must({ name: 'startRide' });
  await kiosk.must({ name: 'setFare', amountMinor: fare });
  await kiosk.must({ name: 'endRide' });
  return kiosk.core.getState().ride!.rideId;
}

/** Plays a ride the passenger pays (or declines) at the PSP; resolves with the ride id. */
const PLAY: Record<PspName, (kiosk: PspKiosk, fare: number, tip: number, outcome?: 'approve' | 'decline') => Promise<string>> = {
  async hips(kiosk, fare, tip, outcome = 'approve') {
    const { session_id } = await must(stack.sandboxCall('POST', '/sandbox/scan', { qr_data: kiosk.qrContent }), 'scan');
    await kiosk.waitFor((s) => s.session?.sessionId === session_id, 'the Hips session on the kiosk');
    const rideId = await endRide(kiosk, fare);
    await kiosk.waitFor((s) => s.ride?.order === 'created', 'the order at Hips');
    await must(stack.sandboxCall('POST', `/sandbox/sessions/${session_id}/pay`, { tip_amount: outcome === 'approve' ? tip : 0, outcome }), 'Hips pay');
    return rideId;
  },
  async vipps(kiosk, fare, tip, outcome = 'approve') {
    const { customerToken } = await must(stack.sandboxCall('POST', '/sandbox/vipps/checkin', { qrContent: kiosk.qrContent }), 'Vipps check-in');
    await kiosk.waitFor((s) => s.session !== null, 'the Vipps check-in on the kiosk');
    const rideId = await endRide(kiosk, fare);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: tip });
    const reference = paymentReference(kiosk.cabId, rideId, 1);
    await eventually(async () => {
      const pushes = await must(stack.sandboxCall('GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(customerToken)}`), 'pushes');
      return (pushes.payments as { reference: string }[]).some((p) => p.reference === reference);
    }, 'the Vipps push');
    await must(stack.sandboxCall('POST', `/sandbox/vipps/payments/${reference}/${outcome === 'approve' ? 'approve' : 'reject'}`), 'Vipps answer');
    return rideId;
  },
  async hitpay(kiosk, fare, tip, outcome = 'approve') {
    const rideId = await endRide(kiosk, fare);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: tip });
    const shown = await kiosk.waitFor((s) => s.ride?.paymentQr != null, 'the PayNow QR');
    const id = shown.ride!.paymentQr!.qrData.split('/').pop()!;
    await must(stack.sandboxCall('POST', `/sandbox/hitpay/payment-requests/${id}/${outcome === 'approve' ? 'pay' : 'fail'}`), 'HitPay answer');
    return rideId;
  },
};

async function eventsFor(kiosk: PspKiosk, rideId: string, type: 'order.paid' | 'order.failed') {
  return (await kiosk.relayEvents(type)).filter((e) => (e.data as { merchantOrderId: string }).merchantOrderId === `${kiosk.cabId}.${rideId}`);
}

async function reconciledCount(psp: PspName, outcome: string): Promise<number> {
  const metric = (await stack.relay.fastify.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${PSP_STACK_METRICS_TOKEN}` } })).body
    .split('\n')
    .find((line) => line.startsWith(`relay_reconciliations_total{psp="${psp}",outcome="${outcome}"}`));
  return metric ? Number(metric.split(' ').pop()) : 0;
}

/** The sandbox dropped this PSP's payment hooks: its ledger says so. */
async function droppedHooks(psp: PspName): Promise<number> {
  const path = psp === 'hips' ? '/sandbox/ledger' : `/sandbox/${psp}/ledger`;
  return ((await must(stack.sandboxCall('GET', path), 'ledger')).webhooks as { status: string }[]).filter((w) => w.status === 'dropped').length;
}

describe('reconciliation: a payment whose webhooks were all lost', () => {
  for (const psp of ['hips', 'vipps', 'hitpay'] as const) {
    it(`${psp}: paid at the PSP, no hook ever sent; the relay asks the PSP and the kiosk shows it paid, once`, async () => {
      const kiosk = await stack.addKiosk(psp);
      const before = { dropped: await droppedHooks(psp), paid: (await reconciledCount(psp, 'paid')) + (await reconciledCount(psp, 'authorized')) };
      await must(stack.sandboxCall('POST', FAULTS[psp], { dropPaymentWebhooks: 1 }), 'the lost-payment fault');
      const fare = psp === 'hitpay' ? 2_000 : 24_000;
      const tip = psp === 'hitpay' ? 200 : 1_200;
      const rideId = await PLAY[psp](kiosk, fare, tip);

      const paid = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the ride paid on the kiosk', 30_000);
      expect(paid.payment).toMatchObject({ rideId, method: 'psp', orderAmount: fare, tipAmount: tip, totalAmount: fare + tip });
      expect(await droppedHooks(psp)).toBeGreaterThan(before.dropped);
      expect(await eventsFor(kiosk, rideId, 'order.paid')).toHaveLength(1);
      expect((await reconciledCount(psp, 'paid')) + (await reconciledCount(psp, 'authorized'))).toBeGreaterThan(before.paid);
    });
  }

  it('hips: a declined payment whose hook was lost fails the ride with the PSP’s reason', async () => {
    const kiosk = await stack.addKiosk('hips');
    await must(stack.sandboxCall('POST', '/sandbox/faults', { dropPaymentWebhooks: 1 }), 'the lost-payment fault');
    const rideId = await PLAY.hips(kiosk, 18_000, 0, 'decline');
    const failed = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'failed', 'the ride failed on the kiosk', 30_000);
    expect(failed.ride?.failure?.message).toContain('payment_declined');
    expect(await eventsFor(kiosk, rideId, 'order.failed')).toHaveLength(1);
    expect(await eventsFor(kiosk, rideId, 'order.paid')).toHaveLength(0);
  });

  it('vipps: a rejected payment whose hooks were lost fails the ride payment_rejected', async () => {
    const kiosk = await stack.addKiosk('vipps');
    await must(stack.sandboxCall('POST', '/sandbox/vipps/faults', { dropPaymentWebhooks: 1 }), 'the lost-payment fault');
    const rideId = await PLAY.vipps(kiosk, 15_000, 0, 'decline');
    const failed = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'failed', 'the ride failed on the kiosk', 30_000);
    expect(failed.ride?.failure?.code).toBe('payment_rejected');
  });

  for (const psp of ['hips', 'hitpay'] as const) {
    it(`${psp}: a hook that arrives after the relay asked the PSP is a duplicate: one order.paid`, async () => {
      const kiosk = await stack.addKiosk(psp);
      // The hook is held back long enough for the relay to ask first.
      await must(stack.sandboxCall('POST', FAULTS[psp], { webhookDelayMs: 2_500 }), 'the delay fault');
      try {
        const rideId = await PLAY[psp](kiosk, 9_000, 0);
        await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the ride paid (by reconciliation)', 30_000);
        const path = psp === 'hips' ? '/sandbox/ledger' : '/sandbox/hitpay/ledger';
        await eventually(
          async () => {
            const hooks = (await must(stack.sandboxCall('GET', path), 'ledger')).webhooks as {
              status: string;
              order_id?: string;
              payment_request_id?: string;
            }[];
            return hooks.length > 0 && hooks.every((w) => w.status !== 'pending');
          },
          'the late hook delivered',
          20_000,
        );
        expect(await eventsFor(kiosk, rideId, 'order.paid')).toHaveLength(1);
        expect(kiosk.core.getState().payment).toMatchObject({ rideId, method: 'psp', totalAmount: 9_000 });
      } finally {
        await stack.sandboxCall('POST', FAULTS[psp], { webhookDelayMs: 0 });
      }
    });
  }
});

describe('reconciliation: what is asked and when', () => {
  it('a paid ride whose hook did arrive is not asked about: the tablet’s report is settled by the webhook', async () => {
    const kiosk = await stack.addKiosk('hips');
    const rideId = await PLAY.hips(kiosk, 12_000, 0);
    const paid: KioskSnapshot = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the ride paid');
    const row = await eventually(async () => {
      const r = await stack.relay.reconciliations.get('hips', paid.payment!.pspOrderId, kiosk.cabId);
      return r && r.status !== 'open' ? r : null;
    }, 'the reported order settled');
    expect(row).toMatchObject({ status: 'settled', outcome: 'already_settled', settledBy: 'webhook' });
  });
});
