import { describe, expect, it } from 'vitest';
import type { SessionView } from '../../protocol/kiosk-api.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { rideStateName } from '../../protocol/relay-protocol.js';
import { catalogs } from '../../renderer/src/i18n/index.js';
import {
  failureLeadKey,
  paidOtherwise,
  passengerWaiting,
  screenFor,
  screenNames,
  screenTestId,
  sessionProblem,
  failureKey,
} from '../../renderer/src/screen.js';
import { idleSnapshot, ride } from '../../scripts/lib/renderer-fixtures.js';

const session = (state: SessionView['state']): SessionView => ({
  sessionId: 's-1',
  psp: 'hips',
  allowTip: true,
  startedAt: '2026-11-21T10:00:00.000Z',
  expiresAt: '2026-11-21T10:15:00.000Z',
  state,
});

describe('screenFor', () => {
  it('shows the idle screen when there is no ride', () => {
    expect(screenFor(idleSnapshot())).toBe('idle');
  });

  it.each([
    ['idle', 'idle'],
    ['on_ride', 'on_ride'],
    ['ended', 'ended'],
    ['awaiting_payment', 'awaiting_payment'],
    ['paid', 'paid'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
  ] as const)('maps ride state %s to the %s screen', (state, screen) => {
    expect(screenFor(idleSnapshot({ ride: ride(state) }))).toBe(screen);
  });

  it('has a screen for every ride state the protocol knows', () => {
    for (const state of rideStateName.options) {
      expect(screenNames).toContain(screenFor(idleSnapshot({ ride: ride(state) })));
    }
  });

  it('is not swayed by the session: the core folds sessions into the ride state', () => {
    const snapshot = idleSnapshot({ ride: ride('on_ride'), session: session('ready') });
    expect(screenFor(snapshot)).toBe('on_ride');
    expect(screenFor({ ...snapshot, ride: ride('paid'), session: session('canceled') })).toBe('paid');
  });

  it('ignores connectivity: offline is a banner, not a screen', () => {
    const snapshot = idleSnapshot({
      ride: ride('awaiting_payment', { order: 'queued' }),
      connectivity: { relay: 'offline', offlineSince: '2026-11-21T10:00:00.000Z', problem: null },
      outboxDepth: 1,
    });
    expect(screenFor(snapshot)).toBe('awaiting_payment');
  });
});

describe('screen helpers', () => {
  it('names the test ids the end-to-end tests rely on', () => {
    expect(screenNames.map(screenTestId)).toEqual([
      'screen-idle',
      'screen-on-ride',
      'screen-ended',
      'screen-awaiting-payment',
      'screen-paid',
      'screen-failed',
      'screen-canceled',
    ]);
  });

  it('says "passenger ready" only for a ready session', () => {
    expect(passengerWaiting(idleSnapshot())).toBe(false);
    expect(passengerWaiting(idleSnapshot({ session: session('ready') }))).toBe(true);
    for (const state of ['in_use', 'canceled', 'timed_out', 'expired'] as const) {
      expect(passengerWaiting(idleSnapshot({ session: session(state) }))).toBe(false);
    }
  });

  it('reports why a passenger must scan again', () => {
    expect(sessionProblem(idleSnapshot({ session: session('timed_out') }))).toBe('timed_out');
    expect(sessionProblem(idleSnapshot({ session: session('expired') }))).toBe('expired');
    expect(sessionProblem(idleSnapshot({ session: session('in_use') }))).toBeNull();
    expect(sessionProblem(idleSnapshot())).toBeNull();
  });

  it('tells a PSP payment from one marked as paid another way', () => {
    const payment = {
      rideId: 'r',
      pspOrderId: 'psp-1',
      orderAmount: 100,
      tipAmount: 20,
      totalAmount: 120,
      currency: 'SEK',
      paidAt: '2026-11-21T10:20:00.000Z',
      method: 'psp' as const,
      receiptUrl: null,
    };
    expect(paidOtherwise(idleSnapshot({ payment }))).toBe(false);
    expect(paidOtherwise(idleSnapshot({ payment: { ...payment, pspOrderId: '', method: 'other' } }))).toBe(true);
  });
});

describe('failureLeadKey', () => {
  it('names the localized lead for the session failures the core reports', () => {
    expect(failureLeadKey('session_expired')).toBe('session.expired');
    expect(failureLeadKey('session_canceled')).toBe('session.canceled');
    expect(failureLeadKey('session_timed_out')).toBe('session.timed_out');
  });

  it('has none for other failures, whose reason comes from the PSP', () => {
    expect(failureLeadKey('payment_failed')).toBeNull();
    expect(failureLeadKey('')).toBeNull();
  });
});

describe('failureKey', () => {
  // Every failure code the kiosk core can put on a ride (ride-machine.ts, psp/hips-client.ts).
  const coreFailureCodes = [
    'session_expired',
    'session_canceled',
    'session_timed_out',
    'session_not_waiting',
    'session_unknown',
    'order_key_rejected',
    'order_rejected',
    'payment_failed',
    'payment_unconfirmed',
    // Relay-made payments (protocol paymentFailureCode) and refunds.
    'payment_rejected',
    'payment_expired',
    'payment_canceled',
    'customer_token_expired',
    'amount_mismatch',
    'refund_refused',
  ];
  it.each(coreFailureCodes)('words %s in the driver’s language', (code) => {
    expect(failureKey(code)).toBe(`failure.${code}`);
  });
  it('falls back to the core’s message for codes it does not know', () => {
    expect(failureKey('something_new')).toBeNull();
    expect(failureKey('something_new', { dynamicQr: true })).toBeNull();
  });
  it('with a dynamic QR, failures in the passenger’s app name their banking app; other codes are unchanged', () => {
    expect(failureKey('payment_rejected', PSP_CAPABILITIES.hitpay)).toBe('failure.payment_rejected_bank');
    expect(failureKey('amount_mismatch', PSP_CAPABILITIES.hitpay)).toBe('failure.amount_mismatch_bank');
    expect(failureKey('payment_expired', PSP_CAPABILITIES.hitpay)).toBe('failure.payment_expired');
    expect(failureKey('payment_rejected', PSP_CAPABILITIES.vipps)).toBe('failure.payment_rejected');
    expect(failureKey('amount_mismatch', PSP_CAPABILITIES.vipps)).toBe('failure.amount_mismatch');
  });
  it('the banking-app wording says "bank" in every language, the PSP-app wording does not', () => {
    for (const [locale, catalog] of Object.entries(catalogs)) {
      for (const key of ['failure.payment_rejected_bank', 'failure.amount_mismatch_bank'] as const) {
        expect(String(catalog[key]).toLowerCase(), `${locale} ${key}`).toMatch(/bank|pankki/);
        expect(String(catalog[key.replace('_bank', '') as keyof typeof catalog]).toLowerCase(), `${locale} ${key}`).not.toMatch(/bank|pankki/);
      }
    }
  });
});
