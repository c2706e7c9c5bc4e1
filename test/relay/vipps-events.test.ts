/** Vipps webhook mapping (pure): check-ins become sessions without the token; ePayment events become payment updates. */
import { describe, expect, it } from 'vitest';
import { mapVippsHook, type VippsPaymentEventBody } from '../../backend-relay/psp/vipps-events.js';
import type { HookVerdict } from '../../backend-relay/psp/psp-adapter.js';

const MSN = '123456';
const TOKEN = 'wbA8ceVRKkoYiQAVELHeFCC3Sn5dtNCvvEtVPiOT77j6wx7uR965AG6Q+q0ATP4=';
const checkIn = (over: Record<string, unknown> = {}) => ({
  customerToken: TOKEN,
  merchantQrId: 'd8b7d76d-49aa-48b8-90c6-38779372c163',
  msn: MSN,
  initiatedAt: '2023-10-06T10:45:40.3061965Z',
  ...over,
});
const paymentEvent = (name: VippsPaymentEventBody['name'], over: Partial<VippsPaymentEventBody> = {}): VippsPaymentEventBody => ({
  msn: MSN,
  reference: 'cab-1-ride-7-1',
  pspReference: '1234567891',
  name,
  amount: { currency: 'NOK', value: 35000 },
  timestamp: '2023-08-14T12:48:46.260Z',
  idempotencyKey: '49ca711a9487112e1def',
  success: true,
  ...over,
});

function verified(v: HookVerdict) {
  if (v.verdict !== 'verified') throw new Error(`expected verified, got ${v.verdict}: ${v.message}`);
  return v;
}

describe('user.checked-in.v1', () => {
  it('starts a session on the cab owning the merchant QR, valid 15 minutes from the scan', () => {
    const v = verified(mapVippsHook(checkIn(), MSN));
    expect(v.route).toEqual({ by: 'qrCode', qrCode: 'd8b7d76d-49aa-48b8-90c6-38779372c163' });
    expect(v.needsLiveCab).toBe(false);
    expect(v.event?.type).toBe('qr.session.started');
    const data = v.event!.data as { psp: string; sessionId: string; qrCode: string; allowTip: boolean; expiresAt: string };
    expect(data).toEqual({
      psp: 'vipps',
      sessionId: data.sessionId,
      qrCode: 'd8b7d76d-49aa-48b8-90c6-38779372c163',
      allowTip: true,
      expiresAt: '2023-10-06T11:00:40.306Z',
    });
    expect(data.sessionId).toMatch(/^vco_[A-Za-z0-9_-]{32}$/);
    expect(v.checkIn).toEqual({
      sessionId: data.sessionId,
      customerToken: TOKEN,
      merchantQrId: 'd8b7d76d-49aa-48b8-90c6-38779372c163',
      expiresAt: '2023-10-06T11:00:40.306Z',
    });
  });

  it('keeps the customer token out of everything but checkIn', () => {
    const v = verified(mapVippsHook(checkIn(), MSN));
    const { checkIn: secret, ...rest } = v;
    expect(secret?.customerToken).toBe(TOKEN);
    const exposed = JSON.stringify(rest);
    expect(exposed).not.toContain(TOKEN);
    expect(exposed).not.toContain(TOKEN.slice(0, 16));
  });

  it('a retried hook is the same session and key; a new scan (same token) is a new one', () => {
    const a = verified(mapVippsHook(checkIn(), MSN));
    const b = verified(mapVippsHook(checkIn(), MSN));
    const c = verified(mapVippsHook(checkIn({ initiatedAt: '2023-10-06T11:20:00Z' }), MSN));
    expect(b.dedupeKey).toBe(a.dedupeKey);
    expect(b.checkIn?.sessionId).toBe(a.checkIn?.sessionId);
    expect(c.dedupeKey).not.toBe(a.dedupeKey);
    expect(c.checkIn?.sessionId).not.toBe(a.checkIn?.sessionId);
    expect(a.dedupeKey.startsWith(`checkin:${MSN}:`)).toBe(true);
  });

  it('another merchant serial number is refused', () => {
    const v = mapVippsHook(checkIn({ msn: '999999' }), MSN);
    expect(v.verdict).toBe('malformed');
    expect((v as { message: string }).message).toMatch(/999999.*123456/);
  });

  it('a malformed check-in is refused without quoting the token', () => {
    const v = mapVippsHook(checkIn({ initiatedAt: 'yesterday' }), MSN);
    expect(v.verdict).toBe('malformed');
    expect((v as { message: string }).message).toMatch(/initiatedAt/);
    expect((v as { message: string }).message).not.toContain(TOKEN);
    expect(mapVippsHook(checkIn({ merchantQrId: undefined }), MSN).verdict).toBe('malformed');
  });
});

describe('ePayment events', () => {
  const cases: [VippsPaymentEventBody['name'], Record<string, unknown> | undefined][] = [
    ['AUTHORIZED', { status: 'authorized' }],
    ['CAPTURED', { status: 'captured' }],
    ['ABORTED', { status: 'failed', failureCode: 'payment_rejected' }],
    ['EXPIRED', { status: 'expired', failureCode: 'payment_expired' }],
    ['TERMINATED', { status: 'canceled', failureCode: 'payment_canceled' }],
    ['CANCELLED', { status: 'canceled' }],
    ['REFUNDED', { status: 'refunded' }],
    ['CREATED', undefined],
  ];
  it.each(cases)('%s', (name, expected) => {
    const v = verified(mapVippsHook(paymentEvent(name), MSN));
    expect(v.route).toEqual({ by: 'payment', pspReference: 'cab-1-ride-7-1' });
    expect(v.event).toBeNull();
    expect(v.needsLiveCab).toBe(false);
    if (expected === undefined) {
      expect(v.paymentUpdate).toBeUndefined();
    } else {
      expect(v.paymentUpdate).toMatchObject({ pspReference: 'cab-1-ride-7-1', amount: { value: 35000, currency: 'NOK' }, ...expected });
      if (!('failureCode' in expected)) expect(v.paymentUpdate?.failureCode).toBeUndefined();
      // The payment is known by its reference; the event's pspReference names one operation only.
      expect(v.paymentUpdate?.pspPaymentId).toBeUndefined();
    }
  });

  it('dedupe keys tell events of one payment apart and repeat for a retry', () => {
    const auth = verified(mapVippsHook(paymentEvent('AUTHORIZED'), MSN)).dedupeKey;
    expect(verified(mapVippsHook(paymentEvent('AUTHORIZED'), MSN)).dedupeKey).toBe(auth);
    expect(verified(mapVippsHook(paymentEvent('CREATED'), MSN)).dedupeKey).not.toBe(auth);
    const noKey = verified(mapVippsHook(paymentEvent('CAPTURED', { idempotencyKey: null }), MSN)).dedupeKey;
    expect(noKey).toBe('epayment:cab-1-ride-7-1:CAPTURED:1234567891');
  });

  it('an operation that did not succeed changes nothing', () => {
    const v = verified(mapVippsHook(paymentEvent('CAPTURED', { success: false }), MSN));
    expect(v.paymentUpdate).toBeUndefined();
    expect(v.event).toBeNull();
  });

  it('refuses other merchants, unknown names and float amounts', () => {
    expect(mapVippsHook(paymentEvent('AUTHORIZED', { msn: '1' }), MSN).verdict).toBe('malformed');
    expect(mapVippsHook({ ...paymentEvent('AUTHORIZED'), name: 'PAID' }, MSN).verdict).toBe('malformed');
    expect(mapVippsHook(paymentEvent('AUTHORIZED', { amount: { currency: 'NOK', value: 10.5 } }), MSN).verdict).toBe('malformed');
    expect(mapVippsHook([], MSN).verdict).toBe('malformed');
    expect(mapVippsHook('text', MSN).verdict).toBe('malformed');
  });

  it('without a configured MSN (verify-only) any MSN is taken', () => {
    expect(mapVippsHook(paymentEvent('AUTHORIZED', { msn: '42' }), undefined).verdict).toBe('verified');
  });
});
