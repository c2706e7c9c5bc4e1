/**
 * The relay refuses a Vipps check-in that already paid another ride (`checkin_used`): the tablet
 * ends that check-in with the ride's failure, so neither the screen nor a resend treats it as
 * live, and a new scan cures it.
 */
import { describe, expect, it } from 'vitest';
import { idempotencyKeyFor, type Ride, type Session } from '../../electron/core/model.js';
import { CURED_BY_RESCAN, decideDelivery } from '../../electron/core/ride-machine.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';

const NOW = '2026-01-01T10:06:00.000Z';
const session: Session = {
  sessionId: 'vco_1',
  psp: 'vipps',
  qrCode: 'QR1',
  allowTip: true,
  oneTimeOrderApiKey: null,
  startedAt: '2026-01-01T10:00:00.000Z',
  expiresAt: '2026-01-01T10:15:00.000Z',
  state: 'in_use',
  rideId: 'r2',
};
const ride: Ride = {
  rideId: 'r2',
  merchantOrderId: 'CAB-7.r2',
  state: 'awaiting_payment',
  startedAt: '2026-01-01T09:50:00.000Z',
  endedAt: '2026-01-01T10:05:00.000Z',
  currency: 'NOK',
  lines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 30_000, vatRate: 12 }],
  order: 'queued',
  attempt: 1,
  sessionId: 'vco_1',
  pspOrderId: null,
  failure: null,
  tipAmount: 0,
  paymentQr: null,
};

describe('checkin_used from the relay', () => {
  it('fails the ride and ends the check-in it named; a new scan cures it', () => {
    const failure = { code: 'checkin_used', message: 'check-in vco_1 already paid another ride; ask the passenger to scan the QR again' };
    const effects = decideDelivery(
      ride,
      { idempotencyKey: idempotencyKeyFor('r2', 1) },
      { kind: 'refused', failure },
      {
        now: NOW,
        screenRide: ride,
        currentSession: session,
        psp: 'vipps',
        capabilities: PSP_CAPABILITIES.vipps,
      },
    );
    expect(effects).toContainEqual({ type: 'saveSession', session: { ...session, state: 'expired' } });
    expect(effects).toContainEqual({ type: 'saveRide', ride: { ...ride, state: 'failed', failure } });
    expect(CURED_BY_RESCAN.has('checkin_used')).toBe(true);
  });
});
