/**
 * After the run: compares each PSP's ledger (Hips, Vipps, HitPay), the relay's event log and
 * payments table, and every kiosk's store with what the passengers did. Each broken rule is named
 * with the ride it concerns.
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
  /** Hips refunds (PATCH /v2/orders/:id/revoke on a paid order). */
  refunds?: { order_id: string; amount: number }[];
  webhooks?: { status: string; order_id: string | null }[];
}

/** GET /sandbox/vipps/ledger, the parts the checks read. */
export interface VippsLedger {
  payments: {
    reference: string;
    pspReference: string;
    state: string;
    currency: string;
    amount: number;
    authorized: number;
    captured: number;
    cancelled: number;
    refunded: number;
    events: { name: string; value: number }[];
  }[];
  webhooks?: { status: string; body?: { reference?: string } }[];
}

/** GET /sandbox/hitpay/ledger, the parts the checks read. */
export interface HitpayLedger {
  payment_requests: { id: string; reference_number: string | null; status: string; currency: string; amount_minor: number }[];
  payments: { id: string; payment_request_id: string; status: string; currency: string; amount_minor: number; refunded_minor: number }[];
  refunds?: { id: string; payment_id: string; amount_minor: number }[];
  webhooks?: { status: string; payment_request_id: string }[];
}

/** A row of the relay's payments table (relay-made payments: one per ride attempt). */
export interface RelayPayment {
  cabId: string;
  rideId: string;
  attempt: number;
  psp: string;
  reference: string;
  pspReference: string | null;
  orderAmount: number;
  tipAmount: number;
  currency: string;
  status: string;
}

/** What the relay holds besides its event log. */
export interface RelayPaymentFacts {
  payments: RelayPayment[];
  /** order.paid events committed per merchant order id (`<cabId>.<rideId>`). */
  paidEvents: Map<string, number>;
}

/** The Vipps and HitPay sides; absent in a Hips-only reconciliation. */
export interface RelayMadeFacts {
  vipps?: VippsLedger;
  hitpay?: HitpayLedger;
  relay?: RelayPaymentFacts;
}

export interface KioskFacts {
  cabId: string;
  lastSeq: number;
  appliedEventIds: Set<string>;
  payments: Map<string, { method: string; pspOrderId: string | null; orderAmount: number; tipAmount: number; totalAmount: number; currency?: string }>;
  /** Rides the store still holds as unfinished after the drain: rideId → state/order. */
  unfinished: Map<string, string>;
  /** Refunds per ride, by state, in minor units; `count` is how many were refunded. */
  refunds?: Map<string, { refunded: number; queued: number; failed: number; count: number }>;
  invariantProblems: string[];
}

export interface Violation {
  rule:
    | 'lost'
    | 'duplicateOrders'
    | 'duplicatePaidEvents'
    | 'wrongTotals'
    | 'stuck'
    | 'unshownPayment'
    | 'phantomPayment'
    | 'heldPayment'
    | 'refundMismatch'
    | 'duplicateRefund'
    | 'invariant'
    | 'error';
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
    /** Live HitPay requests the relay lost track of in a crash (never shown; not a violation). */
    orphanRequests: string[];
    /** Rides with more than one order.paid in the relay's log. */
    duplicatePaidEvents: number;
    /** Vipps payments authorized but neither captured nor released at the end. */
    heldPayments: number;
    /** Rides whose refunded amount at the PSP differs from the tablet's (or a refund never settled). */
    refundMismatches: number;
    /** Refunds a PSP booked beyond those the tablets asked for and got (the same refund booked twice). */
    duplicateRefunds: number;
    /** Partial refunds the tablets confirmed, and their sum per currency. */
    refunds: number;
    refundedByCurrency: Record<string, number>;
    relayEvents: number;
    ledgerOrders: number;
    ledgerPayments: number;
    /** Per PSP: rides, paid by the passenger, paid another way, canceled, PSP payments in its ledger. */
    byPsp: Record<string, { rides: number; paid: number; paidOther: number; canceled: number; ledgerPayments: number }>;
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
    for (const p of db.prepare('SELECT ride_id, method, psp_order_id, order_amount, tip_amount, total_amount, currency FROM payments').all() as Record<
      string,
      unknown
    >[])
      payments.set(p.ride_id as string, {
        method: p.method as string,
        pspOrderId: (p.psp_order_id as string | null) ?? null,
        orderAmount: p.order_amount as number,
        tipAmount: p.tip_amount as number,
        totalAmount: p.total_amount as number,
        currency: p.currency as string,
      });
    const unfinished = new Map<string, string>();
    for (const r of db.prepare("SELECT ride_id, state, order_status FROM rides WHERE state IN ('awaiting_payment','on_ride')").all() as Record<
      string,
      unknown
    >[])
      unfinished.set(r.ride_id as string, `${r.state as string}/${r.order_status as string}`);
    const refunds = new Map<string, { refunded: number; queued: number; failed: number; count: number }>();
    for (const r of db.prepare('SELECT ride_id, state, amount FROM refunds').all() as {
      ride_id: string;
      state: 'refunded' | 'queued' | 'failed';
      amount: number;
    }[]) {
      const sums = refunds.get(r.ride_id) ?? { refunded: 0, queued: 0, failed: 0, count: 0 };
      sums[r.state] += r.amount;
      if (r.state === 'refunded') sums.count++;
      refunds.set(r.ride_id, sums);
    }
    return {
      cabId,
      refunds,
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

/** The relay's payments table and how many order.paid events it committed per ride. */
export function readRelayPayments(relayDb: string): RelayPaymentFacts {
  const db = new Database(relayDb, { readonly: true, fileMustExist: true });
  try {
    const payments = (
      db.prepare('SELECT cab_id, ride_id, attempt, psp, reference, psp_reference, order_amount, tip_amount, currency, status FROM payments').all() as Record<
        string,
        unknown
      >[]
    ).map((r) => ({
      cabId: r.cab_id as string,
      rideId: r.ride_id as string,
      attempt: r.attempt as number,
      psp: r.psp as string,
      reference: r.reference as string,
      pspReference: (r.psp_reference as string | null) ?? null,
      orderAmount: r.order_amount as number,
      tipAmount: r.tip_amount as number,
      currency: r.currency as string,
      status: r.status as string,
    }));
    const paidEvents = new Map<string, number>();
    for (const e of db.prepare("SELECT data FROM events WHERE type = 'order.paid'").all() as { data: string }[]) {
      const moid = (JSON.parse(e.data) as { merchantOrderId?: string }).merchantOrderId ?? '?';
      paidEvents.set(moid, (paidEvents.get(moid) ?? 0) + 1);
    }
    return { payments, paidEvents };
  } finally {
    db.close();
  }
}

/** What the relay learnt by asking the PSPs (its reconciliations table), per PSP and outcome. */
export function readRelayReconciliations(relayDb: string): Record<string, Record<string, number>> {
  const db = new Database(relayDb, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, Record<string, number>> = {};
    const rows = db
      .prepare('SELECT psp, COALESCE(settled_by, status) AS how, outcome, COUNT(*) AS n FROM reconciliations GROUP BY psp, how, outcome')
      .all() as { psp: string; how: string; outcome: string | null; n: number }[];
    for (const r of rows) (out[r.psp] ??= {})[`${r.how}:${r.outcome ?? '-'}`] = r.n;
    return out;
  } finally {
    db.close();
  }
}

/** Payments whose every webhook the sandbox dropped (the lost-payment fault), per PSP. */
export function lostHookPayments(ledgers: { hips: Ledger; vipps: VippsLedger; hitpay: HitpayLedger }): Record<string, number> {
  const ids = {
    hips: (ledgers.hips.webhooks ?? []).filter((w) => w.status === 'dropped').map((w) => w.order_id ?? ''),
    vipps: (ledgers.vipps.webhooks ?? []).filter((w) => w.status === 'dropped').map((w) => w.body?.reference ?? ''),
    hitpay: (ledgers.hitpay.webhooks ?? []).filter((w) => w.status === 'dropped').map((w) => w.payment_request_id),
  };
  return Object.fromEntries(Object.entries(ids).map(([psp, list]) => [psp, new Set(list).size]));
}

/** Money a relay-made PSP took for a ride, as its ledger shows it. */
interface Taken {
  psp: 'vipps' | 'hitpay';
  cabId: string;
  rideId: string;
  /** What the tablet may hold as pspOrderId (Vipps reference, HitPay payment id). */
  ids: Set<string>;
  label: string;
  amount: number;
  refunded: number;
  /** What the relay asked for, from its payments table. */
  orderAmount: number;
  tipAmount: number;
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
  relayMade: RelayMadeFacts = {},
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
      add({
        rule: 'unshownPayment',
        cabId,
        rideId,
        detail: `PSP payment ${p.id} (${p.amount}) is not recorded as a PSP payment on the tablet (${shown ? `recorded as ${shown.method}` : 'no payment record'})`,
      });
    } else if (shown.pspOrderId !== order.id || shown.orderAmount !== p.order_amount || shown.tipAmount !== p.tip_amount || shown.totalAmount !== p.amount) {
      wrongTotals++;
      add({
        rule: 'wrongTotals',
        cabId,
        rideId,
        detail: `tablet has ${JSON.stringify(shown)}, PSP charged order ${order.id}: ${p.order_amount} + tip ${p.tip_amount} = ${p.amount}`,
      });
    }
  }
  // 2b. Vipps and HitPay: the money each ledger took, tied to its ride by the relay's payments table.
  const relayPayments = relayMade.relay?.payments ?? [];
  const byReference = new Map(relayPayments.map((p) => [p.reference, p]));
  const byPspReference = new Map(relayPayments.filter((p) => p.pspReference).map((p) => [`${p.psp}\u0000${p.pspReference}`, p]));
  const relayRow = (psp: string, ...keys: (string | null)[]) => {
    for (const k of keys) {
      if (!k) continue;
      const row = byReference.get(k) ?? byPspReference.get(`${psp}\u0000${k}`);
      if (row) return row;
    }
    return null;
  };
  const taken: Taken[] = [];
  let heldPayments = 0;
  const capturesByRide = new Map<string, number>();
  for (const p of relayMade.vipps?.payments ?? []) {
    const row = relayRow('vipps', p.reference, p.pspReference);
    const leftHeld = p.authorized - p.captured - p.cancelled;
    if (leftHeld > 0) {
      heldPayments++;
      add({
        rule: 'heldPayment',
        cabId: row?.cabId ?? null,
        rideId: row?.rideId ?? null,
        detail: `Vipps payment ${p.reference} (${p.state}) holds ${leftHeld} ${p.currency} authorized, neither captured nor released`,
      });
    }
    if (p.captured <= 0) continue;
    if (!row) {
      unshownPayments++;
      add({
        rule: 'unshownPayment',
        cabId: null,
        rideId: null,
        detail: `Vipps captured ${p.captured} ${p.currency} on ${p.reference}, which the relay's payments table does not know`,
      });
      continue;
    }
    const captures = p.events.filter((e) => e.name === 'CAPTURED').length || 1;
    const key = `${row.cabId}.${row.rideId}`;
    capturesByRide.set(key, (capturesByRide.get(key) ?? 0) + captures);
    taken.push({
      psp: 'vipps',
      cabId: row.cabId,
      rideId: row.rideId,
      ids: new Set([p.reference, p.pspReference]),
      label: `Vipps payment ${p.reference}`,
      amount: p.captured,
      refunded: p.refunded,
      orderAmount: row.orderAmount,
      tipAmount: row.tipAmount,
    });
  }
  const hitpayRequests = new Map((relayMade.hitpay?.payment_requests ?? []).map((r) => [r.id, r]));
  const completedByRide = new Map<string, number>();
  for (const p of relayMade.hitpay?.payments ?? []) {
    if (p.status === 'failed') continue;
    const request = hitpayRequests.get(p.payment_request_id);
    const row = relayRow('hitpay', p.payment_request_id, request?.reference_number ?? null);
    if (!row) {
      unshownPayments++;
      add({
        rule: 'unshownPayment',
        cabId: null,
        rideId: null,
        detail: `HitPay took ${p.amount_minor} ${p.currency} (payment ${p.id}, request ${p.payment_request_id}), which the relay's payments table does not know`,
      });
      continue;
    }
    const key = `${row.cabId}.${row.rideId}`;
    completedByRide.set(key, (completedByRide.get(key) ?? 0) + 1);
    taken.push({
      psp: 'hitpay',
      cabId: row.cabId,
      rideId: row.rideId,
      ids: new Set([p.id]),
      label: `HitPay payment ${p.id}`,
      amount: p.amount_minor,
      refunded: p.refunded_minor,
      orderAmount: row.orderAmount,
      tipAmount: row.tipAmount,
    });
  }
  // Never two captures (Vipps) or two completed payments (HitPay) for one ride.
  for (const [key, n] of [...capturesByRide, ...completedByRide])
    if (n > 1) {
      duplicateOrders++;
      const { cabId, rideId } = splitMerchantOrderId(key);
      add({ rule: 'duplicateOrders', cabId, rideId, detail: `${n} payments taken at the PSP for one ride` });
    }
  // HitPay: no two live payment requests for one ride, and none beside a completed one. A live
  // request the relay's table does not hold (the relay was killed between HitPay's answer and
  // storing its id, then made the attempt again: HitPay has no idempotency key) was never shown on
  // a tablet; it is counted apart as an orphan (docs/chaos.md), and would be money not shown if paid.
  const liveByRide = new Map<string, number>();
  const orphanRequests: string[] = [];
  for (const r of relayMade.hitpay?.payment_requests ?? []) {
    if (r.status !== 'pending') continue;
    const row = relayRow('hitpay', r.id, r.reference_number);
    if (!row) continue;
    if (row.pspReference !== r.id) {
      orphanRequests.push(`${row.cabId}.${row.rideId} attempt ${row.attempt}: request ${r.id} (the relay holds ${row.pspReference})`);
      continue;
    }
    const key = `${row.cabId}.${row.rideId}`;
    liveByRide.set(key, (liveByRide.get(key) ?? 0) + 1);
  }
  for (const [key, live] of liveByRide)
    if (live > 1 || (completedByRide.get(key) ?? 0) > 0) {
      duplicateOrders++;
      const { cabId, rideId } = splitMerchantOrderId(key);
      add({
        rule: 'duplicateOrders',
        cabId,
        rideId,
        detail: `${live} live HitPay payment requests at the end${completedByRide.get(key) ? ' beside a completed one' : ''}`,
      });
    }
  for (const t of taken) {
    for (const id of t.ids) paidPspOrders.add(id);
    const shown = kioskByCab.get(t.cabId)?.payments.get(t.rideId);
    if (!shown || shown.method !== 'psp') {
      unshownPayments++;
      add({
        rule: 'unshownPayment',
        cabId: t.cabId,
        rideId: t.rideId,
        detail: `${t.label} (${t.amount}) is not recorded as a PSP payment on the tablet (${shown ? `recorded as ${shown.method}` : 'no payment record'})`,
      });
    } else if (
      !t.ids.has(shown.pspOrderId ?? '') ||
      shown.totalAmount !== t.amount ||
      shown.orderAmount !== t.orderAmount ||
      shown.tipAmount !== t.tipAmount ||
      t.orderAmount + t.tipAmount !== t.amount
    ) {
      wrongTotals++;
      add({
        rule: 'wrongTotals',
        cabId: t.cabId,
        rideId: t.rideId,
        detail: `tablet has ${JSON.stringify(shown)}, the relay asked ${t.orderAmount} + tip ${t.tipAmount}, ${t.label} took ${t.amount}`,
      });
    }
  }

  let phantomPayments = 0;
  for (const k of kiosks)
    for (const [rideId, shown] of k.payments)
      if (shown.method === 'psp' && (!shown.pspOrderId || !paidPspOrders.has(shown.pspOrderId))) {
        phantomPayments++;
        add({
          rule: 'phantomPayment',
          cabId: k.cabId,
          rideId,
          detail: `the tablet shows PSP order ${shown.pspOrderId} paid, the PSP has no successful payment for it`,
        });
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
      add({
        rule: 'wrongTotals',
        cabId: r.cabId,
        rideId: r.rideId,
        detail: `screen showed ${JSON.stringify(s)}; the passenger paid order ${r.expected.pspOrderId}: ${r.expected.orderAmount} + tip ${r.expected.tipAmount}`,
      });
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
      add({
        rule: 'lost',
        cabId,
        rideId: null,
        detail: `relay seq ${events.maxSeq} (${events.unacked} unacked), tablet lastSeq ${k.lastSeq}, ${missing.length} event ids never applied`,
      });
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
      add({
        rule: 'stuck',
        cabId: r.cabId,
        rideId: r.rideId,
        detail: `${r.problem}${r.reasonShown ? `; screen says: ${r.reasonShown}` : '; no reason on screen'}`,
      });
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

  // 6. Each order.paid committed once per ride by the relay.
  let duplicatePaidEvents = 0;
  for (const [moid, n] of relayMade.relay?.paidEvents ?? new Map<string, number>())
    if (n > 1) {
      duplicatePaidEvents++;
      const { cabId, rideId } = splitMerchantOrderId(moid);
      add({ rule: 'duplicatePaidEvents', cabId, rideId, detail: `the relay committed ${n} order.paid events for one ride` });
    }

  // 7. Refunds: what each PSP refunded for a ride equals what the tablet shows refunded, none left queued.
  const ledgerRefunded = new Map<string, number>();
  const addRefunded = (cabId: string, rideId: string, amount: number) =>
    ledgerRefunded.set(`${cabId}.${rideId}`, (ledgerRefunded.get(`${cabId}.${rideId}`) ?? 0) + amount);
  for (const r of ledger.refunds ?? []) {
    const order = ordersById.get(r.order_id);
    if (!order) continue;
    const { cabId, rideId } = splitMerchantOrderId(order.merchant_order_id);
    addRefunded(cabId, rideId, r.amount);
  }
  for (const t of taken) if (t.refunded > 0) addRefunded(t.cabId, t.rideId, t.refunded);
  let refundMismatches = 0;
  let refunds = 0;
  const refundedByCurrency: Record<string, number> = {};
  const rideKeys = new Set(ledgerRefunded.keys());
  for (const k of kiosks) for (const rideId of k.refunds?.keys() ?? []) rideKeys.add(`${k.cabId}.${rideId}`);
  for (const key of rideKeys) {
    const { cabId, rideId } = splitMerchantOrderId(key);
    const k = kioskByCab.get(cabId);
    const onTablet = k?.refunds?.get(rideId) ?? { refunded: 0, queued: 0, failed: 0, count: 0 };
    const atPsp = ledgerRefunded.get(key) ?? 0;
    if (onTablet.refunded > 0) {
      refunds++;
      const currency = k?.payments.get(rideId)?.currency ?? '?';
      refundedByCurrency[currency] = (refundedByCurrency[currency] ?? 0) + onTablet.refunded;
    }
    if (onTablet.refunded !== atPsp || onTablet.queued > 0) {
      refundMismatches++;
      add({
        rule: 'refundMismatch',
        cabId,
        rideId,
        detail: `the PSP refunded ${atPsp}, the tablet shows ${onTablet.refunded} refunded (${onTablet.queued} still queued, ${onTablet.failed} failed)`,
      });
    }
  }

  // 8. Duplicate refunds: each refund booked at a PSP is one a tablet asked for and got. Hips and
  // HitPay list every refund; Vipps lists a REFUNDED event per refund of a payment.
  const bookedRefunds = new Map<string, number>();
  const book = (cabId: string, rideId: string) => bookedRefunds.set(`${cabId}.${rideId}`, (bookedRefunds.get(`${cabId}.${rideId}`) ?? 0) + 1);
  for (const r of ledger.refunds ?? []) {
    const order = ordersById.get(r.order_id);
    if (order) book(splitMerchantOrderId(order.merchant_order_id).cabId, splitMerchantOrderId(order.merchant_order_id).rideId);
  }
  const takenById = new Map<string, Taken>();
  for (const t of taken) for (const id of t.ids) takenById.set(id, t);
  for (const r of relayMade.hitpay?.refunds ?? []) {
    const t = takenById.get(r.payment_id);
    if (t) book(t.cabId, t.rideId);
  }
  for (const p of relayMade.vipps?.payments ?? []) {
    const t = takenById.get(p.reference);
    if (t) for (const e of p.events) if (e.name === 'REFUNDED') book(t.cabId, t.rideId);
  }
  let duplicateRefunds = 0;
  for (const [key, booked] of bookedRefunds) {
    const { cabId, rideId } = splitMerchantOrderId(key);
    const got = kioskByCab.get(cabId)?.refunds?.get(rideId)?.count ?? 0;
    if (booked > got) {
      duplicateRefunds += booked - got;
      add({ rule: 'duplicateRefund', cabId, rideId, detail: `the PSP booked ${booked} refunds, the tablet got ${got}` });
    }
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
      orphanRequests,
      duplicatePaidEvents,
      heldPayments,
      refundMismatches,
      duplicateRefunds,
      refunds,
      refundedByCurrency,
      relayEvents: relayEventCount,
      ledgerOrders: ledger.orders.length + relayPayments.length,
      ledgerPayments: ledger.payments.filter((p) => p.status === 'successful').length + taken.length,
      byPsp: byPsp(records, ledger.payments.filter((p) => p.status === 'successful').length, taken),
    },
    violations,
  };
}

function byPsp(records: RideRecord[], hipsPayments: number, taken: Taken[]): Reconciliation['counts']['byPsp'] {
  const out: Reconciliation['counts']['byPsp'] = {};
  for (const r of records) {
    const psp = (out[r.psp ?? 'hips'] ??= { rides: 0, paid: 0, paidOther: 0, canceled: 0, ledgerPayments: 0 });
    psp.rides++;
    if (r.outcome === 'paid_psp') psp.paid++;
    else if (r.outcome === 'paid_other') psp.paidOther++;
    else if (r.outcome === 'canceled') psp.canceled++;
  }
  if (out.hips) out.hips.ledgerPayments = hipsPayments;
  for (const t of taken) if (out[t.psp]) out[t.psp]!.ledgerPayments++;
  return out;
}
