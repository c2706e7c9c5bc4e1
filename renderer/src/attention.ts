/**
 * Rides that need attention, as the driver sees them: which of the core's list is news to tell
 * the driver about at once (a ride paid or failed after they moved on), and how each status is
 * worded. Pure, so it is tested under Node.
 */
import type { RideAttentionView } from '../../protocol/kiosk-api.js';
import type { MessageKey } from './i18n/en.js';

/** One piece of news: this ride was paid or failed, at `at`. */
export interface AttentionNotice {
  rideId: string;
  outcome: 'paid' | 'failed';
  at: string;
}

/** A ride's news is told once per change; the key tells changes apart. */
export const noticeKey = (ride: Pick<RideAttentionView, 'rideId' | 'outcomeAt'>) => `${ride.rideId}@${ride.outcomeAt ?? ''}`;

/**
 * The newest news in `list` not told yet, and the keys now told. On the first list the screen
 * sees (a reload), only news from the last `freshMs` is told: older news is already on the list.
 */
export function nextNotice(
  told: ReadonlySet<string>,
  list: readonly RideAttentionView[],
  options: { first: boolean; now: number; freshMs?: number },
): { told: Set<string>; notice: AttentionNotice | null } {
  const next = new Set(told);
  let notice: AttentionNotice | null = null;
  for (const ride of list) {
    if (!ride.outcomeAt || (ride.status !== 'paid' && ride.status !== 'failed')) continue;
    const key = noticeKey(ride);
    if (next.has(key)) continue;
    next.add(key);
    const fresh = !options.first || options.now - Date.parse(ride.outcomeAt) <= (options.freshMs ?? 60_000);
    if (fresh && (!notice || ride.outcomeAt > notice.at)) notice = { rideId: ride.rideId, outcome: ride.status, at: ride.outcomeAt };
  }
  return { told: next, notice };
}

export const ATTENTION_STATUS_KEYS: Record<RideAttentionView['status'], MessageKey> = {
  open: 'attention.status.open',
  unconfirmed: 'attention.status.unconfirmed',
  failed: 'attention.status.failed',
  paid: 'attention.status.paid',
};

/** The header button's words: "awaiting payment" while every listed ride is only waiting, else "needs attention". */
export function attentionButtonKey(list: readonly RideAttentionView[]): MessageKey {
  return list.every((r) => r.status === 'unconfirmed') ? 'pending.rides' : 'attention.button';
}
