/**
 * After the run: compares the PSP's ledger, the relay's event log and every kiosk's store with
 * what the passengers did. Each broken rule is named with the ride it concerns.
 */
import Database from 'better-sqlite3';
import { checkStoreInvariants } from '../../electron/core/invariants.js';
import { KioskStore } from '../../electron/core/store.js';
import type { RideRecord } from './ride.js';

export interface LedgerOrder {
  id: string;
  merchant_order_id: string;
  status: string;
  order_amount: number;
  tip_amount: number;
  amount: number;
}
export interface LedgerPayment {
  id: string;
  order_id: string;
  status: string;
  order_amount: number;
  tip_amount: number;
  amount: number;
}
export interface Ledger {
  orders: LedgerOrder[];
  payments: LedgerPayment[];
}

export interface KioskFacts {
  cabId: string;
  lastSeq: number;
  appliedEventIds: Set<string>;
  payments: Map<string, { method: string; pspOrderId: string | null; orderAmount: number; tipAmount: number; totalAmount: number }>;
  /** Rides the store still holds as unfinished after the drain: rideId → state/order. */
  unfinished: Map<string, string>;
  invariantProblems: string[];
}

export interface Violation {
  rule: 'lost' | 'duplicateOrders' | 'wrongTotals' | 'stuck' | 'unshownPayment' | 'phantomPayment' | 'invariant' | 'error';
  rideId: string | null;
  cabId: string | null;
  detail: string;
}

export interface Reconciliation {
  counts: {
    paid: number;
    paidOther: number;
    paidOffScreen: number;
    failedOffScreen: number;
    canceled: number;
    lost: number;
    duplicateOrders: number;
    secondAttemptOrders: number;
    wrongTotals: number;
    stuck: number;
    stuckWithReason: number;
    unshownPayments: number;
    phantomPayments: number;
    invariantViolations: number;
    errors: number;
    relayEvents: number;
    ledgerOrders: number;
    ledgerPayments: number;
  };
  violations: Violation[];
}

const PAID_ORDER = new Set(['successful', 'partially_refunded', 'refunded']);

/** Reads a stopped kiosk's store: lastSeq, applied events, payments, unfinished rides, invariants. */
export function readKioskFacts(cabId: string, dataDir: string): KioskFacts {
  const store = KioskStore.open(dataDir);
  try {
    const db = store.db;
    const payments = new Map<string, KioskFacts['payments'] extends Map<string, infer V> ? V : never>();
    for (const p of db.prepare('SELECT ride_id, method, psp_order_id, order_amount, tip_amount, total_amount FROM payments').all() as Record<string, unknown>[])
      payments.set(p.ride_id as string, {
        method: p.method as string,
        pspOrderId: (p.psp_order_id as string | null) ?? null,
        orderAmount: p.order_amount as number,
        tipAmount: p.tip_amount as number,
        totalAmount: p.total_amount as number,
      });
    const unfinished = new Map<string, string>();
    for (const r of db.prepare("SELECT ride_id, state, order_status FROM rides WHERE state IN ('awaiting_payment','on_ride')").all() as Record<string, unknown>[])
      unfinished.set(r.ride_id as string, `${r.state as string}/${r.order_status as string}`);
    return {
      cabId,
      lastSeq: store.lastSeq(),
      appliedEventIds: new Set((db.prepare('SELECT event_id FROM applied_events').all() as { event_id: string }[]).map((r) => r.event_id)),
      payments,
      unfinished,
      invariantProblems: checkStoreInvariants(store),
    };
  } finally {
    store.close();
  }
}

/** The relay's event log per cab: ids, the highest seq, and what is still unacked. */
export function readRelayEvents(relayDb: string): Map<string, { ids: string[]; maxSeq: number; unacked: number }> {
  const db = new Database(relayDb, { readonly: true, fileMustExist: true });
  try {
    const byCab = new Map<string, { ids: string[]; maxSeq: number; unacked: number }>();
    for (const e of db.prepare('SELECT cab_id, seq, id, acked_at_ms FROM events ORDER BY cab_id, seq').all() as Record<string, unknown>[]) {
      const cab = byCab.get(e.cab_id as string) ?? { ids: [], maxSeq: 0, unacked: 0 };
      cab.ids.push(e.id as string);
      cab.maxSeq = Math.max(cab.maxSeq, e.seq as number);
      if (e.acked_at_ms === null) cab.unacked++;
      byCab.set(e.cab_id as string, cab);
    }
    return byCab;
  } finally {
    db.close();
  }
}

/** `<cabId>.<rideId>`; cab ids have no dots. */
function splitMerchantOrderId(id: string): { cabId: string; rideId: string } {
  const dot = id.indexOf('.');
  return { cabId: id.slice(0, dot), rideId: id.slice(dot + 1) };
}

export function reconcile(
  records: RideRecord[],
  ledger: Ledger,
  relayEvents: Map<string, { ids: string[]; maxSeq: number; unacked: number }>,
  kiosks: KioskFacts[],
): Reconciliation {
  const violations: Violation[] = [];
  const add = (v: Violation) => violations.push(v);
  const kioskByCab = new Map(kiosks.map((k) => [k.cabId, k]));
  const ordersById = new Map(ledger.orders.map((o) => [o.id, o]));

  // 1. At most one paid (or live) PSP order per ride. A re-attempt after a dead session makes a
  //    second order (key <rideId>.<n>): allowed, as long as no two are paid or live together.
  const ordersByRide = new Map<string, LedgerOrder[]>();
  for (const o of ledger.orders) ordersByRide.set(o.merchant_order_id, [...(ordersByRide.get(o.merchant_order_id) ?? []), o]);
  let duplicateOrders = 0;
  let secondAttemptOrders = 0;
  for (const [merchantOrderId, orders] of ordersByRide) {
    if (orders.length > 1) secondAttemptOrders++;
    const paid = orders.filter((o) => PAID_ORDER.has(o.status)).length;
    const live = orders.filter((o) => o.status === 'pending').length;
    if (paid > 1 || live > 1 || (paid >= 1 && live >= 1)) {
      duplicateOrders++;
      const { cabId, rideId } = splitMerchantOrderId(merchantOrderId);
      add({ rule: 'duplicateOrders', cabId, rideId, detail: `${orders.length} orders at the PSP: ${orders.map((o) => `${o.id}=${o.status}`).join(', ')}` });
    }
  }

  // 2. Every successful PSP payment is in its tablet's store, once, with the PSP's amounts.
  let wrongTotals = 0;
  let unshownPayments = 0;
  const paidPspOrders = new Set<string>();
  for (const p of ledger.payments) {
    if (p.status !== 'successful') continue;
    const order = ordersById.get(p.order_id);
    if (!order) continue;
    paidPspOrders.add(order.id);
    const { cabId, rideId } = splitMerchantOrderId(order.merchant_order_id);
    const shown = kioskByCab.get(cabId)?.payments.get(rideId);
    if (!shown || shown.method !== 'psp') {
      unshownPayments++;
      add({ rule: 'unshownPayment', cabId, rideId, detail: `PSP payment ${p.id} (${p.amount}) is not recorded as a PSP payment on the tablet (${shown ? `recorded as ${shown.method}` : 'no payment record'})` });
    } else if (shown.pspOrderId !== order.id || shown.orderAmount !== p.order_amount || shown.tipAmount !== p.tip_amount || shown.totalAmount !== p.amount) {
      wrongTotals++;
      add({ rule: 'wrongTotals', cabId, rideId, detail: `tablet has ${JSON.stringify(shown)}, PSP charged order ${order.id}: ${p.order_amount} + tip ${p.tip_amount} = ${p.amount}` });
    }
  }
  let phantomPayments = 0;
  for (const k of kiosks)
    for (const [rideId, shown] of k.payments)
      if (shown.method === 'psp' && (!shown.pspOrderId || !paidPspOrders.has(shown.pspOrderId))) {
        phantomPayments++;
        add({ rule: 'phantomPayment', cabId: k.cabId, rideId, detail: `the tablet shows PSP order ${shown.pspOrderId} paid, the PSP has no successful payment for it` });
      }

  // 3. What the passenger paid and what the screen said at the time.
  for (const r of records) {
    if (!r.expected) continue;
    const sum = r.expected.orderAmount + r.expected.tipAmount;
    if (r.outcome !== 'paid_psp') continue; // not shown paid: counted by the store checks or as stuck
    const s = r.shown;
    if (!s) continue; // finished off screen: the store check above compares it with the ledger
    if (s.pspOrderId !== r.expected.pspOrderId || s.tipAmount !== r.expected.tipAmount || s.orderAmount !== r.expected.orderAmount || s.totalAmount !== sum) {
      wrongTotals++;
      add({ rule: 'wrongTotals', cabId: r.cabId, rideId: r.rideId, detail: `screen showed ${JSON.stringify(s)}; the passenger paid order ${r.expected.pspOrderId}: ${r.expected.orderAmount} + tip ${r.expected.tipAmount}` });
    }
  }

  // 4. No relay event lost: every event the relay committed for a cab was applied by its tablet.
  let lost = 0;
  let relayEventCount = 0;
  for (const [cabId, events] of relayEvents) {
    relayEventCount += events.ids.length;
    const k = kioskByCab.get(cabId);
    if (!k) continue;
    const missing = events.ids.filter((id) => !k.appliedEventIds.has(id));
    if (missing.length > 0 || k.lastSeq !== events.maxSeq || events.unacked > 0) {
      lost += Math.max(missing.length, events.maxSeq - k.lastSeq, events.unacked);
      add({ rule: 'lost', cabId, rideId: null, detail: `relay seq ${events.maxSeq} (${events.unacked} unacked), tablet lastSeq ${k.lastSeq}, ${missing.length} event ids never applied` });
    }
  }

  // 5. Nothing stuck without a reason; harness errors are failures too.
  let stuck = 0;
  let stuckWithReason = 0;
  let errors = 0;
  for (const r of records) {
    if (r.outcome === 'stuck') {
      if (r.reasonShown) stuckWithReason++;
      else stuck++;
      add({ rule: 'stuck', cabId: r.cabId, rideId: r.rideId, detail: `${r.problem}${r.reasonShown ? `; screen says: ${r.reasonShown}` : '; no reason on screen'}` });
    } else if (r.outcome === 'error') {
      errors++;
      add({ rule: 'error', cabId: r.cabId, rideId: r.rideId, detail: r.problem ?? 'unknown error' });
    }
  }
  const finishedRides = new Set(records.filter((r) => r.outcome !== 'stuck' && r.outcome !== 'error').map((r) => r.rideId));
  for (const k of kiosks)
    for (const [rideId, state] of k.unfinished)
      if (finishedRides.has(rideId)) {
        stuck++;
        add({ rule: 'stuck', cabId: k.cabId, rideId, detail: `the harness saw the ride finish but the store still holds it as ${state}` });
      }

  let invariantViolations = 0;
  for (const k of kiosks)
    for (const problem of k.invariantProblems) {
      invariantViolations++;
      add({ rule: 'invariant', cabId: k.cabId, rideId: null, detail: problem });
    }

  return {
    counts: {
      paid: records.filter((r) => r.outcome === 'paid_psp').length,
      paidOther: records.filter((r) => r.outcome === 'paid_other').length,
      paidOffScreen: records.filter((r) => r.outcome === 'paid_psp' && r.offScreen).length,
      failedOffScreen: records.filter((r) => r.outcome === 'failed_off_screen').length,
      canceled: records.filter((r) => r.outcome === 'canceled').length,
      lost,
      duplicateOrders,
      secondAttemptOrders,
      wrongTotals,
      stuck,
      stuckWithReason,
      unshownPayments,
      phantomPayments,
      invariantViolations,
      errors,
      relayEvents: relayEventCount,
      ledgerOrders: ledger.orders.length,
      ledgerPayments: ledger.payments.filter((p) => p.status === 'successful').length,
    },
    violations,
  };
}
