/** Where a payment QR from the relay may point (payment-qr.ts), rule by rule. */
import { describe, expect, it } from 'vitest';
import { paymentQrProblem, paymentQrRule } from '../../electron/core/payment-qr.js';
import { FLEET_UEN, paynowQr } from './paynow.js';

const total = { amount: 2_250, currency: 'SGD' };

describe('payment QR rule', () => {
  it('by default allows the PSP’s own hosts and the host of pspUrl; a configured list replaces them', () => {
    expect(paymentQrRule({ psp: 'hitpay', pspUrl: 'http://127.0.0.1:8788' }).hosts).toEqual([
      'securecheckout.hit-pay.com',
      'securecheckout.sandbox.hit-pay.com',
      '127.0.0.1',
    ]);
    expect(paymentQrRule({ psp: 'hitpay', pspUrl: 'https://api.hit-pay.com', paymentQr: { hosts: ['Pay.Fleet.example'] } }).hosts).toEqual([
      'pay.fleet.example',
    ]);
    expect(paymentQrRule({ psp: 'hips' })).toEqual({ hosts: [], emvScheme: null, emvProxies: null });
  });

  it('URLs: https to an allowed host; http only on loopback; no user info; nothing else', () => {
    const rule = paymentQrRule({ psp: 'hitpay', pspUrl: 'http://127.0.0.1:8788' });
    expect(paymentQrProblem('https://securecheckout.hit-pay.com/payment-request/@fleet/1', total, rule)).toBeNull();
    expect(paymentQrProblem('http://127.0.0.1:9999/hitpay/paynow/abc', total, rule)).toBeNull();
    expect(paymentQrProblem('http://securecheckout.hit-pay.com/x', total, rule)).toMatch(/only https/);
    expect(paymentQrProblem('https://securecheckout.hit-pay.com.attacker.example/x', total, rule)).toMatch(/not this cab's payment provider/);
    expect(paymentQrProblem('https://user@securecheckout.hit-pay.com/x', total, rule)).toMatch(/user name or password/);
    expect(paymentQrProblem('PAY ME 22.50', total, rule)).toMatch(/neither a URL nor an EMVCo payment code/);
  });

  it('PayNow codes: valid checksum, PayNow, not editable, SGD, the exact total; the fleet’s proxy when configured', () => {
    const anyProxy = paymentQrRule({ psp: 'hitpay' });
    expect(paymentQrProblem(paynowQr(2_250), total, anyProxy)).toBeNull();
    expect(paymentQrProblem(paynowQr(2_200), { amount: 2_200, currency: 'SGD' }, anyProxy)).toBeNull();
    expect(paymentQrProblem(paynowQr(2_251), total, anyProxy)).toMatch(/asks for 22\.51, not the ride's total/);
    expect(paymentQrProblem(paynowQr(2_250), { amount: 2_250, currency: 'SEK' }, anyProxy)).toMatch(/currency \(702\) is not the ride's SEK/);
    expect(paymentQrProblem(paynowQr(2_250, { editable: true }), total, anyProxy)).toMatch(/can be edited/);
    expect(paymentQrProblem(`${paynowQr(2_250).slice(0, -4)}ZZZZ`, total, anyProxy)).toMatch(/wrong checksum|malformed/);
    expect(paymentQrProblem('000201010212', total, anyProxy)).toMatch(/malformed|checksum/);
    const pinned = paymentQrRule({ psp: 'hitpay', paymentQr: { paynowProxies: [FLEET_UEN] } });
    expect(paymentQrProblem(paynowQr(2_250), total, pinned)).toBeNull();
    expect(paymentQrProblem(paynowQr(2_250, { uen: 'T99LL9999Z' }), total, pinned)).toMatch(/proxy T99LL9999Z, which is not this fleet's/);
    // A PSP without EMV codes takes none.
    expect(paymentQrProblem(paynowQr(2_250), total, paymentQrRule({ psp: 'vipps' }))).toMatch(/does not use EMVCo/);
  });
});
