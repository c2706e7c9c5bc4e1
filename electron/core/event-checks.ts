/**
 * The tablet checks every relay event that touches money against its own records before the
 * ride machine applies it: a buggy or hostile relay must not make the cab show "paid", nor show
 * the passenger a QR that pays someone else or the wrong amount. An event that fails is
 * refused (acked `rejected`, never applied); an event that is merely stale (an older attempt,
 * a ride that moved on) is not refused here: the ride machine ignores it as before.
 */
import { maxTip } from '../../protocol/money.js';
import type { PspCapabilities } from '../../protocol/psp-capabilities.js';
import type { PspName, RelayEvent } from '../../protocol/relay-protocol.js';
import { orderAmountOf, type PaymentRecord, type Ride } from './model.js';
import { paymentQrProblem, type PaymentQrRule } from './payment-qr.js';

/** What the checks compare an event with: this cab, and its own records. */
export interface CheckContext {
  cabId: string;
  currency: string;
  psp: PspName;
  capabilities: PspCapabilities;
  paymentQr: PaymentQrRule;
  screenRide: Ride | null;
}

export interface CheckLookups {
  ride(rideId: string): Ride | null;
  rideByMerchantOrderId(merchantOrderId: string): Ride | null;
  payment?(rideId: string): (PaymentRecord & { refundedAmount: number }) | null;
}

export interface Refusal {
  /** Why, in English, for the relay's log and the driver's support. */
  reason: string;
  /** The ride it was about, when that is a ride of this tablet's (the driver is told if it is on screen). */
  rideId: string | null;
}

/** States in which a payment confirmation may land: the payment was asked for, or already settled. */
const PAYABLE: ReadonlySet<Ride['state']> = new Set(['awaiting_payment', 'failed', 'paid']);

/** The reason to refuse `event`, or null when it may go to the ride machine. */
export function refusalOf(ctx: CheckContext, lookups: CheckLookups, event: RelayEvent): Refusal | null {
  switch (event.type) {
    case 'qr.session.started':
      return event.data.psp === ctx.psp ? null : { reason: `a ${event.data.psp} session, but this cab pays with ${ctx.psp}`, rideId: null };

    case 'qr.session.canceled':
    case 'qr.session.timed_out':
      return null;

    case 'order.paid': {
      const found = ownRide(ctx, lookups, event.data.merchantOrderId);
      if ('reason' in found) return found;
      const { ride } = found;
      const d = event.data;
      const refuse = (reason: string): Refusal => ({ reason, rideId: ride.rideId });
      if (!PAYABLE.has(ride.state) || ride.attempt === 0) return refuse(`no payment was asked for (the ride is ${ride.state})`);
      if (d.currency !== ctx.currency || d.currency !== ride.currency) return refuse(`paid in ${d.currency}, but the ride is in ${ride.currency}`);
      const fare = orderAmountOf(ride.lines);
      if (d.orderAmount !== fare) return refuse(`paid order amount ${d.orderAmount} is not the ${fare} set on the tablet`);
      if (d.tipAmount > maxTip(fare)) return refuse(`tip ${d.tipAmount} is over the cap of ${maxTip(fare)} (20% of ${fare})`);
      if (d.totalAmount !== d.orderAmount + d.tipAmount)
        return refuse(`total ${d.totalAmount} is not the order amount plus the tip (${d.orderAmount + d.tipAmount})`);
      return null;
    }

    case 'order.failed': {
      const found = ownRide(ctx, lookups, event.data.merchantOrderId);
      return 'reason' in found ? found : null;
    }

    case 'order.refunded': {
      const found = ownRide(ctx, lookups, event.data.merchantOrderId);
      if ('reason' in found) return found;
      const { ride } = found;
      const d = event.data;
      const refuse = (reason: string): Refusal => ({ reason, rideId: ride.rideId });
      const payment = lookups.payment?.(ride.rideId) ?? null;
      if (ride.state !== 'paid' || !payment || payment.method !== 'psp') return refuse('a refund of a ride that was not paid through the payment provider');
      if (d.currency !== payment.currency) return refuse(`refunded in ${d.currency}, but the ride was paid in ${payment.currency}`);
      // The tablet's own refund may already be counted (its ack came first): it is never more than was paid.
      const left = d.refundId ? payment.totalAmount : payment.totalAmount - payment.refundedAmount;
      if (d.amount > left) return refuse(`refund ${d.amount} is more than the ${left} left to refund`);
      return null;
    }

    case 'payment.qr': {
      const d = event.data;
      if (!ctx.capabilities.dynamicQr) return { reason: `${ctx.capabilities.displayName} takes no payment QR from the relay`, rideId: null };
      const ride = lookups.ride(d.rideId);
      if (!ride) return { reason: `ride ${d.rideId} is not a ride of this tablet`, rideId: null };
      const refuse = (reason: string): Refusal => ({ reason, rideId: ride.rideId });
      if (ride.attempt === 0) return refuse(`no payment was asked for (the ride is ${ride.state})`);
      // A QR of an older attempt, or for a ride that moved on, is never shown: the machine ignores it.
      if ((d.attempt !== undefined && d.attempt !== ride.attempt) || ride.state !== 'awaiting_payment') return null;
      if (d.currency !== ctx.currency || d.currency !== ride.currency) return refuse(`the QR asks for ${d.currency}, but the ride is in ${ride.currency}`);
      const total = orderAmountOf(ride.lines) + (ride.tipAmount ?? 0);
      if (d.amount !== total) return refuse(`the QR asks for ${d.amount}, but the ride's total is ${total}`);
      const problem = paymentQrProblem(d.qrData, { amount: total, currency: ride.currency }, ctx.paymentQr);
      return problem ? refuse(`the QR cannot be shown: ${problem}`) : null;
    }
  }
}

/** The ride behind an order id, if the order is this cab's and the tablet knows it. */
function ownRide(ctx: CheckContext, lookups: CheckLookups, merchantOrderId: string): { ride: Ride } | Refusal {
  const prefix = `${ctx.cabId}.`;
  if (!merchantOrderId.startsWith(prefix)) {
    // Another cab's order id around this cab's ride id is still about the ride on screen.
    const screen = ctx.screenRide;
    const aboutScreenRide = screen !== null && merchantOrderId.endsWith(`.${screen.rideId}`);
    return { reason: `order ${merchantOrderId} is not addressed to this cab (${ctx.cabId})`, rideId: aboutScreenRide ? screen.rideId : null };
  }
  const ride = lookups.rideByMerchantOrderId(merchantOrderId);
  return ride ? { ride } : { reason: `order ${merchantOrderId} is not a ride of this tablet`, rideId: null };
}
