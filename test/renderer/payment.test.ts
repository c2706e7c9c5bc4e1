import { describe, expect, it } from 'vitest';
import { maxTip } from '../../protocol/money.js';
import { paymentFailureCode } from '../../protocol/relay-protocol.js';
import { canRetryPayment, mmss, passengerView, refundAllowed, secondsLeft, tipAllowed, tipPresets } from '../../renderer/src/payment.js';
import { failureKey } from '../../renderer/src/screen.js';
import { cabFor, idleSnapshot, recentPayment, ride } from '../../scripts/lib/renderer-fixtures.js';

const now = Date.parse('2026-11-21T10:30:00.000Z');
const qr = (expiresAt: string) => ({ qrData: '00020101021226…', amount: 2_750, currency: 'SGD', expiresAt });

describe('tip presets and the cap', () => {
  it('offers 0/5/10/15/20 % of the order amount, rounded down, the top one exactly the cap', () => {
    expect(tipPresets(24_500)).toEqual([
      { percent: 0, amount: 0 },
      { percent: 5, amount: 1_225 },
      { percent: 10, amount: 2_450 },
      { percent: 15, amount: 3_675 },
      { percent: 20, amount: 4_900 },
    ]);
    // An odd amount: 15 % of 333 is 49.95 → 49, 20 % of 333 is 66.6 → 66 = maxTip.
    const odd = tipPresets(333);
    expect(odd.map((p) => p.amount)).toEqual([0, 16, 33, 49, 66]);
    expect(odd.at(-1)!.amount).toBe(maxTip(333));
    for (const p of tipPresets(98_765)) expect(tipAllowed(p.amount, 98_765)).toBe(true);
  });

  it('allows a custom tip from 0 up to the cap, nothing above, no fractions', () => {
    expect(tipAllowed(0, 24_500)).toBe(true);
    expect(tipAllowed(4_900, 24_500)).toBe(true);
    expect(tipAllowed(4_901, 24_500)).toBe(false);
    expect(tipAllowed(10.5, 24_500)).toBe(false);
    expect(tipAllowed(-1, 24_500)).toBe(false);
  });
});

describe('passengerView', () => {
  const vipps = (overrides: Parameters<typeof ride>[1] = {}, state: Parameters<typeof ride>[0] = 'ended') =>
    idleSnapshot({ cab: cabFor('vipps'), currency: 'NOK', ride: ride(state, { orderAmount: 24_500, currency: 'NOK', ...overrides }) });
  const hitpay = (overrides: Parameters<typeof ride>[1] = {}, state: Parameters<typeof ride>[0] = 'ended') =>
    idleSnapshot({ cab: cabFor('hitpay'), currency: 'SGD', ride: ride(state, { orderAmount: 2_500, currency: 'SGD', ...overrides }) });

  it('asks for the tip first where the tip is picked on the tablet', () => {
    expect(passengerView(vipps(), now)).toBe('pick_tip');
    expect(passengerView(hitpay(), now)).toBe('pick_tip');
    expect(passengerView(vipps({}, 'failed'), now)).toBe('pick_tip');
    // Hips: the tip is in the passenger's app, so no picker.
    expect(passengerView(idleSnapshot({ ride: ride('ended', { orderAmount: 24_500 }) }), now)).toBe('scan_static');
  });

  it('Vipps after the tip: the static QR without a check-in, the app approval once sent', () => {
    expect(passengerView(vipps({ tipAmount: 2_450 }), now)).toBe('scan_static');
    expect(passengerView(vipps({ tipAmount: 2_450, order: 'created' }, 'awaiting_payment'), now)).toBe('approve_in_app');
    // Failed: a retryable failure is sent again to the same check-in, so no "scan to pay";
    // an expired check-in needs a new scan.
    expect(passengerView(vipps({ tipAmount: 0, failure: { code: 'payment_rejected', message: 'x' } }, 'failed'), now)).toBe('failed_send_again');
    expect(passengerView(vipps({ tipAmount: 0, failure: { code: 'customer_token_expired', message: 'x' } }, 'failed'), now)).toBe('scan_static');
  });

  it('HitPay after the tip: preparing, then the QR until it expires', () => {
    expect(passengerView(hitpay({ tipAmount: 250, order: 'queued' }), now)).toBe('preparing_qr');
    expect(passengerView(hitpay({ tipAmount: 250, order: 'created', paymentQr: qr('2026-11-21T10:35:00.000Z') }, 'awaiting_payment'), now)).toBe('dynamic_qr');
    expect(passengerView(hitpay({ tipAmount: 250, paymentQr: qr('2026-11-21T10:30:00.000Z') }, 'awaiting_payment'), now)).toBe('qr_expired');
    expect(passengerView(hitpay({ tipAmount: 250, failure: { code: 'payment_expired', message: 'x' } }, 'failed'), now)).toBe('failed_no_qr');
  });
});

describe('the countdown', () => {
  it('counts whole seconds down to 0 and never below', () => {
    expect(secondsLeft('2026-11-21T10:35:00.000Z', now)).toBe(300);
    expect(secondsLeft('2026-11-21T10:30:00.500Z', now)).toBe(1);
    expect(secondsLeft('2026-11-21T10:29:00.000Z', now)).toBe(0);
    expect(secondsLeft('not a time', now)).toBe(0);
    expect(mmss(300)).toBe('05:00');
    expect(mmss(59)).toBe('00:59');
    expect(mmss(0)).toBe('00:00');
  });
});

describe('retry and refunds', () => {
  const failed = (psp: 'hips' | 'vipps' | 'hitpay', code: string) =>
    idleSnapshot({ cab: cabFor(psp), ride: ride('failed', { orderAmount: 2_500, tipAmount: 0, failure: { code, message: 'x' } }) });

  it('offers a new payment request only for relay-made payments that expired, were rejected or canceled', () => {
    for (const code of ['payment_expired', 'payment_rejected', 'payment_canceled']) {
      expect(canRetryPayment(failed('hitpay', code)), code).toBe(true);
      expect(canRetryPayment(failed('vipps', code)), code).toBe(true);
      expect(canRetryPayment(failed('hips', code)), code).toBe(false);
    }
    expect(canRetryPayment(failed('vipps', 'customer_token_expired'))).toBe(false);
    expect(canRetryPayment(failed('hitpay', 'amount_mismatch'))).toBe(false);
  });

  it('words every failure code the relay can send', () => {
    for (const code of paymentFailureCode.options) expect(failureKey(code), code).toBe(`failure.${code}`);
  });

  it('allows a refund from 1 minor unit up to what is still refundable', () => {
    const paid = recentPayment({ totalAmount: 29_400, refundedAmount: 4_000, refundableAmount: 25_400 });
    expect(refundAllowed(25_400, paid)).toBe(true);
    expect(refundAllowed(1, paid)).toBe(true);
    expect(refundAllowed(25_401, paid)).toBe(false);
    expect(refundAllowed(0, paid)).toBe(false);
    expect(refundAllowed(100, recentPayment({ refundableAmount: 0 }))).toBe(false);
  });
});
