/** Pure HitPay sandbox helpers: string amount arithmetic, SGT times, form parsing, signatures. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { majorToMinor, minorToMajor, withinCreateLimits } from '../../backend-relay/sandbox/hitpay/amount.js';
import { jsonHitpaySignature, legacyHitpayHmac, legacySigningString } from '../../backend-relay/sandbox/hitpay/hmac.js';
import { parseExpiresAfter, parseSgt, sgtString } from '../../backend-relay/sandbox/hitpay/time.js';
import { parseFormBody } from '../../backend-relay/sandbox/hitpay/validation.js';

describe('amounts', () => {
  it('converts major text to minor units without floats', () => {
    expect(majorToMinor('12.5', 2)).toEqual({ ok: true, minor: 1250 });
    expect(majorToMinor('0.30', 2)).toEqual({ ok: true, minor: 30 });
    expect(majorToMinor('0.300', 2)).toEqual({ ok: true, minor: 30 });
    expect(majorToMinor(19.99, 2)).toEqual({ ok: true, minor: 1999 });
    expect(majorToMinor('1000', 0)).toEqual({ ok: true, minor: 1000 });
    expect(majorToMinor('1.5', 0)).toEqual({ ok: false, reason: 'too_many_decimals' });
    expect(majorToMinor('1.001', 2)).toEqual({ ok: false, reason: 'too_many_decimals' });
    for (const bad of ['', '-1', '+1', '1e2', '1,00', ' . ', '.5']) expect(majorToMinor(bad, 2).ok).toBe(false);
  });

  it('round-trips every minor amount through its major text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999_999 }), fc.constantFrom(0, 2, 3), (minor, digits) => {
        expect(majorToMinor(minorToMajor(minor, digits), digits)).toEqual({ ok: true, minor });
      }),
    );
    expect(minorToMajor(5, 2)).toBe('0.05');
    expect(minorToMajor(1250, 2)).toBe('12.50');
  });

  it("applies HitPay's 0.3 – 999999999.99 limits in any currency exponent", () => {
    expect(withinCreateLimits(29, 2)).toBe(false);
    expect(withinCreateLimits(30, 2)).toBe(true);
    expect(withinCreateLimits(99_999_999_999, 2)).toBe(true);
    expect(withinCreateLimits(100_000_000_000, 2)).toBe(false);
    expect(withinCreateLimits(0, 0)).toBe(false);
    expect(withinCreateLimits(1, 0)).toBe(true);
  });
});

describe('Singapore times', () => {
  it('formats and parses wall-clock SGT (UTC+8) without an offset', () => {
    const ms = Date.UTC(2026, 0, 2, 20, 30, 5);
    expect(sgtString(ms)).toBe('2026-01-03T04:30:05');
    expect(parseSgt('2026-01-03 04:30:05')).toBe(ms);
    expect(parseSgt('2026-01-03T04:30:05')).toBe(ms);
    expect(parseSgt('2026-02-30 00:00:00')).toBeNull();
    expect(parseSgt('tomorrow')).toBeNull();
  });

  it('reads expires_after durations', () => {
    expect(parseExpiresAfter('5 minutes')).toBe(300_000);
    expect(parseExpiresAfter('30 mins')).toBe(1_800_000);
    expect(parseExpiresAfter('2 hours')).toBe(7_200_000);
    expect(parseExpiresAfter('7 days')).toBe(604_800_000);
    expect(parseExpiresAfter('3 seconds')).toBe(3000);
    expect(parseExpiresAfter('0 mins')).toBeNull();
    expect(parseExpiresAfter('5 fortnights')).toBeNull();
  });
});

describe('form bodies and signatures', () => {
  it('reads payment_methods[] (and [0]) as arrays, other keys as strings', () => {
    expect(parseFormBody('amount=1.00&payment_methods%5B%5D=paynow_online&payment_methods%5B%5D=card&x=1&x=2')).toEqual({
      amount: '1.00',
      payment_methods: ['paynow_online', 'card'],
      x: '2',
    });
    expect(parseFormBody('payment_methods[0]=paynow_online')).toEqual({ payment_methods: ['paynow_online'] });
  });

  it('signs the sorted key+value string, empty values included', () => {
    const fields = { status: 'completed', amount: '1.00', phone: '', hmac: 'ignored' };
    expect(legacySigningString(fields)).toBe('amount1.00phonestatuscompleted');
    // A known vector: HMAC-SHA256("salt", "amount1.00phonestatuscompleted").
    expect(legacyHitpayHmac(fields, 'salt')).toBe(jsonHitpaySignature('amount1.00phonestatuscompleted', 'salt'));
    expect(legacyHitpayHmac(fields, 'salt')).toMatch(/^[0-9a-f]{64}$/);
  });
});
