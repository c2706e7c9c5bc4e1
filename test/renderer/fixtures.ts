/** Snapshots for renderer tests: a valid idle snapshot and builders for each ride state. */
import type { KioskSnapshot, RideView } from '../../protocol/kiosk-api.js';
import type { RideStateName } from '../../protocol/relay-protocol.js';

export function idleSnapshot(overrides: Partial<KioskSnapshot> = {}): KioskSnapshot {
  return {
    cab: { cabId: 'cab-42', plate: 'ABC 123', label: 'Taxi 42', psp: 'hips', qrContent: 'HIPS-QR-42' },
    locale: 'en',
    theme: 'auto',
    currency: 'SEK',
    connectivity: { relay: 'online', offlineSince: null, problem: null },
    outboxDepth: 0,
    pendingRides: 0,
    ride: null,
    session: null,
    payment: null,
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
    failure: null,
    ...overrides,
  };
}
