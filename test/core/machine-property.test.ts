/**
 * Property test: any interleaving of driver commands, relay events, PSP answers and the clock,
 * applied through the same transactions the core uses, keeps the store consistent and never
 * takes back a confirmed payment.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { applyCommand, applyRelayEvent, expireSessions, machineContext, prepareDelivery, settleDelivery } from '../../electron/core/commit.js';
import { checkStoreInvariants } from '../../electron/core/invariants.js';
import { isPastExpiry } from '../../electron/core/session-clock.js';
import { KioskStore } from '../../electron/core/store.js';
import { maxTip } from '../../protocol/money.js';
import { orderAmountOf } from '../../electron/core/model.js';
import { tempDir } from './helpers.js';

type Action =
  | { t: 'cmd'; cmd: KioskCommand }
  | { t: 'session'; expiresInS: number }
  | { t: 'sessionEnd'; idx: number; how: 'canceled' | 'timed_out' }
  /** honest: the ride's own fare; otherwise a fixed 1,000 whatever the ride's fare (a lying relay). */
  | { t: 'paid'; idx: number; tip: number; honest: boolean }
  | { t: 'failed'; idx: number }
  | { t: 'deliver'; outcome: 'success' | 'definitive' }
  | { t: 'time'; seconds: number; sweep: boolean };

const command: fc.Arbitrary<KioskCommand> = fc.oneof(
  fc.constant({ name: 'startRide' } as const),
  fc.integer({ min: 0, max: 50_000 }).map((amountMinor) => ({ name: 'setFare', amountMinor }) as const),
  fc
    .record({ kind: fc.constantFrom('toll', 'airport_fee', 'luggage', 'booking_fee', 'other' as const), amountMinor: fc.integer({ min: 1, max: 5_000 }) })
    .map((extra) => ({ name: 'addExtra', extra }) as const),
  fc.constantFrom('fare', 'extra-1', 'extra-2').map((lineId) => ({ name: 'removeExtra', lineId }) as const),
  fc.constant({ name: 'endRide' } as const),
  fc.constant({ name: 'endRide' } as const),
  fc.constant({ name: 'cancelRide' } as const),
  fc.constant({ name: 'dismiss' } as const),
  fc.constant({ name: 'markPaidOtherwise' } as const),
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: command.map((cmd) => ({ t: 'cmd', cmd }) as const) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 600 }).map((expiresInS) => ({ t: 'session', expiresInS }) as const) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('sessionEnd' as const), idx: fc.nat(), how: fc.constantFrom('canceled' as const, 'timed_out' as const) }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('paid' as const), idx: fc.nat(), tip: fc.integer({ min: 0, max: 2_000 }), honest: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('failed' as const), idx: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('deliver' as const), outcome: fc.constantFrom('success' as const, 'success' as const, 'definitive' as const) }),
  },
  // The expiry sweep runs on a timer, so the outbox may look at a session before the sweep has.
  { weight: 1, arbitrary: fc.record({ t: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 700 }), sweep: fc.boolean() }) },
);

const config = { cabId: 'CAB-7', currency: 'SEK', locale: 'en' as const };

function runScenario(actions: Action[]): void {
  const store = KioskStore.open(tempDir('cabpay-prop-'));
  store.db.pragma('synchronous = OFF'); // speed only: durability is the crash test's business
  let nowMs = Date.parse('2026-11-21T12:00:00.000Z');
  let seq = 0;
  let rideCounter = 0;
  const sessionIds: string[] = [];
  const paidByPsp = new Set<string>();
  const now = () => new Date(nowMs).toISOString();
  const ctx = () => machineContext(store, config, now(), null);
  const event = (type: RelayEvent['type'], data: unknown): RelayEvent => ({ seq: ++seq, id: `e${seq}`, type, occurredAt: now(), data }) as RelayEvent;
  const rides = () =>
    store.db.prepare('SELECT ride_id, merchant_order_id, psp_order_id FROM rides ORDER BY started_at, ride_id').all() as {
      ride_id: string;
      merchant_order_id: string;
      psp_order_id: string | null;
    }[];
  // Everything but the event log and the driver's warning: what a refused event must leave alone.
  const records = () =>
    ['rides', 'payments', 'sessions', 'outbox', 'refunds', 'receipts'].map((table) => store.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all());

  try {
    for (const [step, a] of actions.entries()) {
      switch (a.t) {
        case 'cmd':
          applyCommand(store, ctx(), a.cmd, `ride-${String(++rideCounter).padStart(4, '0')}`);
          break;
        case 'session': {
          const sessionId = `s${sessionIds.length + 1}`;
          sessionIds.push(sessionId);
          applyRelayEvent(
            store,
            ctx(),
            event('qr.session.started', {
              psp: 'hips',
              sessionId,
              qrCode: 'Q',
              allowTip: true,
              oneTimeOrderApiKey: `k-${sessionId}`,
              expiresAt: new Date(nowMs + a.expiresInS * 1000).toISOString(),
            }),
          );
          break;
        }
        case 'sessionEnd': {
          const sessionId = sessionIds[a.idx % Math.max(1, sessionIds.length)] ?? 'none';
          applyRelayEvent(store, ctx(), event(a.how === 'canceled' ? 'qr.session.canceled' : 'qr.session.timed_out', { sessionId }));
          break;
        }
        case 'paid':
        case 'failed': {
          const all = rides();
          const ride = all[a.idx % Math.max(1, all.length)];
          const merchantOrderId = ride?.merchant_order_id ?? 'CAB-7.unknown';
          if (a.t === 'paid') {
            const fare = ride ? orderAmountOf(store.getRide(ride.ride_id)!.lines) : 1_000;
            const orderAmount = a.honest ? fare : 1_000;
            const before = records();
            const result = applyRelayEvent(
              store,
              ctx(),
              event('order.paid', {
                merchantOrderId,
                pspOrderId: `o-${merchantOrderId}`,
                currency: 'SEK',
                orderAmount,
                tipAmount: a.tip,
                totalAmount: orderAmount + a.tip,
              }),
            );
            if (result.rejected) expect(records(), `a refused payment changes nothing: ${result.rejected}`).toEqual(before);
            else if (ride) paidByPsp.add(ride.ride_id);
            // The tablet takes no payment whose amounts differ from the ride's fare or whose tip is over the cap.
            if (orderAmount !== fare || a.tip > maxTip(fare)) expect(result.rejected).toBeDefined();
          } else {
            applyRelayEvent(store, ctx(), event('order.failed', { merchantOrderId, pspOrderId: ride?.psp_order_id ?? '', reason: 'declined' }));
          }
          break;
        }
        case 'deliver': {
          const head = store.outboxHead();
          if (!head) break;
          if (head.kind !== 'create_order') throw new Error(`a Hips cab queued a ${head.kind}`);
          const session = store.getSession(head.job.sessionId);
          const prepared = prepareDelivery(store, head, now());
          if (prepared.kind === 'send') {
            // Never send into a session that is over.
            expect(session && (session.state === 'in_use' || session.state === 'ready') && !isPastExpiry(session, now())).toBe(true);
            expect(prepared.apiKey).toBe(`k-${head.job.sessionId}`);
            settleDelivery(
              store,
              head,
              a.outcome === 'success'
                ? { kind: 'success', pspOrderId: `o-${head.job.merchantOrderId}` }
                : { kind: 'definitive', status: 409, failure: { code: 'session_not_waiting', message: 'scan again' } },
              now(),
            );
          }
          break;
        }
        case 'time':
          nowMs += a.seconds * 1000;
          if (a.sweep) expireSessions(store, ctx());
          break;
      }

      const problems = checkStoreInvariants(store);
      expect(problems, `after step ${step}: ${JSON.stringify(a)}`).toEqual([]);
      for (const rideId of paidByPsp) {
        expect(store.getRide(rideId)?.state, `a confirmed payment stays paid (ride ${rideId})`).toBe('paid');
        expect(store.getPayment(rideId)?.method).toBe('psp');
      }
      const screen = ctx().screenRide;
      if (screen?.state === 'awaiting_payment') {
        expect(screen.lines.find((l) => l.kind === 'fare')?.amount ?? 0).toBeGreaterThan(0);
        expect(store.getSession(screen.sessionId!)?.rideId).toBe(screen.rideId);
      }
    }
  } finally {
    store.close();
  }
}

describe('ride machine and store, under any interleaving', () => {
  it('keep the invariants and the payments', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => runScenario(actions)),
      { numRuns: 150 },
    );
  });

  it('a scripted interleaving: scan, expiry while queued, rescan, paid, late failure ignored', () => {
    runScenario([
      { t: 'session', expiresInS: 30 },
      { t: 'cmd', cmd: { name: 'startRide' } },
      { t: 'cmd', cmd: { name: 'setFare', amountMinor: 10_000 } },
      { t: 'cmd', cmd: { name: 'endRide' } },
      { t: 'time', seconds: 60, sweep: false },
      { t: 'deliver', outcome: 'success' },
      { t: 'session', expiresInS: 300 },
      { t: 'deliver', outcome: 'success' },
      { t: 'paid', idx: 0, tip: 500, honest: false },
      { t: 'paid', idx: 0, tip: 500, honest: true },
      { t: 'failed', idx: 0 },
      { t: 'cmd', cmd: { name: 'dismiss' } },
    ]);
  });
});
