/** The chaos reconciliation must catch each kind of violation it reports, and pass a clean run. */
import { describe, expect, it } from 'vitest';
import {
  reconcile,
  type HitpayLedger,
  type KioskFacts,
  type Ledger,
  type RelayMadeFacts,
  type RelayPayment,
  type VippsLedger,
} from '../../scripts/chaos/reconcile.js';
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
    shown: {
      rideId: RIDE,
      method: 'psp',
      receiptUrl: null,
      pspOrderId: 'o1',
      orderAmount: 10_000,
      tipAmount: 500,
      totalAmount: 10_500,
      currency: 'SEK',
      paidAt: '2026-01-01T00:00:00.000Z',
    },
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
    expect(reconcile([record()], ledger({ orders: [second, ...ledger().orders] }), relay(), [kiosk()]).counts).toMatchObject({
      duplicateOrders: 0,
      secondAttemptOrders: 1,
    });
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
    const stuck = reconcile(
      [record({ outcome: 'stuck', expected: null, shown: null, problem: 'not finished' })],
      ledger({ orders: [], payments: [] }),
      relay(),
      [kiosk({ payments: new Map() })],
    );
    expect(stuck.counts).toMatchObject({ stuck: 1, stuckWithReason: 0 });
    const explained = reconcile(
      [record({ outcome: 'stuck', expected: null, shown: null, reasonShown: 'Ask the passenger to scan again.' })],
      ledger({ orders: [], payments: [] }),
      relay(),
      [kiosk({ payments: new Map() })],
    );
    expect(explained.counts).toMatchObject({ stuck: 0, stuckWithReason: 1 });
  });

  it('reports a ride that failed off screen apart, as the known gap it is, not as a violation', () => {
    const r = reconcile(
      [record({ outcome: 'failed_off_screen', offScreen: true, expected: null, shown: null })],
      ledger({ orders: [], payments: [] }),
      relay(),
      [kiosk({ payments: new Map() })],
    );
    expect(r.counts).toMatchObject({ failedOffScreen: 1, stuck: 0, errors: 0 });
    expect(r.violations).toEqual([]);
  });

  it('catches a ride the store still holds as unfinished, and store invariant breaks', () => {
    const r = reconcile([record()], ledger(), relay(), [
      kiosk({ unfinished: new Map([[RIDE, 'awaiting_payment/created']]), invariantProblems: ['outbox entry 3 belongs to no ride'] }),
    ]);
    expect(r.counts).toMatchObject({ stuck: 1, invariantViolations: 1 });
  });

  it('passes partial refunds that agree, and catches a refund the PSP and the tablet disagree on or never settled', () => {
    const refunded = kiosk({ refunds: new Map([[RIDE, { refunded: 1_000, queued: 0, failed: 0, count: 1 }]]) });
    const ok = reconcile([record()], ledger({ refunds: [{ order_id: 'o1', amount: 1_000 }] }), relay(), [refunded]);
    expect(ok.violations).toEqual([]);
    expect(ok.counts.refunds).toBe(1);
    expect(reconcile([record()], ledger({ refunds: [{ order_id: 'o1', amount: 600 }] }), relay(), [refunded]).counts.refundMismatches).toBe(1);
    const queued = kiosk({ refunds: new Map([[RIDE, { refunded: 0, queued: 500, failed: 0, count: 0 }]]) });
    expect(reconcile([record()], ledger(), relay(), [queued]).violations[0]).toMatchObject({ rule: 'refundMismatch', rideId: RIDE });
  });

  it('catches one refund booked twice at the PSP (a retry after a lost answer), even where the totals could agree', () => {
    const once = kiosk({ refunds: new Map([[RIDE, { refunded: 1_000, queued: 0, failed: 0, count: 1 }]]) });
    expect(reconcile([record()], ledger({ refunds: [{ order_id: 'o1', amount: 1_000 }] }), relay(), [once]).counts.duplicateRefunds).toBe(0);
    const twice = reconcile(
      [record()],
      ledger({
        refunds: [
          { order_id: 'o1', amount: 500 },
          { order_id: 'o1', amount: 500 },
        ],
      }),
      relay(),
      [once],
    );
    expect(twice.counts.duplicateRefunds).toBe(1);
    expect(twice.violations).toMatchObject([{ rule: 'duplicateRefund', rideId: RIDE, detail: 'the PSP booked 2 refunds, the tablet got 1' }]);
  });
});

describe('chaos reconciliation of relay-made payments (Vipps, HitPay)', () => {
  const VRIDE = '01a2000000000000000000000000000b';
  const HRIDE = '01a2000000000000000000000000000c';
  const relayRow = (over: Partial<RelayPayment>): RelayPayment => ({
    cabId: 'CAB-V',
    rideId: VRIDE,
    attempt: 1,
    psp: 'vipps',
    reference: 'CAB-V-ref-1',
    pspReference: 'psp-v-1',
    orderAmount: 20_000,
    tipAmount: 2_000,
    currency: 'NOK',
    status: 'paid',
    ...over,
  });
  const vippsPayment = (over: Partial<VippsLedger['payments'][number]> = {}): VippsLedger['payments'][number] => ({
    reference: 'CAB-V-ref-1',
    pspReference: 'psp-v-1',
    state: 'AUTHORIZED',
    currency: 'NOK',
    amount: 22_000,
    authorized: 22_000,
    captured: 22_000,
    cancelled: 0,
    refunded: 0,
    events: [
      { name: 'CREATED', value: 22_000 },
      { name: 'AUTHORIZED', value: 22_000 },
      { name: 'CAPTURED', value: 22_000 },
    ],
    ...over,
  });
  const hitpay = (over: Partial<HitpayLedger> = {}): HitpayLedger => ({
    payment_requests: [{ id: 'hpr-1', reference_number: 'CAB-H-ref-1', status: 'completed', currency: 'SGD', amount_minor: 1_100 }],
    payments: [{ id: 'hpp-1', payment_request_id: 'hpr-1', status: 'succeeded', currency: 'SGD', amount_minor: 1_100, refunded_minor: 0 }],
    ...over,
  });
  const relayFacts = (
    extra: RelayPayment[] = [],
    paid = new Map([
      [`CAB-V.${VRIDE}`, 1],
      [`CAB-H.${HRIDE}`, 1],
    ]),
  ): RelayMadeFacts['relay'] => ({
    payments: [
      relayRow({}),
      relayRow({
        cabId: 'CAB-H',
        rideId: HRIDE,
        psp: 'hitpay',
        reference: 'CAB-H-ref-1',
        pspReference: 'hpr-1',
        orderAmount: 1_000,
        tipAmount: 100,
        currency: 'SGD',
      }),
      ...extra,
    ],
    paidEvents: paid,
  });
  const tablets = (over: { v?: Partial<KioskFacts>; h?: Partial<KioskFacts> } = {}): KioskFacts[] => [
    kiosk({
      cabId: 'CAB-V',
      payments: new Map([[VRIDE, { method: 'psp', pspOrderId: 'CAB-V-ref-1', orderAmount: 20_000, tipAmount: 2_000, totalAmount: 22_000 }]]),
      ...over.v,
    }),
    kiosk({
      cabId: 'CAB-H',
      payments: new Map([[HRIDE, { method: 'psp', pspOrderId: 'hpp-1', orderAmount: 1_000, tipAmount: 100, totalAmount: 1_100 }]]),
      ...over.h,
    }),
  ];
  const empty = ledger({ orders: [], payments: [] });
  const run = (facts: Partial<RelayMadeFacts> = {}, kiosks = tablets()) =>
    reconcile([], empty, new Map(), kiosks, { vipps: { payments: [vippsPayment()] }, hitpay: hitpay(), relay: relayFacts(), ...facts });

  it('passes a captured Vipps payment and a completed HitPay payment the tablets show', () => {
    const r = run();
    expect(r.violations).toEqual([]);
    expect(r.counts.ledgerPayments).toBe(2);
  });

  it('catches money taken that the tablet does not show, or shows with another tip', () => {
    expect(run({}, tablets({ v: { payments: new Map() } })).violations).toMatchObject([{ rule: 'unshownPayment', cabId: 'CAB-V', rideId: VRIDE }]);
    const wrongTip = tablets({
      h: { payments: new Map([[HRIDE, { method: 'psp', pspOrderId: 'hpp-1', orderAmount: 1_000, tipAmount: 0, totalAmount: 1_000 }]]) },
    });
    expect(run({}, wrongTip).violations).toMatchObject([{ rule: 'wrongTotals', cabId: 'CAB-H', rideId: HRIDE }]);
    // A payment the relay never made is money nobody can tie to a ride.
    expect(run({ relay: { payments: [], paidEvents: new Map() } }).counts.unshownPayments).toBe(2);
  });

  it('catches two captures for one ride, an authorization left held, and two order.paid events', () => {
    const second = vippsPayment({ reference: 'CAB-V-ref-2', pspReference: 'psp-v-2' });
    const r = run({
      vipps: { payments: [vippsPayment(), second] },
      relay: relayFacts([relayRow({ attempt: 2, reference: 'CAB-V-ref-2', pspReference: 'psp-v-2' })]),
    });
    expect(r.counts.duplicateOrders).toBe(1);
    const held = run({ vipps: { payments: [vippsPayment(), vippsPayment({ reference: 'x-3', pspReference: 'p3', captured: 0, events: [] })] } });
    expect(held.counts.heldPayments).toBe(1);
    const twice = run({ relay: relayFacts([], new Map([[`CAB-V.${VRIDE}`, 2]])) });
    expect(twice.violations).toMatchObject([{ rule: 'duplicatePaidEvents', rideId: VRIDE }]);
  });

  it('catches two completed HitPay payments for one ride, and a live request beside a completed one', () => {
    const two = hitpay({
      payment_requests: [
        ...hitpay().payment_requests,
        { id: 'hpr-2', reference_number: 'CAB-H-ref-2', status: 'completed', currency: 'SGD', amount_minor: 1_100 },
      ],
      payments: [
        ...hitpay().payments,
        { id: 'hpp-2', payment_request_id: 'hpr-2', status: 'succeeded', currency: 'SGD', amount_minor: 1_100, refunded_minor: 0 },
      ],
    });
    const attempt2 = relayRow({
      cabId: 'CAB-H',
      rideId: HRIDE,
      psp: 'hitpay',
      attempt: 2,
      reference: 'CAB-H-ref-2',
      pspReference: 'hpr-2',
      orderAmount: 1_000,
      tipAmount: 100,
      currency: 'SGD',
    });
    expect(run({ hitpay: two, relay: relayFacts([attempt2]) }).counts.duplicateOrders).toBe(1);
    const live = hitpay({
      payment_requests: [
        ...hitpay().payment_requests,
        { id: 'hpr-2', reference_number: 'CAB-H-ref-2', status: 'pending', currency: 'SGD', amount_minor: 1_100 },
      ],
    });
    expect(run({ hitpay: live, relay: relayFacts([attempt2]) }).violations).toMatchObject([{ rule: 'duplicateOrders', cabId: 'CAB-H', rideId: HRIDE }]);
  });

  it('counts a live request the relay lost track of (killed mid-create, attempt made again) apart, as an orphan', () => {
    const orphan = hitpay({
      payment_requests: [
        { id: 'hpr-0', reference_number: 'CAB-H-ref-1', status: 'pending', currency: 'SGD', amount_minor: 1_100 },
        ...hitpay().payment_requests,
      ],
    });
    const r = run({ hitpay: orphan });
    expect(r.violations).toEqual([]);
    expect(r.counts.orphanRequests).toEqual([`CAB-H.${HRIDE} attempt 1: request hpr-0 (the relay holds hpr-1)`]);
    // Paid, it is money taken twice for one ride.
    const paid = hitpay({
      payment_requests: [
        { id: 'hpr-0', reference_number: 'CAB-H-ref-1', status: 'completed', currency: 'SGD', amount_minor: 1_100 },
        ...hitpay().payment_requests,
      ],
      payments: [
        { id: 'hpp-0', payment_request_id: 'hpr-0', status: 'succeeded', currency: 'SGD', amount_minor: 1_100, refunded_minor: 0 },
        ...hitpay().payments,
      ],
    });
    expect(run({ hitpay: paid }).counts.duplicateOrders).toBe(1);
  });

  it('compares refunds per ride with the Vipps and HitPay ledgers', () => {
    const refundedV = vippsPayment({ refunded: 2_200 });
    const kiosks = tablets({
      v: { refunds: new Map([[VRIDE, { refunded: 2_200, queued: 0, failed: 0, count: 1 }]]) },
      h: { refunds: new Map([[HRIDE, { refunded: 100, queued: 0, failed: 0, count: 1 }]]) },
    });
    expect(run({ vipps: { payments: [refundedV] } }, kiosks).violations).toMatchObject([{ rule: 'refundMismatch', cabId: 'CAB-H', rideId: HRIDE }]);
    const refundedH = hitpay({ payments: [{ ...hitpay().payments[0]!, status: 'partially_refunded', refunded_minor: 100 }] });
    expect(run({ vipps: { payments: [refundedV] }, hitpay: refundedH }, kiosks).violations).toEqual([]);
  });

  it('counts refunds booked twice at Vipps (REFUNDED events) and HitPay (its refunds list)', () => {
    const kiosks = tablets({
      v: { refunds: new Map([[VRIDE, { refunded: 2_200, queued: 0, failed: 0, count: 1 }]]) },
      h: { refunds: new Map([[HRIDE, { refunded: 100, queued: 0, failed: 0, count: 1 }]]) },
    });
    const v = vippsPayment({ refunded: 4_400 });
    const twiceV = { ...v, events: [...v.events, { name: 'REFUNDED', value: 2_200 }, { name: 'REFUNDED', value: 2_200 }] };
    const h = hitpay();
    const twiceH = hitpay({
      payments: [{ ...h.payments[0]!, status: 'partially_refunded', refunded_minor: 200 }],
      refunds: [
        { id: 'rf-a', payment_id: h.payments[0]!.id, amount_minor: 100 },
        { id: 'rf-b', payment_id: h.payments[0]!.id, amount_minor: 100 },
      ],
    });
    const r = run({ vipps: { payments: [twiceV] }, hitpay: twiceH }, kiosks);
    expect(r.counts.duplicateRefunds).toBe(2);
    expect(
      r.violations
        .filter((x) => x.rule === 'duplicateRefund')
        .map((x) => x.cabId)
        .sort(),
    ).toEqual(['CAB-H', 'CAB-V']);
  });
});
