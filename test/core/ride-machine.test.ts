import { describe, expect, it } from 'vitest';
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import type { Ride, Session } from '../../electron/core/model.js';
import { payContext } from '../../electron/core/commit.js';
import {
  decideCommand,
  decideDelivery,
  decideEvent,
  decideExpiry,
  FAILURES,
  type Effect,
  type EventLookups,
  type MachineContext,
} from '../../electron/core/ride-machine.js';

const NOW = '2026-11-21T12:00:00.000Z';
const RIDE_ID = '019a0000-0000-7000-8000-000000000001';

function ctx(over: Partial<MachineContext> = {}): MachineContext {
  return {
    now: NOW,
    cabId: 'CAB-7',
    currency: 'SEK',
    locale: 'en',
    defaultLocale: 'en',
    extras: [],
    screenRide: null,
    currentSession: null,
    inFlightRideId: null,
    ...payContext('hips'),
    ...over,
  };
}

function ride(over: Partial<Ride> = {}): Ride {
  return {
    rideId: RIDE_ID,
    merchantOrderId: `CAB-7.${RIDE_ID}`,
    state: 'on_ride',
    startedAt: NOW,
    endedAt: null,
    currency: 'SEK',
    lines: [],
    order: 'none',
    attempt: 0,
    sessionId: null,
    pspOrderId: null,
    failure: null,
    tipAmount: null,
    paymentQr: null,
    ...over,
  };
}

function session(over: Partial<Session> = {}): Session {
  return {
    sessionId: 's1',
    psp: 'hips',
    qrCode: 'Q',
    allowTip: true,
    oneTimeOrderApiKey: 'otk',
    startedAt: NOW,
    expiresAt: '2026-11-21T12:10:00.000Z',
    state: 'ready',
    rideId: null,
    ...over,
  };
}

const fareLine = { id: 'fare', kind: 'fare' as const, label: 'Taxi fare', amount: 25_000, vatRate: 6 };

function run(c: MachineContext, command: KioskCommand): Effect[] {
  const result = decideCommand(c, command, 'new-ride');
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function savedRide(effects: Effect[]): Ride {
  const saves = effects.filter((e): e is Extract<Effect, { type: 'saveRide' }> => e.type === 'saveRide');
  const last = saves.at(-1);
  if (!last) throw new Error('no ride saved');
  return last.ride;
}

function refusal(c: MachineContext, command: KioskCommand): { code: string; message: string } {
  const result = decideCommand(c, command, 'new-ride');
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

describe('ride machine: driver commands', () => {
  it('startRide from idle creates an on_ride ride with merchantOrderId <cabId>.<rideId> and puts it on screen', () => {
    const effects = run(ctx(), { name: 'startRide' });
    expect(savedRide(effects)).toMatchObject({ rideId: 'new-ride', merchantOrderId: 'CAB-7.new-ride', state: 'on_ride', order: 'none' });
    expect(effects).toContainEqual({ type: 'setScreenRide', rideId: 'new-ride' });
  });

  it('refuses startRide during a ride, and allows it while an earlier payment is pending', () => {
    expect(refusal(ctx({ screenRide: ride() }), { name: 'startRide' }).code).toBe('ride_in_progress');
    const effects = run(ctx({ screenRide: ride({ state: 'awaiting_payment', order: 'created' }) }), { name: 'startRide' });
    expect(effects).toContainEqual({ type: 'setScreenRide', rideId: 'new-ride' });
  });

  it('setFare writes one fare line (6% VAT, kind fare) and replaces it on a second call', () => {
    const first = savedRide(run(ctx({ screenRide: ride() }), { name: 'setFare', amountMinor: 12_300 }));
    expect(first.lines).toEqual([{ id: 'fare', kind: 'fare', label: 'Taxi fare', amount: 12_300, vatRate: 6 }]);
    const second = savedRide(run(ctx({ screenRide: first }), { name: 'setFare', amountMinor: 15_000 }));
    expect(second.lines).toHaveLength(1);
    expect(second.lines[0]?.amount).toBe(15_000);
  });

  it('addExtra uses the default VAT per kind and a localized label; removeExtra removes only that line', () => {
    let r = ride({ lines: [fareLine] });
    r = savedRide(run(ctx({ screenRide: r }), { name: 'addExtra', extra: { kind: 'toll', amountMinor: 2_000 } }));
    r = savedRide(run(ctx({ screenRide: r, locale: 'sv' }), { name: 'addExtra', extra: { kind: 'airport_fee', amountMinor: 9_500 } }));
    r = savedRide(run(ctx({ screenRide: r }), { name: 'addExtra', extra: { kind: 'other', amountMinor: 100, label: 'Child seat' } }));
    expect(r.lines.map((l) => [l.id, l.kind, l.label, l.vatRate])).toEqual([
      ['fare', 'fare', 'Taxi fare', 6],
      ['extra-1', 'toll', 'Toll', 0],
      ['extra-2', 'airport_fee', 'Flygplatsavgift', 6],
      ['extra-3', 'other', 'Child seat', 6],
    ]);
    r = savedRide(run(ctx({ screenRide: r }), { name: 'removeExtra', lineId: 'extra-2' }));
    expect(r.lines.map((l) => l.id)).toEqual(['fare', 'extra-1', 'extra-3']);
    expect(refusal(ctx({ screenRide: r }), { name: 'removeExtra', lineId: 'extra-2' }).code).toBe('line_not_found');
    expect(refusal(ctx({ screenRide: r }), { name: 'removeExtra', lineId: 'fare' }).code).toBe('cannot_remove_fare');
  });

  it('refuses endRide without a fare, telling the driver to enter it', () => {
    expect(refusal(ctx({ screenRide: ride() }), { name: 'endRide' })).toEqual({
      code: 'fare_missing',
      message: 'Enter the fare before ending the ride.',
    });
    expect(refusal(ctx({ screenRide: ride({ lines: [{ ...fareLine, amount: 0 }] }) }), { name: 'endRide' }).code).toBe('fare_missing');
  });

  it('endRide with a live session queues the order in the same decision (awaiting_payment, key = ride id)', () => {
    const effects = run(ctx({ screenRide: ride({ lines: [fareLine] }), currentSession: session() }), { name: 'endRide' });
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', order: 'queued', attempt: 1, sessionId: 's1', endedAt: NOW });
    const enqueue = effects.find((e) => e.type === 'enqueue');
    expect(enqueue).toMatchObject({ job: { idempotencyKey: RIDE_ID, sessionId: 's1', merchantOrderId: `CAB-7.${RIDE_ID}` } });
    expect(effects).toContainEqual({ type: 'saveSession', session: session({ state: 'in_use', rideId: RIDE_ID }) });
  });

  it('endRide without a session goes to ended; with a stale scan it says to scan again', () => {
    const none = savedRide(run(ctx({ screenRide: ride({ lines: [fareLine] }) }), { name: 'endRide' }));
    expect(none).toMatchObject({ state: 'ended', order: 'none', failure: null });
    const stale = session({ expiresAt: '2026-11-21T11:59:00.000Z' });
    const effects = run(ctx({ screenRide: ride({ lines: [fareLine] }), currentSession: stale }), { name: 'endRide' });
    expect(savedRide(effects)).toMatchObject({ state: 'ended', failure: FAILURES.sessionExpired });
    expect(effects.some((e) => e.type === 'enqueue')).toBe(false);
  });

  it('cancelRide is allowed before the order exists, refused once it is out or in flight', () => {
    expect(savedRide(run(ctx({ screenRide: ride() }), { name: 'cancelRide' })).state).toBe('canceled');
    const queued = ride({ state: 'awaiting_payment', order: 'queued', attempt: 1 });
    expect(run(ctx({ screenRide: queued }), { name: 'cancelRide' })).toContainEqual({ type: 'dropOutbox', rideId: RIDE_ID });
    expect(refusal(ctx({ screenRide: queued, inFlightRideId: RIDE_ID }), { name: 'cancelRide' }).code).toBe('cannot_cancel');
    expect(refusal(ctx({ screenRide: ride({ state: 'awaiting_payment', order: 'created' }) }), { name: 'cancelRide' }).code).toBe('cannot_cancel');
    expect(refusal(ctx(), { name: 'cancelRide' }).code).toBe('no_ride');
  });

  it('dismiss clears only a finished ride', () => {
    for (const state of ['paid', 'failed', 'canceled'] as const)
      expect(run(ctx({ screenRide: ride({ state }) }), { name: 'dismiss' })).toContainEqual({ type: 'setScreenRide', rideId: null });
    expect(refusal(ctx({ screenRide: ride({ state: 'awaiting_payment' }) }), { name: 'dismiss' }).code).toBe('ride_not_finished');
  });

  it('markPaidOtherwise records a payment by other means for a failed ride only', () => {
    const failed = ride({ state: 'failed', lines: [fareLine], failure: FAILURES.sessionCanceled });
    const effects = run(ctx({ screenRide: failed }), { name: 'markPaidOtherwise' });
    expect(savedRide(effects)).toMatchObject({ state: 'paid', failure: null });
    expect(effects).toContainEqual({
      type: 'recordPayment',
      payment: { rideId: RIDE_ID, method: 'other', pspOrderId: null, orderAmount: 25_000, tipAmount: 0, totalAmount: 25_000, currency: 'SEK', paidAt: NOW },
    });
    expect(refusal(ctx({ screenRide: ride({ state: 'awaiting_payment' }) }), { name: 'markPaidOtherwise' }).code).toBe('cannot_mark_paid');
  });

  it('refuses ride edits once the ride has ended', () => {
    const ended = ride({ state: 'ended', lines: [fareLine] });
    expect(refusal(ctx({ screenRide: ended }), { name: 'setFare', amountMinor: 1 }).code).toBe('ride_not_active');
    expect(refusal(ctx({ screenRide: ended }), { name: 'endRide' }).code).toBe('ride_not_active');
    expect(refusal(ctx(), { name: 'setFare', amountMinor: 1 }).code).toBe('no_ride');
  });
});

describe('ride machine: relay events', () => {
  const lookups = (rides: Ride[], sessions: Session[] = []): EventLookups => ({
    ride: (id) => rides.find((r) => r.rideId === id) ?? null,
    rideByMerchantOrderId: (id) => rides.find((r) => r.merchantOrderId === id) ?? null,
    session: (id) => sessions.find((s) => s.sessionId === id) ?? null,
  });
  const started = (sessionId: string, expiresAt = '2026-11-21T12:10:00.000Z') =>
    ({
      seq: 1,
      id: `e-${sessionId}`,
      type: 'qr.session.started',
      occurredAt: NOW,
      data: { psp: 'hips', sessionId, qrCode: 'Q', allowTip: true, oneTimeOrderApiKey: 'k', expiresAt },
    }) as const;

  it('a session with no ride waiting becomes the passenger-ready session', () => {
    const { effects } = decideEvent(ctx(), lookups([]), started('s9'));
    expect(effects).toContainEqual({ type: 'setCurrentSession', sessionId: 's9' });
    expect(effects.some((e) => e.type === 'enqueue')).toBe(false);
  });

  it('a session for an ended ride creates the order; for a failed ride it makes a fresh attempt <rideId>.2', () => {
    const ended = ride({ state: 'ended', lines: [fareLine], endedAt: NOW });
    expect(decideEvent(ctx({ screenRide: ended }), lookups([ended]), started('s2')).effects).toContainEqual(
      expect.objectContaining({ type: 'enqueue', job: expect.objectContaining({ idempotencyKey: RIDE_ID, sessionId: 's2' }) }),
    );
    const failed = ride({ state: 'failed', lines: [fareLine], attempt: 1, failure: FAILURES.sessionExpired });
    const { effects } = decideEvent(ctx({ screenRide: failed }), lookups([failed]), started('s3'));
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', attempt: 2, failure: null });
    expect(effects).toContainEqual(expect.objectContaining({ type: 'enqueue', job: expect.objectContaining({ idempotencyKey: `${RIDE_ID}.2` }) }));
  });

  it('never binds a session that is already past its expiry', () => {
    const ended = ride({ state: 'ended', lines: [fareLine] });
    const { effects } = decideEvent(ctx({ screenRide: ended }), lookups([ended]), started('old', '2026-11-21T11:00:00.000Z'));
    expect(effects).toEqual([{ type: 'saveSession', session: expect.objectContaining({ sessionId: 'old', state: 'expired' }) }]);
  });

  it('order.paid lands on the ride by merchantOrderId, even when it is not on screen', () => {
    const earlier = ride({ state: 'awaiting_payment', order: 'created', attempt: 1, lines: [fareLine] });
    const current = ride({ rideId: 'other', merchantOrderId: 'CAB-7.other' });
    const event = {
      seq: 5,
      id: 'p1',
      type: 'order.paid',
      occurredAt: NOW,
      data: { merchantOrderId: earlier.merchantOrderId, pspOrderId: 'o1', currency: 'SEK', orderAmount: 25_000, tipAmount: 5_000, totalAmount: 30_000 },
    } as const;
    const { effects } = decideEvent(ctx({ screenRide: current }), lookups([earlier, current]), event);
    expect(savedRide(effects)).toMatchObject({ rideId: RIDE_ID, state: 'paid', pspOrderId: 'o1' });
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'recordPayment', payment: expect.objectContaining({ tipAmount: 5_000, totalAmount: 30_000, method: 'psp' }) }),
    );
  });

  it('order.failed fails an awaiting ride with a reason, but never a paid one', () => {
    const awaiting = ride({ state: 'awaiting_payment', order: 'created', pspOrderId: 'o1' });
    const event = {
      seq: 5,
      id: 'f1',
      type: 'order.failed',
      occurredAt: NOW,
      data: { merchantOrderId: awaiting.merchantOrderId, pspOrderId: 'o1', reason: 'card declined' },
    } as const;
    expect(savedRide(decideEvent(ctx(), lookups([awaiting]), event).effects)).toMatchObject({ state: 'failed', failure: { code: 'payment_failed' } });
    expect(decideEvent(ctx(), lookups([{ ...awaiting, state: 'paid' }]), event).effects).toEqual([]);
  });

  it('a canceled session fails the ride it was bound to and drops its queued order', () => {
    const s = session({ state: 'in_use', rideId: RIDE_ID });
    const r = ride({ state: 'awaiting_payment', order: 'queued', sessionId: 's1', attempt: 1 });
    const { effects } = decideEvent(ctx(), lookups([r], [s]), { seq: 2, id: 'c', type: 'qr.session.canceled', occurredAt: NOW, data: { sessionId: 's1' } });
    expect(effects).toContainEqual({ type: 'dropOutbox', rideId: RIDE_ID });
    expect(savedRide(effects)).toMatchObject({ state: 'failed', failure: FAILURES.sessionCanceled });
  });
});

describe('ride machine: time and delivery', () => {
  it('expiry fails a ride whose order is still queued, unless the request is in flight', () => {
    const s = session({ state: 'in_use', rideId: RIDE_ID, expiresAt: '2026-11-21T11:59:00.000Z' });
    const r = ride({ state: 'awaiting_payment', order: 'queued', sessionId: 's1', attempt: 1 });
    const look: EventLookups = { ride: () => r, rideByMerchantOrderId: () => r, session: () => s };
    expect(savedRide(decideExpiry(ctx(), look, [s]))).toMatchObject({ state: 'failed', failure: FAILURES.sessionExpired });
    expect(decideExpiry(ctx({ inFlightRideId: RIDE_ID }), look, [s])).toEqual([]);
  });

  it('a late answer for an older attempt changes nothing', () => {
    const r = ride({ state: 'awaiting_payment', order: 'queued', attempt: 2 });
    const job = { rideId: RIDE_ID, merchantOrderId: r.merchantOrderId, currency: 'SEK', lines: [], sessionId: 's1', idempotencyKey: RIDE_ID };
    expect(decideDelivery(r, job, { kind: 'created', pspOrderId: 'o' }, ctx())).toEqual([]);
    expect(savedRide(decideDelivery(r, { ...job, idempotencyKey: `${RIDE_ID}.2` }, { kind: 'created', pspOrderId: 'o' }, ctx()))).toMatchObject({
      order: 'created',
      pspOrderId: 'o',
    });
  });

  it('a failure a new scan cures is re-sent at once when the passenger has already scanned again', () => {
    const r = ride({ state: 'awaiting_payment', order: 'queued', attempt: 1, sessionId: 's1', lines: [fareLine] });
    const job = { rideId: RIDE_ID, merchantOrderId: r.merchantOrderId, currency: 'SEK', lines: r.lines, sessionId: 's1', idempotencyKey: RIDE_ID };
    const refused = { kind: 'refused', failure: { code: 'session_not_waiting', message: 'scan again' } } as const;
    const rescanned = session({ sessionId: 's2' });
    const resent = decideDelivery(r, job, refused, ctx({ screenRide: r, currentSession: rescanned }));
    expect(savedRide(resent)).toMatchObject({ state: 'awaiting_payment', attempt: 2, sessionId: 's2', failure: null });
    expect(resent).toContainEqual(expect.objectContaining({ type: 'enqueue', job: expect.objectContaining({ idempotencyKey: `${RIDE_ID}.2` }) }));
    // Not when the ride is off screen (the session is the next passenger's), nor for a refused order.
    expect(savedRide(decideDelivery(r, job, refused, ctx({ currentSession: rescanned })))).toMatchObject({ state: 'failed' });
    const badOrder = { kind: 'refused', failure: { code: 'order_rejected', message: 'check the fare' } } as const;
    expect(savedRide(decideDelivery(r, job, badOrder, ctx({ screenRide: r, currentSession: rescanned })))).toMatchObject({ state: 'failed' });
  });
});
