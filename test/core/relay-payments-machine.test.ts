/**
 * The ride machine for PSPs other than Hips, read from PSP_CAPABILITIES: the tip picked on the
 * tablet, payment.request jobs for the relay, payment.qr, order.failed codes and attempts,
 * retryPayment, and refunds through the store's transactions.
 */
import { describe, expect, it } from 'vitest';
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import type { PspName, RelayEvent } from '../../protocol/relay-protocol.js';
import { applyRefundCommand, applyRelayEvent, machineContext, payContext, prepareDelivery, settleDelivery } from '../../electron/core/commit.js';
import { checkStoreInvariants } from '../../electron/core/invariants.js';
import type { Ride, Session } from '../../electron/core/model.js';
import { decideCommand, decideEvent, decideSilence, FAILURES, type Effect, type EventLookups, type MachineContext } from '../../electron/core/ride-machine.js';
import { recentPayments } from '../../electron/core/snapshot.js';
import { KioskStore } from '../../electron/core/store.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { tempDir } from './helpers.js';
import { paynowQr } from './paynow.js';

const NOW = '2026-11-21T12:00:00.000Z';
const RIDE_ID = '019a0000-0000-7000-8000-000000000001';
const fareLine = { id: 'fare', kind: 'fare' as const, label: 'Taxi fare', amount: 25_000, vatRate: 6 };

function ctx(psp: PspName, over: Partial<MachineContext> = {}): MachineContext {
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
    ...payContext(psp),
    ...over,
  };
}

function ride(over: Partial<Ride> = {}): Ride {
  return {
    rideId: RIDE_ID,
    merchantOrderId: `CAB-7.${RIDE_ID}`,
    state: 'ended',
    startedAt: NOW,
    endedAt: NOW,
    currency: 'SEK',
    lines: [fareLine],
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
    sessionId: 'v1',
    psp: 'vipps',
    qrCode: 'Q',
    allowTip: true,
    oneTimeOrderApiKey: null,
    startedAt: NOW,
    expiresAt: '2026-11-21T12:10:00.000Z',
    state: 'ready',
    rideId: null,
    ...over,
  };
}

function run(c: MachineContext, command: KioskCommand): Effect[] {
  const result = decideCommand(c, command, 'new-ride');
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}
function refusal(c: MachineContext, command: KioskCommand): { code: string; message: string } {
  const result = decideCommand(c, command, 'new-ride');
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}
function savedRide(effects: Effect[]): Ride {
  const last = effects.filter((e): e is Extract<Effect, { type: 'saveRide' }> => e.type === 'saveRide').at(-1);
  if (!last) throw new Error('no ride saved');
  return last.ride;
}
const enqueued = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'enqueue' }> => e.type === 'enqueue');
const lookups = (rides: Ride[], sessions: Session[] = []): EventLookups => ({
  ride: (id) => rides.find((r) => r.rideId === id) ?? null,
  rideByMerchantOrderId: (id) => rides.find((r) => r.merchantOrderId === id) ?? null,
  session: (id) => sessions.find((s) => s.sessionId === id) ?? null,
});
const started = (sessionId: string) =>
  ({
    seq: 1,
    id: `e-${sessionId}`,
    type: 'qr.session.started',
    occurredAt: NOW,
    data: { psp: 'vipps', sessionId, qrCode: 'Q', allowTip: true, expiresAt: '2026-11-21T12:15:00.000Z' },
  }) as const;

describe('tip on the tablet', () => {
  it('Vipps: endRide with a live check-in still waits for the tip; the tip then sends payment.request in that session', () => {
    const onRide = ride({ state: 'on_ride', endedAt: null });
    const ended = savedRide(run(ctx('vipps', { screenRide: onRide, currentSession: session() }), { name: 'endRide' }));
    expect(ended).toMatchObject({ state: 'ended', tipAmount: null, order: 'none' });

    const effects = run(ctx('vipps', { screenRide: ended, currentSession: session() }), { name: 'chooseTip', tipAmountMinor: 2_500 });
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', order: 'queued', attempt: 1, tipAmount: 2_500, sessionId: 'v1' });
    expect(enqueued(effects)).toEqual([
      {
        type: 'enqueue',
        kind: 'payment_request',
        job: {
          rideId: RIDE_ID,
          merchantOrderId: `CAB-7.${RIDE_ID}`,
          psp: 'vipps',
          sessionId: 'v1',
          attempt: 1,
          currency: 'SEK',
          lines: [fareLine],
          orderAmount: 25_000,
          tipAmount: 2_500,
          idempotencyKey: RIDE_ID,
        },
      },
    ]);
    expect(effects).toContainEqual({ type: 'saveSession', session: session({ state: 'in_use', rideId: RIDE_ID }) });
  });

  it('Vipps: tip first, then the scan starts the attempt', () => {
    const tipped = savedRide(run(ctx('vipps', { screenRide: ride() }), { name: 'chooseTip', tipAmountMinor: 0 }));
    expect(tipped).toMatchObject({ state: 'ended', tipAmount: 0, order: 'none' });
    const { effects } = decideEvent(ctx('vipps', { screenRide: tipped }), lookups([tipped]), started('v2'));
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', attempt: 1, sessionId: 'v2', tipAmount: 0 });
    expect(enqueued(effects)[0]).toMatchObject({ kind: 'payment_request', job: { sessionId: 'v2', tipAmount: 0 } });
  });

  it('Vipps: a scan before the tip only makes the passenger ready', () => {
    const { effects } = decideEvent(ctx('vipps', { screenRide: ride() }), lookups([ride()]), started('v3'));
    expect(effects).toContainEqual({ type: 'setCurrentSession', sessionId: 'v3' });
    expect(enqueued(effects)).toEqual([]);
  });

  it('HitPay: endRide waits for the tip; the tip starts the attempt without any session', () => {
    const ended = savedRide(run(ctx('hitpay', { screenRide: ride({ state: 'on_ride', endedAt: null }) }), { name: 'endRide' }));
    expect(ended).toMatchObject({ state: 'ended', tipAmount: null });
    const effects = run(ctx('hitpay', { screenRide: ended }), { name: 'chooseTip', tipAmountMinor: 1_000 });
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', order: 'queued', attempt: 1, sessionId: null, tipAmount: 1_000 });
    expect(enqueued(effects)[0]).toMatchObject({ kind: 'payment_request', job: { psp: 'hitpay', sessionId: null, tipAmount: 1_000, attempt: 1 } });
    expect(effects.some((e) => e.type === 'saveSession')).toBe(false);
  });

  it('refuses a tip over 20% of the order amount, naming the most allowed', () => {
    const error = refusal(ctx('hitpay', { screenRide: ride() }), { name: 'chooseTip', tipAmountMinor: 5_001 });
    expect(error.code).toBe('tip_too_high');
    expect(error.message).toMatch(/SEK\s50\.00/u);
    expect(savedRide(run(ctx('hitpay', { screenRide: ride() }), { name: 'chooseTip', tipAmountMinor: 5_000 })).tipAmount).toBe(5_000);
  });

  it('refuses chooseTip in the wrong state, while in flight, and for a PSP whose app takes the tip', () => {
    expect(refusal(ctx('vipps', { screenRide: ride({ state: 'on_ride' }) }), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe('cannot_choose_tip');
    expect(refusal(ctx('vipps', { screenRide: ride({ state: 'awaiting_payment', order: 'queued' }) }), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe(
      'cannot_choose_tip',
    );
    expect(refusal(ctx('vipps', { screenRide: ride({ state: 'paid' }) }), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe('cannot_choose_tip');
    expect(refusal(ctx('vipps', { screenRide: ride({ state: 'failed' }), inFlightRideId: RIDE_ID }), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe(
      'payment_in_flight',
    );
    expect(refusal(ctx('hips', { screenRide: ride() }), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe('tip_in_app');
    expect(refusal(ctx('vipps'), { name: 'chooseTip', tipAmountMinor: 0 }).code).toBe('no_ride');
  });
});

describe('relay-made payment events', () => {
  const awaiting = ride({ state: 'awaiting_payment', order: 'created', attempt: 2, tipAmount: 1_000, pspOrderId: 'hp-2' });
  const qrData = paynowQr(26_000);
  const qr = (attempt?: number) =>
    ({
      seq: 3,
      id: 'q',
      type: 'payment.qr',
      occurredAt: NOW,
      data: {
        rideId: RIDE_ID,
        ...(attempt ? { attempt } : {}),
        paymentRequestId: 'pr-1',
        qrData,
        amount: 26_000,
        currency: 'SGD',
        expiresAt: '2026-11-21T12:05:00.000Z',
      },
    }) as const;
  const sgd = { ...awaiting, currency: 'SGD' };

  it('payment.qr of the current attempt is stored on the ride; of another attempt it is not applied; of an unknown ride it is refused', () => {
    const hitpay = ctx('hitpay', { currency: 'SGD' });
    const stored = decideEvent(hitpay, lookups([sgd]), qr(2));
    expect(stored.applied ?? true).toBe(true);
    expect(savedRide(stored.effects).paymentQr).toEqual({
      qrData,
      amount: 26_000,
      currency: 'SGD',
      expiresAt: '2026-11-21T12:05:00.000Z',
      attempt: 2,
      paymentRequestId: 'pr-1',
    });
    expect(savedRide(decideEvent(hitpay, lookups([sgd]), qr()).effects).paymentQr?.qrData).toBe(qrData);

    expect(decideEvent(hitpay, lookups([sgd]), qr(1))).toEqual({ effects: [], applied: false, note: expect.stringContaining('attempt 1') });
    expect(decideEvent(hitpay, lookups([]), qr(2))).toMatchObject({
      effects: [],
      applied: false,
      rejected: expect.stringContaining('not a ride of this tablet'),
    });
  });

  it('order.failed of an older attempt is ignored; with a code it fails the ride with that code and the relay reason', () => {
    const failed = (attempt: number, code?: 'payment_expired' | 'customer_token_expired') =>
      ({
        seq: 4,
        id: 'f',
        type: 'order.failed',
        occurredAt: NOW,
        data: { merchantOrderId: awaiting.merchantOrderId, pspOrderId: 'other', reason: 'Nobody paid in time', attempt, ...(code ? { code } : {}) },
      }) as const;
    expect(decideEvent(ctx('hitpay'), lookups([awaiting]), failed(1, 'payment_expired'))).toMatchObject({ effects: [], applied: false });
    const effects = decideEvent(ctx('hitpay'), lookups([awaiting]), failed(2, 'payment_expired')).effects;
    expect(savedRide(effects)).toMatchObject({ state: 'failed', failure: { code: 'payment_expired', message: 'Nobody paid in time' } });
    expect(effects).toContainEqual({ type: 'dropOutbox', rideId: RIDE_ID });
  });

  it('order.paid of a relay-made payment records the tip from the event', () => {
    const event = {
      seq: 5,
      id: 'p',
      type: 'order.paid',
      occurredAt: NOW,
      data: { merchantOrderId: awaiting.merchantOrderId, pspOrderId: 'hp-2', currency: 'SEK', orderAmount: 25_000, tipAmount: 1_000, totalAmount: 26_000 },
    } as const;
    const effects = decideEvent(ctx('hitpay'), lookups([awaiting]), event).effects;
    expect(savedRide(effects).state).toBe('paid');
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'recordPayment', payment: expect.objectContaining({ tipAmount: 1_000, totalAmount: 26_000, method: 'psp' }) }),
    );
  });

  it('the payment-silence deadline of a HitPay ride counts from its QR expiry', () => {
    const withQr = {
      ...awaiting,
      paymentQr: { qrData: 'x', amount: 26_000, currency: 'SEK', expiresAt: '2026-11-21T12:05:00.000Z', attempt: 2, paymentRequestId: null },
    };
    const look = lookups([withQr]);
    expect(decideSilence({ now: '2026-11-21T12:09:59.999Z' }, look, [withQr], 5 * 60_000)).toEqual([]);
    expect(savedRide(decideSilence({ now: '2026-11-21T12:10:00.000Z' }, look, [withQr], 5 * 60_000))).toMatchObject({
      state: 'failed',
      failure: FAILURES.paymentUnconfirmed,
    });
  });
});

describe('retryPayment', () => {
  const failedRide = (over: Partial<Ride> = {}) =>
    ride({
      state: 'failed',
      attempt: 1,
      tipAmount: 500,
      failure: { code: 'payment_rejected', message: 'said no' },
      paymentQr: { qrData: 'x', amount: 1, currency: 'SEK', expiresAt: NOW, attempt: 1, paymentRequestId: null },
      ...over,
    });

  it('HitPay: a new attempt with the same tip, the old QR cleared, the queue emptied first', () => {
    const effects = run(ctx('hitpay', { screenRide: failedRide() }), { name: 'retryPayment' });
    expect(effects[0]).toEqual({ type: 'dropOutbox', rideId: RIDE_ID });
    expect(savedRide(effects)).toMatchObject({ state: 'awaiting_payment', attempt: 2, tipAmount: 500, paymentQr: null, failure: null });
    expect(enqueued(effects)).toEqual([
      expect.objectContaining({ kind: 'payment_request', job: expect.objectContaining({ attempt: 2, tipAmount: 500, idempotencyKey: `${RIDE_ID}.2` }) }),
    ]);
  });

  it('Vipps: refused without a live check-in (ask to scan again); with a fresh scan it uses it', () => {
    const error = refusal(ctx('vipps', { screenRide: failedRide({ sessionId: 'v1' }) }), { name: 'retryPayment' });
    expect(error.code).toBe('scan_needed');
    expect(error.message).toMatch(/scan the QR again/);
    const expired = session({ state: 'in_use', rideId: RIDE_ID, expiresAt: '2026-11-21T11:59:00.000Z' });
    expect(refusal(ctx('vipps', { screenRide: failedRide({ sessionId: 'v1' }), currentSession: expired }), { name: 'retryPayment' }).code).toBe('scan_needed');
    const fresh = session({ sessionId: 'v9' });
    expect(savedRide(run(ctx('vipps', { screenRide: failedRide({ sessionId: 'v1' }), currentSession: fresh }), { name: 'retryPayment' }))).toMatchObject({
      attempt: 2,
      sessionId: 'v9',
    });
  });

  it('refused for Hips, for a ride that has not failed', () => {
    expect(refusal(ctx('hips', { screenRide: failedRide() }), { name: 'retryPayment' }).code).toBe('retry_not_supported');
    expect(refusal(ctx('hitpay', { screenRide: ride({ state: 'awaiting_payment' }) }), { name: 'retryPayment' }).code).toBe('nothing_to_retry');
  });

  it('Vipps customer_token_expired: the ride fails and the check-in dies; the next check-in re-sends at once', () => {
    const s = session({ state: 'in_use', rideId: RIDE_ID });
    const r = ride({ state: 'awaiting_payment', order: 'created', attempt: 1, sessionId: 'v1', tipAmount: 300 });
    const event = {
      seq: 6,
      id: 'f',
      type: 'order.failed',
      occurredAt: NOW,
      data: { merchantOrderId: r.merchantOrderId, pspOrderId: '', reason: 'token expired', code: 'customer_token_expired', attempt: 1 },
    } as const;
    const { effects } = decideEvent(ctx('vipps', { screenRide: r, currentSession: s }), lookups([r], [s]), event);
    expect(effects).toContainEqual({ type: 'saveSession', session: { ...s, state: 'expired' } });
    const failed = savedRide(effects);
    expect(failed).toMatchObject({ state: 'failed', failure: { code: 'customer_token_expired' } });

    const rescan = decideEvent(ctx('vipps', { screenRide: failed }), lookups([failed]), started('v2'));
    expect(savedRide(rescan.effects)).toMatchObject({ state: 'awaiting_payment', attempt: 2, sessionId: 'v2', tipAmount: 300 });
    expect(enqueued(rescan.effects)[0]).toMatchObject({ kind: 'payment_request', job: { sessionId: 'v2', attempt: 2, tipAmount: 300 } });
  });
});

describe('refunds through the store', () => {
  const config = { cabId: 'CAB-7', currency: 'SEK', locale: 'en' as const, psp: 'hitpay' as const };

  function paidStore(): KioskStore {
    const store = KioskStore.open(tempDir('cabpay-refund-'));
    store.saveRide(ride({ state: 'paid', order: 'created', attempt: 1, pspOrderId: 'hp-1', tipAmount: 1_000 }));
    store.recordPayment({
      rideId: RIDE_ID,
      method: 'psp',
      pspOrderId: 'hp-1',
      orderAmount: 25_000,
      tipAmount: 1_000,
      totalAmount: 26_000,
      currency: 'SEK',
      paidAt: NOW,
    });
    return store;
  }
  const refund = (store: KioskStore, amountMinor: number, refundId: string) =>
    applyRefundCommand(store, { name: 'refundRide', rideId: RIDE_ID, amountMinor }, { now: NOW, psp: 'hitpay', refundId, requestedBy: 'driver-12' });
  let seq = 0;
  const event = (type: RelayEvent['type'], data: unknown) => ({ seq: ++seq, id: `ev-${seq}`, type, occurredAt: NOW, data }) as RelayEvent;

  it('queues a refund.request, refuses to refund more than is left, then settles refunded on the ack', () => {
    const store = paidStore();
    expect(refund(store, 20_000, 'rf-1')).toEqual({ ok: true, value: null });
    const head = store.outboxHead()!;
    expect(head).toMatchObject({
      kind: 'refund',
      job: {
        refundId: 'rf-1',
        rideId: RIDE_ID,
        merchantOrderId: `CAB-7.${RIDE_ID}`,
        psp: 'hitpay',
        pspOrderId: 'hp-1',
        amount: 20_000,
        currency: 'SEK',
        reason: 'Refund requested by the driver',
        requestedBy: 'driver-12',
        requestedAt: NOW,
      },
    });
    // 26 000 paid, 20 000 on its way: 6 000 left.
    const over = refund(store, 6_001, 'rf-2');
    expect(over).toMatchObject({ ok: false, error: { code: 'refund_too_large' } });
    expect(recentPayments(store)[0]).toMatchObject({
      refundedAmount: 0,
      refundableAmount: 6_000,
      refund: { refundId: 'rf-1', state: 'queued', amount: 20_000 },
    });
    expect(checkStoreInvariants(store, PSP_CAPABILITIES.hitpay)).toEqual([]);

    expect(prepareDelivery(store, head, NOW, 'hitpay')).toEqual({ kind: 'send', apiKey: null });
    settleDelivery(store, head, { kind: 'success' }, NOW, 'hitpay');
    expect(store.outboxDepth()).toBe(0);
    expect(recentPayments(store)[0]).toMatchObject({ refundedAmount: 20_000, refundableAmount: 6_000, refund: { state: 'refunded' } });

    // The relay's order.refunded {refundId} for the same refund counts once.
    const again = applyRelayEvent(
      store,
      machineContext(store, config, NOW, null),
      event('order.refunded', { merchantOrderId: `CAB-7.${RIDE_ID}`, amount: 20_000, currency: 'SEK', refundId: 'rf-1' }),
    );
    expect(again.applied).toBe(false);
    expect(store.getPayment(RIDE_ID)?.refundedAmount).toBe(20_000);
    expect(checkStoreInvariants(store, PSP_CAPABILITIES.hitpay)).toEqual([]);
    store.close();
  });

  it('a definitive ack error fails the refund with its reason and frees the amount again', () => {
    const store = paidStore();
    refund(store, 26_000, 'rf-3');
    const head = store.outboxHead()!;
    settleDelivery(store, head, { kind: 'definitive', failure: { code: 'refund_refused', message: 'The PSP refused: too old' } }, NOW, 'hitpay');
    expect(recentPayments(store)[0]).toMatchObject({
      refundedAmount: 0,
      refundableAmount: 26_000,
      refund: { state: 'failed', failure: { code: 'refund_refused', message: 'The PSP refused: too old' } },
    });
    expect(checkStoreInvariants(store, PSP_CAPABILITIES.hitpay)).toEqual([]);
    store.close();
  });

  it('order.refunded {refundId} settles a queued refund and drops its job; without refundId it adds the amount', () => {
    const store = paidStore();
    refund(store, 5_000, 'rf-4');
    const ctxNow = () => machineContext(store, config, NOW, null);
    expect(
      applyRelayEvent(store, ctxNow(), event('order.refunded', { merchantOrderId: `CAB-7.${RIDE_ID}`, amount: 5_000, currency: 'SEK', refundId: 'rf-4' }))
        .applied,
    ).toBe(true);
    expect(store.outboxDepth()).toBe(0);
    expect(store.getRefund('rf-4')?.state).toBe('refunded');
    expect(
      applyRelayEvent(store, ctxNow(), event('order.refunded', { merchantOrderId: `CAB-7.${RIDE_ID}`, amount: 5_000, currency: 'SEK', refundId: 'rf-4' }))
        .applied,
    ).toBe(false);
    applyRelayEvent(store, ctxNow(), event('order.refunded', { merchantOrderId: `CAB-7.${RIDE_ID}`, amount: 1_000, currency: 'SEK' }));
    expect(store.getPayment(RIDE_ID)?.refundedAmount).toBe(6_000);
    expect(checkStoreInvariants(store, PSP_CAPABILITIES.hitpay)).toEqual([]);
    store.close();
  });

  it('refuses a ride paid another way', () => {
    const store = KioskStore.open(tempDir('cabpay-refund-'));
    store.saveRide(ride({ state: 'paid' }));
    store.recordPayment({
      rideId: RIDE_ID,
      method: 'other',
      pspOrderId: null,
      orderAmount: 25_000,
      tipAmount: 0,
      totalAmount: 25_000,
      currency: 'SEK',
      paidAt: NOW,
    });
    expect(refund(store, 100, 'rf-5')).toMatchObject({ ok: false, error: { code: 'not_refundable' } });
    expect(recentPayments(store)[0]).toMatchObject({ method: 'other', refundableAmount: 0, refund: null });
    store.close();
  });
});
