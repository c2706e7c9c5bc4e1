/**
 * The fault schedule: every ride's script and faults, drawn up front from the seed, so the same
 * seed replays the same schedule (process timing still varies run to run).
 */
import type { PspName } from '../../protocol/relay-protocol.js';
import type { ChaosArgs } from './args.js';
import { seededRng } from './rng.js';

/** Points of a ride where a fault can land. */
export const STEPS = ['start', 'scan', 'end', 'order', 'pay', 'paid'] as const;
export type Step = (typeof STEPS)[number];

/**
 * What the passenger does. Hips as named; Vipps and HitPay (the relay makes the payment, the tip
 * is picked on the tablet) read them so:
 * - `cancel_then_pay`: Vipps rejects the pushed payment once, HitPay's PayNow fails once; then the
 *   driver retries (Vipps: sometimes after a fresh check-in) and the passenger pays.
 * - `cancel_before_order`: Vipps: the check-in token runs out before the payment is pushed, the
 *   passenger checks in again. HitPay: pays.
 * - `decline`: Vipps rejects, HitPay fails; the driver takes payment another way.
 * - `never_pay`: Vipps: the pushed payment expires unapproved. HitPay (its QR lives at least a
 *   minute): fails, as `decline`.
 */
export type Passenger =
  | 'pay' // pays with a tip
  | 'cancel_then_pay' // cancels on the phone once the order is there, rescans, pays
  | 'cancel_before_order' // cancels the session before the ride ends, rescans, pays
  | 'decline' // the payment is declined; the driver takes payment another way
  | 'never_pay' // never pays: the order expires; the driver takes payment another way
  | 'driver_cancels'; // the driver cancels the ride before it ends

export type ScanTiming = 'before_end' | 'after_end' | 'early';
export type PspFault = 'createOrder503' | 'createOrder429' | 'timeout_process' | 'timeout_drop';
export type WebhookFault = 'duplicate' | 'reorder' | 'delay' | 'fail';

export interface RidePlan {
  index: number;
  cab: number;
  /** The cab's PSP (cabs are dealt to --psps round-robin). */
  psp: PspName;
  fare: number;
  extra: number | null;
  scan: ScanTiming;
  passenger: Passenger;
  /** Fraction of the largest allowed tip the passenger picks (0 = no tip). */
  tipShare: number;
  offline: { at: Step; ms: number } | null;
  crashAt: Step | null;
  pspFault: { kind: PspFault; count: number } | null;
  webhookFault: WebhookFault | null;
  /** kill -9 of the relay when this ride reaches the step (shared by all cabs). */
  relayCrashAt: Step | null;
  /** The driver starts the next ride while this one's payment is still pending. */
  leavePending: boolean;
  /** Once paid through the PSP: the driver refunds this share of the total (at least 1 minor unit). */
  refundShare: number | null;
  /**
   * The ride's refund (and, on Vipps, its capture) is answered by the PSP only after the relay's
   * timeout. Drawn from the refund share (no draw of its own, so a seed's other faults stay as they were).
   */
  lateAnswer: boolean;
}

export function planRides(args: ChaosArgs): RidePlan[] {
  const rng = seededRng(args.seed);
  const rate = args.faultRate;
  const plans: RidePlan[] = [];
  for (let index = 0; index < args.rides; index++) {
    const passenger = rng.pick<Passenger>([
      ...Array<Passenger>(12).fill('pay'),
      'cancel_then_pay',
      'cancel_before_order',
      'decline',
      'never_pay',
      'driver_cancels',
    ]);
    plans.push({
      index,
      cab: index % args.cabs,
      psp: args.psps[(index % args.cabs) % args.psps.length]!,
      fare: rng.int(50, 900) * 100 + rng.pick([0, 0, 50]),
      extra: rng.chance(30) ? rng.int(5, 60) * 100 : null,
      scan: rng.chance(8) ? 'early' : rng.chance(30) ? 'after_end' : 'before_end',
      passenger,
      tipShare: rng.pick([0, 0, 0.25, 0.5, 1]),
      offline: rng.chance(rate) ? { at: rng.pick(STEPS), ms: rng.int(300, 4_000) } : null,
      crashAt: rng.chance(rate / 2) ? rng.pick(STEPS) : null,
      pspFault: rng.chance(rate / 2)
        ? { kind: rng.pick<PspFault>(['createOrder503', 'createOrder429', 'timeout_process', 'timeout_drop']), count: rng.int(1, 3) }
        : null,
      webhookFault: rng.chance(rate / 2) ? rng.pick<WebhookFault>(['duplicate', 'reorder', 'delay', 'fail']) : null,
      relayCrashAt: args.relayKillEvery > 0 && index > 0 && index % args.relayKillEvery === 0 ? rng.pick(STEPS) : null,
      leavePending: passenger === 'pay' && rng.chance(10),
      refundShare: passenger !== 'driver_cancels' && rng.chance(8) ? rng.pick([0.05, 0.1, 0.25, 0.5]) : null,
      lateAnswer: false,
    });
    const plan = plans[plans.length - 1]!;
    plan.lateAnswer = plan.refundShare !== null && plan.refundShare >= 0.25;
  }
  return plans;
}
