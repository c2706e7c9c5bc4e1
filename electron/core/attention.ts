/**
 * Rides that need the driver's attention. "Start next ride" never blocks: a ride left unfinished
 * (nobody paid yet, its payment under way, or failed) is parked. It stays on the list until the
 * driver takes it off (`markRideSeen`) or settles it (`markPaidOtherwise {rideId}`). A parked
 * ride that is then paid or fails is put back on the list with the news and when it came, so the
 * screen can tell the driver at once. Built to grow into the open-rides feature (cancel, resend
 * from the list): every action names its ride.
 */
import type { KioskCommand, RideAttentionView } from '../../protocol/kiosk-api.js';
import { fail, ok, type Result } from '../../protocol/result.js';
import { orderAmountOf, type Ride } from './model.js';
import { paidOtherwise, type Effect } from './ride-machine.js';
import type { KioskStore, ParkedRide } from './store.js';

/** How many rides the list carries at most (newest first). */
export const ATTENTION_LIST_MAX = 20;

export interface ParkedLookups {
  ride(rideId: string): Ride | null;
  parked(rideId: string): ParkedRide | null;
}

/**
 * What `effects` (from a relay event, the clock or a delivery, never the driver) mean for parked
 * rides: each one they make paid or failed gets the news noted. Call before applying them, while
 * the store still holds each ride's state before.
 */
export function parkedOutcomes(effects: Effect[], lookups: ParkedLookups): Effect[] {
  const notes: Effect[] = [];
  for (const effect of effects) {
    if (effect.type !== 'saveRide') continue;
    const next = effect.ride.state;
    if (next !== 'paid' && next !== 'failed') continue;
    if (!lookups.parked(effect.ride.rideId)) continue;
    if (lookups.ride(effect.ride.rideId)?.state === next) continue;
    notes.push({ type: 'noteParkedOutcome', rideId: effect.ride.rideId, outcome: next });
  }
  return notes;
}

/** The driver's commands on the list: `markRideSeen`, and `markPaidOtherwise` for a parked ride. */
export function decideAttentionCommand(
  ride: Ride | null,
  parked: ParkedRide | null,
  command: Extract<KioskCommand, { name: 'markRideSeen' | 'markPaidOtherwise' }>,
  now: string,
): Result<Effect[]> {
  if (!ride || !parked || parked.seenAt !== null) return fail('not_needing_attention', 'That ride is no longer on the list of rides that need attention.');
  if (command.name === 'markRideSeen') return ok([{ type: 'markRideSeen', rideId: ride.rideId }]);
  const paid = paidOtherwise(ride, now);
  if (!paid.ok) return paid;
  return ok([...paid.value, { type: 'markRideSeen', rideId: ride.rideId }]);
}

/** The list the snapshot carries. */
export function ridesNeedingAttention(store: KioskStore): RideAttentionView[] {
  return store.listUnseenParkedRides(ATTENTION_LIST_MAX).flatMap(({ ride, parked }) => {
    const status = statusOf(ride, parked);
    if (!status) return [];
    const payment = status === 'paid' ? store.getPayment(ride.rideId) : null;
    return [
      {
        rideId: ride.rideId,
        merchantOrderId: ride.merchantOrderId,
        status,
        startedAt: ride.startedAt,
        endedAt: ride.endedAt,
        lines: ride.lines,
        orderAmount: orderAmountOf(ride.lines),
        currency: ride.currency,
        paidTotal: payment?.totalAmount ?? null,
        failure: ride.failure,
        parkedAt: parked.parkedAt,
        outcomeAt: parked.outcomeAt,
        actions: status === 'open' || status === 'failed' ? ['paid_otherwise', 'seen'] : ['seen'],
      },
    ];
  });
}

/** Null: nothing left for the driver (settled on screen some other way). */
function statusOf(ride: Ride, parked: ParkedRide): RideAttentionView['status'] | null {
  switch (ride.state) {
    case 'ended':
      return 'open';
    case 'awaiting_payment':
      return 'unconfirmed';
    case 'failed':
      return 'failed';
    case 'paid':
      return parked.outcome === 'paid' ? 'paid' : null;
    default:
      return null;
  }
}
