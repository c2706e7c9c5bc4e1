/**
 * The end of a ride where the relay makes the payment (PSP_CAPABILITIES.relayMakesPayment: Vipps,
 * HitPay): the passenger picks the tip on the tablet, then approves the payment pushed to their
 * Vipps app or pays the PayNow QR the tablet shows. Failed payments are retried (`retryPayment`,
 * for Vipps sometimes after a fresh check-in) or taken another way, as the plan says. Like the Hips
 * script it reacts to the screen and branches on capabilities, not on the PSP's name.
 */
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import { maxTip } from '../../protocol/money.js';
import { Phone } from './phone.js';
import type { RidePlan, Step } from './plan.js';
import type { RideRecord } from './ride.js';
import type { Cab } from './stack.js';

/** Payment attempts (the first plus retries) before the driver takes payment another way. */
const MAX_ATTEMPTS = 5;
/** A check-in whose session has not reached the tablet by then is made again (hooks retry ~23 s). */
const CHECK_IN_PATIENCE_MS = 30_000;

export interface RelayRideContext {
  plan: RidePlan;
  cab: Cab;
  phone: Phone;
  record: RideRecord;
  rideId: string;
  deadline: number;
  step(name: Step): Promise<void>;
  must(command: KioskCommand): Promise<void>;
  /** Vipps: the passenger checks in at the cab's QR (a new customer token). */
  checkIn(): Promise<void>;
  /** The passenger's customer tokens this ride, oldest first (a retry may still use an earlier live check-in). */
  tokens(): string[];
  lastCheckInAt(): number;
}

/** Plays the ride from `endRide` until paid, paid another way, off screen, or the deadline. */
export async function payThroughRelay(ctx: RelayRideContext): Promise<void> {
  const { plan, cab, phone, record, rideId } = ctx;
  const kiosk = cab.kiosk;
  let attempts = 1;
  let failedOnce = false;
  let orderStepDone = false;
  /** Payments (Vipps reference, HitPay request id) the passenger already acted on. */
  const decided = new Set<string>();
  const failsFirst = () => plan.passenger === 'cancel_then_pay' && !failedOnce;
  const givesUp = () => plan.passenger === 'decline' || plan.passenger === 'never_pay' || attempts >= MAX_ATTEMPTS;

  while (Date.now() < ctx.deadline) {
    const s = kiosk.snapshot;
    if (record.offScreen) {
      // The next ride is on screen; this one's payment completes in the background.
      if (!record.expected) {
        // The passenger could not pay after the driver moved on: once the tablet lists the ride as
        // failed, the driver takes payment another way from the rides that need attention.
        if (await settledFromList(kiosk, rideId)) {
          record.outcome = 'paid_other';
          return;
        }
        await kiosk.waitFor((next) => next !== s, 250);
        continue;
      }
      if (s?.pendingRides === 0 && s.connectivity.relay === 'online') {
        record.outcome = 'paid_psp'; // the store check compares it with the PSP's ledger
        return;
      }
      await kiosk.waitFor((next) => next !== s, 250);
      continue;
    }
    const ride = s?.ride ?? null;
    if (!s || !ride || ride.rideId !== rideId) throw new Error(`the tablet shows ${ride ? `ride ${ride.rideId}` : 'no ride'} instead of ride ${rideId}`);
    const caps = s.cab.capabilities;

    if (ride.state === 'paid') {
      record.shown = s.payment;
      record.outcome = s.payment?.method === 'psp' ? 'paid_psp' : 'paid_other';
      return;
    }

    const sessionLive = s.session !== null && (s.session.state === 'ready' || s.session.state === 'in_use');
    if (ride.state === 'ended' && caps.tipOnTablet && ride.tipAmount === null) {
      await ctx.step('order');
      orderStepDone = true;
      await ctx.must({ name: 'chooseTip', tipAmountMinor: Math.floor(maxTip(ride.orderAmount) * plan.tipShare) });
    } else if (ride.state === 'ended' && caps.needsScanSession && !sessionLive && Date.now() - ctx.lastCheckInAt() > CHECK_IN_PATIENCE_MS) {
      // Tip picked, no check-in on the tablet (none yet, or its hook was lost for good).
      await ctx.checkIn();
    } else if (ride.state === 'failed') {
      const code = ride.failure?.code ?? '';
      if (code === 'customer_token_expired' && record.scans < MAX_ATTEMPTS) {
        // The screen asks for a new scan; the tablet re-sends the payment with the new check-in.
        if (Date.now() - ctx.lastCheckInAt() > 2_000) await ctx.checkIn();
      } else if (code === 'payment_unconfirmed' || givesUp()) {
        // The driver's option after a failed payment: take it another way.
        await ctx.must({ name: 'markPaidOtherwise' });
      } else {
        attempts++;
        // A Vipps passenger sometimes scans again before the driver retries.
        if (caps.needsScanSession && attempts % 2 === 0) await ctx.checkIn();
        // Refused when the new check-in already re-sent it: the loop reads the screen again.
        await kiosk.execute({ name: 'retryPayment' });
      }
    } else if (ride.state === 'awaiting_payment' && ride.order === 'created') {
      const target = await payable(phone, ctx.tokens(), ride.paymentQr?.qrData ?? null, caps.dynamicQr, decided);
      if (target) {
        if (!orderStepDone) {
          orderStepDone = true;
          await ctx.step('order');
        }
        decided.add(target);
        const tipAmount = ride.tipAmount ?? 0;
        const expectation = { orderAmount: ride.orderAmount, tipAmount };
        if (plan.leavePending) {
          // The passenger is still paying; the driver takes the next fare meanwhile.
          await ctx.must({ name: 'startRide' });
          record.offScreen = true;
          await ctx.step('pay');
          const paid = await decide(phone, caps.dynamicQr, target, 'pay');
          if (paid.ok) record.expected = { pspOrderId: paid.pspOrderId, ...expectation };
          await ctx.step('paid');
          continue;
        }
        const fails = plan.passenger === 'decline' || (plan.passenger === 'never_pay' && caps.dynamicQr) || failsFirst();
        if (plan.passenger === 'never_pay' && !caps.dynamicQr) {
          // Nobody approves: the pushed payment expires.
        } else {
          await ctx.step('pay');
          const result = await decide(phone, caps.dynamicQr, target, fails ? 'fail' : 'pay');
          if (fails) failedOnce = true;
          else if (result.ok) record.expected = { pspOrderId: result.pspOrderId, ...expectation };
          await ctx.step('paid');
        }
      }
    }
    await kiosk.waitFor((next) => next !== s, 250);
  }
}

/**
 * What the passenger can pay now that they have not acted on: the newest Vipps payment pushed to
 * any of their check-ins this ride and still CREATED, or the request in the tablet's PayNow QR.
 */
async function payable(phone: Phone, tokens: string[], qrData: string | null, dynamicQr: boolean, decided: Set<string>): Promise<string | null> {
  if (dynamicQr) {
    if (!qrData) return null;
    const id = Phone.hitpayRequestId(qrData);
    return decided.has(id) ? null : id;
  }
  for (const token of [...tokens].reverse()) {
    const { payments } = await phone.vippsPushes(token);
    const open = payments.filter((p) => p.state === 'CREATED' && !decided.has(p.reference));
    if (open.length > 0) return open.at(-1)!.reference;
  }
  return null;
}

/** Pays or fails it; `pspOrderId` is what the tablet should hold (Vipps reference, HitPay payment id). */
async function decide(phone: Phone, dynamicQr: boolean, target: string, outcome: 'pay' | 'fail'): Promise<{ ok: boolean; pspOrderId: string }> {
  if (dynamicQr) {
    const r = await phone.hitpay(target, outcome);
    return { ok: r.ok && r.paymentId !== null, pspOrderId: r.paymentId ?? '' };
  }
  return { ok: await phone.vippsDecide(target, outcome === 'pay' ? 'approve' : 'reject'), pspOrderId: target };
}

/**
 * The driver, already on the next ride, settles a ride left behind from the rides that need
 * attention once the tablet lists it as failed (or never paid): paid another way. False while
 * the tablet does not list it so yet.
 */
export async function settledFromList(kiosk: Cab['kiosk'], rideId: string): Promise<boolean> {
  const listed = kiosk.snapshot?.ridesNeedingAttention.find((r) => r.rideId === rideId);
  if (listed?.status !== 'failed' && listed?.status !== 'open') return false;
  const result = await kiosk.execute({ name: 'markPaidOtherwise', rideId });
  return result.ok;
}
