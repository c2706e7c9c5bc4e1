/**
 * Refunds from the kiosk on all three PSPs, with every real part on loopback: a ride is paid
 * through the sandbox, then the driver unlocks the settings with the PIN and refunds part of it,
 * then the rest. Each refund is checked on the sandbox ledger and in the kiosk's recentPayments;
 * an over-refund is refused by the core before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentReference } from '../../backend-relay/payments/reference.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import type { KioskSnapshot, RecentPaymentView } from '../../protocol/kiosk-api.js';
import { eventually, PSP_STACK_PIN, startPspStack, type PspKiosk, type PspStack } from '../helpers/psp-stack.js';

let stack: PspStack;

beforeAll(async () => {
  stack = await startPspStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function must(res: Promise<{ status: number; body: any }>, what: string) {
  const answer = await res;
  if (answer.status >= 300) throw new Error(`${what}: the sandbox answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function startRideTo(kiosk: PspKiosk, fare: number) {
  await kiosk.must({ name: 'startRide' });
  await kiosk.must({ name: 'setFare', amountMinor: fare });
  await kiosk.must({ name: 'endRide' });
  return kiosk.core.getState().ride!.rideId;
}

/** A ride paid through each PSP's own passenger flow; resolves with the paid snapshot. */
const PAY_A_RIDE: Record<PspName, (kiosk: PspKiosk, fare: number, tip: number) => Promise<KioskSnapshot>> = {
  // Hips: the passenger scans, the tablet creates the order, the passenger pays with a tip in the app.
  async hips(kiosk, fare, tip) {
    const { session_id } = await must(stack.sandboxCall('POST', '/sandbox/scan', { qr_data: kiosk.qrContent }), 'scan');
    await kiosk.waitFor((s) => s.session?.sessionId === session_id, 'the Hips session on the kiosk');
    const rideId = await startRideTo(kiosk, fare);
    await kiosk.waitFor((s) => s.ride?.order === 'created', 'the order at Hips');
    await must(stack.sandboxCall('POST', `/sandbox/sessions/${session_id}/pay`, { tip_amount: tip }), 'Hips pay');
    return kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the Hips ride paid');
  },
  async vipps(kiosk, fare, tip) {
    const { customerToken } = await must(stack.sandboxCall('POST', '/sandbox/vipps/checkin', { qrContent: kiosk.qrContent }), 'Vipps check-in');
    await kiosk.waitFor((s) => s.session !== null, 'the Vipps check-in on the kiosk');
    const rideId = await startRideTo(kiosk, fare);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: tip });
    const reference = paymentReference(kiosk.cabId, rideId, 1);
    await eventually(async () => {
      const pushes = await must(stack.sandboxCall('GET', `/sandbox/vipps/pushes?customerToken=${encodeURIComponent(customerToken)}`), 'Vipps pushes');
      return (pushes.payments as { reference: string }[]).some((p) => p.reference === reference);
    }, 'the Vipps push');
    await must(stack.sandboxCall('POST', `/sandbox/vipps/payments/${reference}/approve`), 'Vipps approve');
    const paid = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the Vipps ride paid');
    // Refunds at Vipps need the capture: wait for it.
    await eventually(async () => (await vippsPayment(reference))?.captured === fare + tip, 'the Vipps capture');
    return paid;
  },
  async hitpay(kiosk, fare, tip) {
    const rideId = await startRideTo(kiosk, fare);
    await kiosk.must({ name: 'chooseTip', tipAmountMinor: tip });
    const shown = await kiosk.waitFor((s) => s.ride?.paymentQr != null, 'the PayNow QR');
    const id = shown.ride!.paymentQr!.qrData.split('/').pop()!;
    await must(stack.sandboxCall('POST', `/sandbox/hitpay/payment-requests/${id}/pay`), 'HitPay pay');
    return kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'paid', 'the HitPay ride paid');
  },
};

async function vippsPayment(reference: string) {
  return ((await must(stack.sandboxCall('GET', '/sandbox/vipps/ledger'), 'Vipps ledger')).payments as any[]).find((p) => p.reference === reference);
}

/** What the PSP's own ledger says was refunded on that payment (minor units). */
const REFUNDED_AT_PSP: Record<PspName, (pspOrderId: string) => Promise<number>> = {
  async hips(orderId) {
    const ledger = await must(stack.sandboxCall('GET', '/sandbox/ledger'), 'Hips ledger');
    return (ledger.refunds as { order_id: string; amount: number }[]).filter((r) => r.order_id === orderId).reduce((sum, r) => sum + r.amount, 0);
  },
  async vipps(reference) {
    return (await vippsPayment(reference)).refunded as number;
  },
  async hitpay(paymentId) {
    const ledger = await must(stack.sandboxCall('GET', '/sandbox/hitpay/ledger'), 'HitPay ledger');
    return (ledger.payments as { id: string; refunded_minor: number }[]).find((p) => p.id === paymentId)!.refunded_minor;
  },
};

const CASES: { psp: PspName; fare: number; tip: number }[] = [
  { psp: 'hips', fare: 30_000, tip: 3_000 },
  { psp: 'vipps', fare: 25_000, tip: 2_500 },
  { psp: 'hitpay', fare: 2_000, tip: 200 },
];

function recent(s: KioskSnapshot, rideId: string): RecentPaymentView | undefined {
  return s.recentPayments.find((p) => p.rideId === rideId);
}

describe('refunds from the kiosk: kiosk core + relay + sandbox', () => {
  for (const { psp, fare, tip } of CASES) {
    it(`${psp}: a partial refund behind the PIN, an over-refund refused by the core, then the rest`, async () => {
      const kiosk = await stack.addKiosk(psp);
      const paid = await PAY_A_RIDE[psp](kiosk, fare, tip);
      const total = fare + tip;
      const rideId = paid.ride!.rideId;
      const pspOrderId = paid.payment!.pspOrderId;
      expect(paid.payment).toMatchObject({ method: 'psp', orderAmount: fare, tipAmount: tip, totalAmount: total });
      expect(recent(paid, rideId)).toMatchObject({ totalAmount: total, refundedAmount: 0, refundableAmount: total, refund: null });
      expect(await REFUNDED_AT_PSP[psp](pspOrderId)).toBe(0);

      // Refunds only behind the driver's PIN.
      expect(await kiosk.core.execute({ name: 'refundRide', rideId, amountMinor: 100 })).toMatchObject({ ok: false, error: { code: 'settings_locked' } });
      expect(await kiosk.core.execute({ name: 'unlockSettings', pin: '0000' })).toMatchObject({ ok: false, error: { code: 'pin_wrong' } });
      await kiosk.must({ name: 'unlockSettings', pin: PSP_STACK_PIN });

      const part = Math.floor(total * 0.3);
      await kiosk.must({ name: 'refundRide', rideId, amountMinor: part, reason: 'Detour' });
      const first = await kiosk.waitFor((s) => recent(s, rideId)?.refund?.state === 'refunded', `the ${psp} partial refund confirmed`);
      expect(recent(first, rideId)).toMatchObject({ refundedAmount: part, refundableAmount: total - part, refund: { amount: part, failure: null } });
      expect(await REFUNDED_AT_PSP[psp](pspOrderId)).toBe(part);

      // More than what is left is refused by the core; nothing reaches the PSP.
      expect(await kiosk.core.execute({ name: 'refundRide', rideId, amountMinor: total - part + 1 })).toMatchObject({
        ok: false,
        error: { code: 'refund_too_large' },
      });
      expect(recent(kiosk.core.getState(), rideId)).toMatchObject({ refundedAmount: part, refundableAmount: total - part });

      await kiosk.must({ name: 'refundRide', rideId, amountMinor: total - part });
      const second = await kiosk.waitFor(
        (s) => recent(s, rideId)?.refundedAmount === total && recent(s, rideId)?.refund?.state === 'refunded',
        `the rest of the ${psp} refund`,
      );
      expect(recent(second, rideId)).toMatchObject({ refundedAmount: total, refundableAmount: 0, refund: { amount: total - part } });
      expect(await REFUNDED_AT_PSP[psp](pspOrderId)).toBe(total);
      expect(await kiosk.core.execute({ name: 'refundRide', rideId, amountMinor: 1 })).toMatchObject({ ok: false, error: { code: 'refund_too_large' } });

      // The relay logged each refund once, by the kiosk's refund id.
      const refunded = (await kiosk.relayEvents('order.refunded')).map((e) => (e.data as { amount: number }).amount);
      expect(refunded).toEqual([part, total - part]);
      await eventually(async () => ((await stack.relay.store.backlogByCab()).get(kiosk.cabId) ?? 0) === 0, 'every event acked by the kiosk');
      expect(recent(kiosk.core.getState(), rideId)?.refundedAmount).toBe(total);
    });
  }
});
