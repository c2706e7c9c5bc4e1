/** Snapshots for renderer tests and screenshots: a valid idle snapshot and builders for each ride state. */
import type { KioskSnapshot, RecentPaymentView, RideAttentionView, RideView } from '../../protocol/kiosk-api.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import type { PspName, RideStateName } from '../../protocol/relay-protocol.js';

/** The cab as each PSP provisions it: static QR content only where the PSP has one. */
export function cabFor(psp: PspName, overrides: Partial<KioskSnapshot['cab']> = {}): KioskSnapshot['cab'] {
  const qrContent = { hips: 'HIPS-QR-42', vipps: 'https://qr.vipps.no/28/2/01/031/4799999999', hitpay: null }[psp];
  return { cabId: 'cab-42', plate: 'ABC 123', label: 'Taxi 42', psp, qrContent, capabilities: PSP_CAPABILITIES[psp], ...overrides };
}

export function idleSnapshot(overrides: Partial<KioskSnapshot> = {}): KioskSnapshot {
  return {
    cab: cabFor('hips'),
    locale: 'en',
    theme: 'auto',
    currency: 'SEK',
    connectivity: { relay: 'online', offlineSince: null, problem: null },
    outboxDepth: 0,
    pendingRides: 0,
    ridesNeedingAttention: [],
    ride: null,
    session: null,
    payment: null,
    recentPayments: [],
    driver: { locale: null, brightness: 80, driverId: null, settings: 'locked', lockedUntil: null },
    extras: [
      { kind: 'toll', amountMinor: 4500, vatRate: 0 },
      { kind: 'airport_fee', amountMinor: 9500, vatRate: 6 },
      { kind: 'luggage', amountMinor: 2000, vatRate: 6 },
      { kind: 'booking_fee', amountMinor: 3000, vatRate: 6 },
    ],
    location: null,
    ...overrides,
  };
}

export function ride(state: RideStateName, overrides: Partial<RideView> = {}): RideView {
  return {
    rideId: '0190f0aa-0000-7000-8000-000000000001',
    merchantOrderId: 'cab-42.0190f0aa-0000-7000-8000-000000000001',
    state,
    startedAt: '2026-11-21T10:00:00.000Z',
    endedAt: null,
    lines: [],
    orderAmount: 0,
    currency: 'SEK',
    order: 'none',
    tipAmount: null,
    paymentQr: null,
    failure: null,
    refusedEvent: null,
    ...overrides,
  };
}

export function recentPayment(overrides: Partial<RecentPaymentView> = {}): RecentPaymentView {
  return {
    rideId: '0190f0aa-0000-7000-8000-000000000009',
    merchantOrderId: 'cab-42.0190f0aa-0000-7000-8000-000000000009',
    method: 'psp',
    paidAt: '2026-11-21T09:40:00.000Z',
    totalAmount: 29_400,
    currency: 'NOK',
    refundedAmount: 0,
    refundableAmount: 29_400,
    refund: null,
    ...overrides,
  };
}

/** A ride the driver left unfinished, as the core lists it (rides that need attention). */
export function attentionRide(overrides: Partial<RideAttentionView> = {}): RideAttentionView {
  return {
    rideId: '0190f0aa-0000-7000-8000-000000000007',
    merchantOrderId: 'cab-42.0190f0aa-0000-7000-8000-000000000007',
    status: 'failed',
    startedAt: '2026-11-21T09:30:00.000Z',
    endedAt: '2026-11-21T09:52:00.000Z',
    lines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 24_500, vatRate: 6 }],
    orderAmount: 24_500,
    currency: 'SEK',
    paidTotal: null,
    failure: { code: 'payment_failed', message: 'The payment did not go through (payment_declined).' },
    parkedAt: '2026-11-21T09:53:00.000Z',
    outcomeAt: '2026-11-21T09:58:00.000Z',
    actions: ['paid_otherwise', 'seen'],
    ...overrides,
  };
}
