/**
 * One ride played by a driver and a passenger, with the plan's faults at each step. The script
 * reacts to what the tablet shows, as people would: it rescans when the screen asks for a new
 * scan, and takes payment another way when the PSP payment failed for good.
 */
import type { KioskSnapshot, RideView } from '../../protocol/kiosk-api.js';
import { maxTip } from '../../protocol/money.js';
import type { FaultInjector } from './faults.js';
import type { Phone } from './phone.js';
import type { RidePlan, Step } from './plan.js';
import { payThroughRelay, settledFromList } from './ride-relay.js';
import { CHAOS_PIN, type Cab } from './stack.js';

/** A ride not finished by then is reported as stuck (with whatever reason the screen shows). */
export const RIDE_DEADLINE_MS = 180_000;
const MAX_SCANS = 6;

export interface ExpectedPayment {
  pspOrderId: string;
  orderAmount: number;
  tipAmount: number;
}

export interface RideRecord {
  index: number;
  cabId: string;
  psp: RidePlan['psp'];
  rideId: string | null;
  merchantOrderId: string | null;
  outcome: 'paid_psp' | 'paid_other' | 'canceled' | 'failed_off_screen' | 'stuck' | 'error';
  /** The PSP payment the passenger made, as the phone saw it. */
  expected: ExpectedPayment | null;
  /** The payment the tablet showed when it said paid. */
  shown: KioskSnapshot['payment'];
  scans: number;
  /** The driver started the next ride while this payment was pending; it finished off screen. */
  offScreen: boolean;
  problem: string | null;
  /** For a stuck ride: the reason on screen, if any. */
  reasonShown: string | null;
  /** The partial refund the driver asked for (and the tablet accepted) after the ride was paid. */
  refundAsked: number | null;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A ride the script could not finish by the deadline: stuck, with whatever reason the screen shows. */
function stuckOrError(record: RideRecord, snapshot: KioskSnapshot | null, rideId: string): RideRecord {
  record.outcome = 'stuck';
  const last = snapshot?.ride;
  const onScreen = last?.rideId === rideId;
  record.reasonShown = onScreen ? (last?.failure?.message ?? null) : null;
  record.problem = `not finished after ${RIDE_DEADLINE_MS / 1000} s: ${onScreen ? `${last?.state}/${last?.order}` : 'off screen, payment still pending'}`;
  return record;
}
const TERMINAL_PHONE_STATES = new Set(['canceled', 'timed_out', 'down', 'failed', 'paid', 'expired']);

export async function playRide(plan: RidePlan, cab: Cab, phone: Phone, faults: FaultInjector, orderTimeoutMs: number): Promise<RideRecord> {
  const record = await playRideToTheEnd(plan, cab, phone, faults, orderTimeoutMs);
  if (plan.refundShare !== null && record.outcome === 'paid_psp' && record.shown && record.rideId) {
    try {
      if (plan.lateAnswer) await faults.lateAnswer('refund', cab.psp);
      await refund(cab, record.rideId, Math.max(1, Math.floor(record.shown.totalAmount * plan.refundShare)), record);
    } catch (err) {
      record.outcome = 'error';
      record.problem = `refund: ${(err as Error).message}`;
    }
  }
  return record;
}

/** The driver opens the settings with the PIN and refunds part of the ride just paid. */
async function refund(cab: Cab, rideId: string, amountMinor: number, record: RideRecord): Promise<void> {
  const kiosk = cab.kiosk;
  for (let tries = 1; ; tries++) {
    const unlocked = await kiosk.execute({ name: 'unlockSettings', pin: CHAOS_PIN });
    if (!unlocked.ok) throw new Error(`unlockSettings refused: ${unlocked.error.code}: ${unlocked.error.message}`);
    const asked = await kiosk.execute({ name: 'refundRide', rideId, amountMinor, reason: 'chaos: partial refund' });
    if (asked.ok) {
      record.refundAsked = amountMinor;
      break;
    }
    // A restart between the two locks the settings again.
    if (asked.error.code !== 'settings_locked' || tries >= 3) throw new Error(`refundRide ${amountMinor} refused: ${asked.error.code}: ${asked.error.message}`);
  }
  await kiosk.execute({ name: 'lockSettings' });
}

async function playRideToTheEnd(plan: RidePlan, cab: Cab, phone: Phone, faults: FaultInjector, orderTimeoutMs: number): Promise<RideRecord> {
  const started = Date.now();
  const kiosk = cab.kiosk;
  const record: RideRecord = {
    index: plan.index,
    cabId: cab.cabId,
    psp: plan.psp,
    rideId: null,
    merchantOrderId: null,
    outcome: 'error',
    expected: null,
    shown: null,
    scans: 0,
    offScreen: false,
    problem: null,
    reasonShown: null,
    refundAsked: null,
    ms: 0,
  };
  const step = (name: Step) => faults.at(name, plan, cab);
  const must = async (command: Parameters<typeof kiosk.execute>[0]) => {
    const result = await kiosk.execute(command);
    if (!result.ok) throw new Error(`${command.name} refused: ${result.error.code}: ${result.error.message}`);
  };
  let phoneSession: string | null = null;
  // Vipps: the passenger's check-in token and when it was made.
  let customerToken: string | null = null;
  const customerTokens: string[] = [];
  let checkedInAt = 0;
  const checkIn = async () => {
    record.scans++;
    checkedInAt = Date.now();
    customerToken = await phone.vippsCheckIn(cab.qrData);
    customerTokens.push(customerToken);
  };
  // What "scan the cab's QR" means for this cab's PSP (nothing without a static QR: HitPay).
  const relayMade = cab.psp !== 'hips';
  const scan = async () => {
    if (!cab.qrData) return;
    if (relayMade) return checkIn();
    record.scans++;
    const { sessionId } = await phone.scan(cab.qrData);
    phoneSession = sessionId;
  };

  try {
    await kiosk.start();
    // The previous ride's result stays on screen until the driver moves on.
    const before = kiosk.snapshot?.ride;
    if (before && (before.state === 'paid' || before.state === 'failed' || before.state === 'canceled')) await must({ name: 'dismiss' });
    await step('start');
    // A ride the driver already started while the previous payment was pending is this one.
    const preStarted = before?.state === 'on_ride' ? before : null;
    // Vipps, early: the passenger checks in before the ride starts (the tablet keeps it as "passenger ready").
    const readyBeforeStart = relayMade && plan.scan === 'early' && plan.passenger !== 'driver_cancels' && !preStarted;
    if (readyBeforeStart) await scan();
    if (!preStarted) await must({ name: 'startRide' });
    const onRide = await kiosk.waitFor(
      (s) => s.ride?.state === 'on_ride' && (preStarted ? s.ride.rideId === preStarted.rideId : s.ride.rideId !== before?.rideId),
      30_000,
    );
    if (!onRide?.ride) throw new Error('the new ride never showed on the tablet');
    const rideId = onRide.ride.rideId;
    record.rideId = rideId;
    record.merchantOrderId = onRide.ride.merchantOrderId;
    if (plan.scan === 'early' && plan.passenger !== 'driver_cancels' && !readyBeforeStart) await scan();
    await must({ name: 'setFare', amountMinor: plan.fare });
    if (plan.extra) await must({ name: 'addExtra', extra: { kind: 'toll', amountMinor: plan.extra } });

    if (plan.passenger === 'driver_cancels') {
      await must({ name: 'cancelRide' });
      const canceled = await kiosk.waitFor((s) => s.ride?.rideId === rideId && s.ride.state === 'canceled', 30_000);
      record.outcome = canceled ? 'canceled' : 'error';
      if (!canceled) record.problem = 'cancelRide was accepted but the ride never showed canceled';
      return record;
    }
    // Hips, scanned long before the end: the session runs out while the ride goes on.
    if (plan.scan === 'early' && !relayMade) await sleep(orderTimeoutMs + 1_000);
    await step('scan');
    if (plan.scan === 'before_end') await scan();
    if (plan.passenger === 'cancel_before_order' && phoneSession) await phone.cancel(phoneSession);
    await step('end');
    await must({ name: 'endRide' });
    if (plan.scan === 'after_end') await scan();
    // Vipps: the check-in runs out before the payment is pushed; the passenger checks in again.
    if (plan.passenger === 'cancel_before_order' && customerToken) await phone.vippsExpireToken(customerToken);

    if (relayMade) {
      await payThroughRelay({
        plan,
        cab,
        phone,
        record,
        rideId,
        deadline: started + RIDE_DEADLINE_MS,
        step,
        must,
        checkIn,
        tokens: () => customerTokens,
        lastCheckInAt: () => checkedInAt,
      });
      if (record.outcome === 'error') return stuckOrError(record, kiosk.snapshot, rideId);
      return record;
    }

    let canceledOnce = false;
    let orderStepDone = false;
    const deadline = started + RIDE_DEADLINE_MS;
    while (Date.now() < deadline) {
      const s = kiosk.snapshot;
      if (record.offScreen) {
        // The next ride is on screen; this one's payment completes in the background.
        const phoneState = await phone.session(phoneSession!);
        if (!record.expected && phoneState.state === 'awaiting_payment' && phoneState.order?.order_id === record.merchantOrderId) {
          const tip = Math.floor(maxTip(phoneState.order.order_amount) * plan.tipShare);
          await step('pay');
          const paid = await phone.pay(phoneSession!, tip, 'approve');
          if (paid.ok) record.expected = { pspOrderId: phoneState.order.id, orderAmount: phoneState.order.order_amount, tipAmount: tip };
          await step('paid');
        } else if (!record.expected && TERMINAL_PHONE_STATES.has(phoneState.state)) {
          // The passenger never paid (here: the order expired while the tablet restarted). Once the
          // tablet lists the ride as failed, the driver takes payment another way from that list.
          if (await settledFromList(kiosk, rideId)) {
            record.outcome = 'paid_other';
            return record;
          }
        } else if (record.expected && s?.pendingRides === 0 && s.connectivity.relay === 'online') {
          record.outcome = 'paid_psp'; // the store check compares it with the PSP's ledger
          return record;
        }
        await kiosk.waitFor((next) => next !== s, 250);
        continue;
      }
      const ride: RideView | null = s?.ride ?? null;
      if (!ride || ride.rideId !== rideId) throw new Error(`the tablet shows ${ride ? `ride ${ride.rideId}` : 'no ride'} instead of ride ${rideId}`);

      if (ride.state === 'paid') {
        record.shown = s!.payment;
        record.outcome = s!.payment?.method === 'psp' ? 'paid_psp' : 'paid_other';
        return record;
      }

      const phoneState = phoneSession ? await phone.session(phoneSession) : null;
      const phoneDone = !phoneState || TERMINAL_PHONE_STATES.has(phoneState.state);

      if (ride.state === 'failed' || ride.state === 'ended') {
        const paymentFailed = ride.failure?.code === 'payment_failed';
        const givesUp = plan.passenger === 'decline' || plan.passenger === 'never_pay' || record.scans >= MAX_SCANS;
        if (ride.state === 'failed' && ride.failure?.code === 'payment_unconfirmed' && phoneState?.state === 'paid') {
          // The screen says to check the passenger's app; it shows paid, so the driver records that.
          // (The PSP payment then never reached the tablet: the reconciliation reports it.)
          await must({ name: 'markPaidOtherwise' });
        } else if (ride.state === 'failed' && (paymentFailed || ride.failure?.code === 'order_rejected') && givesUp) {
          // The driver's option after a failed payment: take it another way.
          await must({ name: 'markPaidOtherwise' });
        } else if (phoneDone && record.scans < MAX_SCANS) {
          await step('scan');
          await scan();
        } else if (phoneDone) {
          await must({ name: 'markPaidOtherwise' });
        }
      } else if (
        ride.state === 'awaiting_payment' &&
        ride.order === 'created' &&
        phoneState?.state === 'awaiting_payment' &&
        phoneState.order?.order_id === ride.merchantOrderId
      ) {
        if (!orderStepDone) {
          orderStepDone = true;
          await step('order');
        }
        if (plan.leavePending) {
          // The passenger is still paying; the driver takes the next fare meanwhile.
          await must({ name: 'startRide' });
          record.offScreen = true;
          continue;
        }
        if (plan.passenger === 'never_pay') {
          // waits for the order to expire
        } else if (plan.passenger === 'cancel_then_pay' && !canceledOnce) {
          canceledOnce = true;
          await phone.cancel(phoneSession!);
        } else if (!record.expected) {
          const order = phoneState.order;
          const tip = Math.floor(maxTip(order.order_amount) * plan.tipShare);
          await step('pay');
          const decline = plan.passenger === 'decline';
          const paid = await phone.pay(phoneSession!, decline ? 0 : tip, decline ? 'decline' : 'approve');
          if (paid.ok && !decline) record.expected = { pspOrderId: order.id, orderAmount: order.order_amount, tipAmount: tip };
          await step('paid');
        }
      }
      await kiosk.waitFor((next) => next !== s, 250);
    }
    return stuckOrError(record, kiosk.snapshot, rideId);
  } catch (err) {
    record.outcome = 'error';
    record.problem = (err as Error).message;
    return record;
  } finally {
    record.ms = Date.now() - started;
  }
}
