/** The chaos reconciliation must catch each kind of violation it reports, and pass a clean run. */
import { describe, expect, it } from 'vitest';
import { reconcile, type KioskFacts, type Ledger } from '../../scripts/chaos/reconcile.js';
import type { RideRecord } from '../../scripts/chaos/ride.js';

const RIDE = '01a2000000000000000000000000000a';
const MOID = `CAB-1.${RIDE}`;

function record(over: Partial<RideRecord> = {}): RideRecord {
  return {
    index: 0,
    cabId: 'CAB-1',
    psp: 'hips',
    rideId: RIDE,
    merchantOrderId: MOID,
    outcome: 'paid_psp',
    expected: { pspOrderId: 'o1', orderAmount: 10_000, tipAmount: 500 },
    shown: { rideId: RIDE, method: 'psp', receiptUrl: null, pspOrderId: 'o1', orderAmount: 10_000, tipAmount: 500, totalAmount: 10_500, currency: 'SEK', paidAt: '2026-01-01T00:00:00.000Z' },
    scans: 1,
    offScreen: false,
    problem: null,
    reasonShown: null,
    refundAsked: null,
    ms: 1,
    ...over,
  };
}

function ledger(over: Partial<Ledger> = {}): Ledger {
  return {
    orders: [{ id: 'o1', merchant_order_id: MOID, status: 'successful', order_amount: 10_000, tip_amount: 500, amount: 10_500 }],
    payments: [{ id: 'p1', order_id: 'o1', status: 'successful', order_amount: 10_000, tip_amount: 500, amount: 10_500 }],
    ...over,
  };
}

function kiosk(over: Partial<KioskFacts> = {}): KioskFacts {
  return {
    cabId: 'CAB-1',
    lastSeq: 2,
    appliedEventIds: new Set(['e1', 'e2']),
    payments: new Map([[RIDE, { method: 'psp', pspOrderId: 'o1', orderAmount: 10_000, tipAmount: 500, totalAmount: 10_500 }]]),
    unfinished: new Map(),
    invariantProblems: [],
    ...over,
  };
}

const relay = (over: Partial<{ ids: string[]; maxSeq: number; unacked: number }> = {}) =>
  new Map([['CAB-1', { ids: ['e1', 'e2'], maxSeq: 2, unacked: 0, ...over }]]);

describe('chaos reconciliation', () => {
  it('passes a consistent run', () => {
    const r = reconcile([record()], ledger(), relay(), [kiosk()]);
    expect(r.violations).toEqual([]);
    expect(r.counts).toMatchObject({ paid: 1, lost: 0, duplicateOrders: 0, wrongTotals: 0, stuck: 0 });
  });

  it('allows a second order after a dead session, but not two paid or live orders for one ride', () => {
    const second = { id: 'o0', merchant_order_id: MOID, status: 'failed', order_amount: 10_000, tip_amount: 0, amount: 0 };
    expect(reconcile([record()], ledger({ orders: [second, ...ledger().orders] }), relay(), [kiosk()]).counts).toMatchObject({ duplicateOrders: 0, secondAttemptOrders: 1 });
    const live = { ...second, status: 'pending' };
    const r = reconcile([record()], ledger({ orders: [live, ...ledger().orders] }), relay(), [kiosk()]);
    expect(r.counts.duplicateOrders).toBe(1);
    expect(r.violations[0]).toMatchObject({ rule: 'duplicateOrders', rideId: RIDE });
  });

  it('catches a tablet total that differs from what the PSP charged, and a screen that differed', () => {
    const wrong = kiosk({ payments: new Map([[RIDE, { method: 'psp', pspOrderId: 'o1', orderAmount: 10_000, tipAmount: 0, totalAmount: 10_000 }]]) });
    expect(reconcile([record()], ledger(), relay(), [wrong]).counts.wrongTotals).toBe(1);
    const shown = record({ shown: { ...record().shown!, totalAmount: 10_000 } });
    expect(reconcile([shown], ledger(), relay(), [kiosk()]).counts.wrongTotals).toBe(1);
  });

  it('catches a payment the tablet never recorded, and one it shows that the PSP never took', () => {
    expect(reconcile([record({ outcome: 'paid_other' })], ledger(), relay(), [kiosk({ payments: new Map() })]).counts.unshownPayments).toBe(1);
    expect(reconcile([record()], ledger({ payments: [] }), relay(), [kiosk()]).counts.phantomPayments).toBe(1);
  });

  it('catches relay events the tablet never applied', () => {
    const r = reconcile([record()], ledger(), relay({ ids: ['e1', 'e2', 'e3'], maxSeq: 3, unacked: 1 }), [kiosk()]);
    expect(r.counts.lost).toBe(1);
    expect(r.violations[0]).toMatchObject({ rule: 'lost', cabId: 'CAB-1' });
  });

  it('counts a stuck ride without a reason as a violation and reports one with a reason apart', () => {
    const stuck = reconcile([record({ outcome: 'stuck', expected: null, shown: null, problem: 'not finished' })], ledger({ orders: [], payments: [] }), relay(), [kiosk({ payments: new Map() })]);
    expect(stuck.counts).toMatchObject({ stuck: 1, stuckWithReason: 0 });
    const explained = reconcile([record({ outcome: 'stuck', expected: null, shown: null, reasonShown: 'Ask the passenger to scan again.' })], ledger({ orders: [], payments: [] }), relay(), [kiosk({ payments: new Map() })]);
    expect(explained.counts).toMatchObject({ stuck: 0, stuckWithReason: 1 });
  });

  it('reports a ride that failed off screen apart, as the known gap it is, not as a violation', () => {
    const r = reconcile([record({ outcome: 'failed_off_screen', offScreen: true, expected: null, shown: null })], ledger({ orders: [], payments: [] }), relay(), [kiosk({ payments: new Map() })]);
    expect(r.counts).toMatchObject({ failedOffScreen: 1, stuck: 0, errors: 0 });
    expect(r.violations).toEqual([]);
  });

  it('catches a ride the store still holds as unfinished, and store invariant breaks', () => {
    const r = reconcile([record()], ledger(), relay(), [kiosk({ unfinished: new Map([[RIDE, 'awaiting_payment/created']]), invariantProblems: ['outbox entry 3 belongs to no ride'] })]);
    expect(r.counts).toMatchObject({ stuck: 1, invariantViolations: 1 });
  });
});
