/** The chaos run's flags and its seeded fault schedule. */
import { describe, expect, it } from 'vitest';
import { parseChaosArgs } from '../../scripts/chaos/args.js';
import { planRides, STEPS } from '../../scripts/chaos/plan.js';
import { seededRng } from '../../scripts/chaos/rng.js';

describe('chaos flags', () => {
  it('reads the flags with defaults', () => {
    const args = parseChaosArgs(['--rides', '50', '--seed', '9', '--cabs', '3']);
    expect(args).toMatchObject({ rides: 50, seed: 9, cabs: 3, faultRate: 35, relayKillEvery: 60, keep: false });
  });

  it('names a bad or unknown flag and shows the usage', () => {
    expect(() => parseChaosArgs(['--rides=-3'])).toThrow(/--rides must be at least 1/);
    expect(() => parseChaosArgs(['--rides', '2.5'])).toThrow(/--rides must be a whole number/);
    expect(() => parseChaosArgs(['--fault-rate', '101'])).toThrow(/--fault-rate must be at most 100/);
    expect(() => parseChaosArgs(['--lost-hooks', '101'])).toThrow(/--lost-hooks must be at most 100/);
    expect(parseChaosArgs(['--lost-hooks', '12']).lostHooks).toBe(12);
    expect(() => parseChaosArgs(['--bogus', '1'])).toThrow(/Usage: npm run chaos/);
    expect(() => parseChaosArgs(['--psps', 'hips,stripe'])).toThrow(/--psps must be a comma list of hips, vipps, hitpay \(got stripe\)/);
  });

  it('spreads the cabs over all three PSPs by default, or over the ones named', () => {
    expect(parseChaosArgs([]).psps).toEqual(['hips', 'vipps', 'hitpay']);
    const plans = planRides(parseChaosArgs(['--rides', '12', '--cabs', '4', '--psps', 'vipps,hitpay']));
    // Cab i has psps[i % n], so every ride of a cab has the cab's PSP.
    expect(plans.map((p) => [p.cab, p.psp])).toEqual(plans.map((p) => [p.cab, p.cab % 2 === 0 ? 'vipps' : 'hitpay']));
    expect(new Set(planRides(parseChaosArgs(['--rides', '30'])).map((p) => p.psp))).toEqual(new Set(['hips', 'vipps', 'hitpay']));
  });
});

describe('the fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    const args = parseChaosArgs(['--rides', '200', '--seed', '42']);
    expect(planRides(args)).toEqual(planRides(args));
    expect(planRides(parseChaosArgs(['--rides', '200', '--seed', '43']))).not.toEqual(planRides(args));
  });

  it('spreads every kind of fault over every step of the flow', () => {
    const plans = planRides(parseChaosArgs(['--rides', '2000', '--seed', '1']));
    for (const step of STEPS) {
      expect(
        plans.some((p) => p.offline?.at === step),
        `offline at ${step}`,
      ).toBe(true);
      expect(
        plans.some((p) => p.crashAt === step),
        `kiosk kill at ${step}`,
      ).toBe(true);
    }
    expect(new Set(plans.map((p) => p.passenger))).toEqual(
      new Set(['pay', 'cancel_then_pay', 'cancel_before_order', 'decline', 'never_pay', 'driver_cancels']),
    );
    expect(new Set(plans.flatMap((p) => (p.pspFault ? [p.pspFault.kind] : [])))).toEqual(
      new Set(['createOrder503', 'createOrder429', 'timeout_process', 'timeout_drop']),
    );
    expect(new Set(plans.flatMap((p) => (p.webhookFault ? [p.webhookFault] : [])))).toEqual(new Set(['duplicate', 'reorder', 'delay', 'fail']));
    expect(new Set(plans.map((p) => p.scan))).toEqual(new Set(['before_end', 'after_end', 'early']));
    expect(plans.filter((p) => p.relayCrashAt !== null)).toHaveLength(Math.floor(1999 / 60));
    expect(plans.some((p) => p.leavePending)).toBe(true);
    expect(plans.every((p) => !p.leavePending || p.passenger === 'pay')).toBe(true);
    expect(plans.some((p) => p.refundShare !== null)).toBe(true);
    expect(plans.every((p) => p.refundShare === null || p.passenger !== 'driver_cancels')).toBe(true);
  });

  it('turns faults off at fault rate 0', () => {
    const plans = planRides(parseChaosArgs(['--rides', '300', '--seed', '5', '--fault-rate', '0', '--relay-kill-every', '0']));
    expect(plans.every((p) => !p.offline && !p.crashAt && !p.pspFault && !p.webhookFault && !p.relayCrashAt)).toBe(true);
  });

  it('seededRng stays in range', () => {
    const rng = seededRng(3);
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(2, 5);
      expect(n >= 2 && n <= 5).toBe(true);
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
