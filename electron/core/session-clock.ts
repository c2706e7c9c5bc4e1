/**
 * When a passenger's QR session stops being usable. A session lives until `expiresAt` (the
 * PSP's order timeout counted from the scan) unless the PSP ends it sooner.
 */
import type { Session } from './model.js';

export function isPastExpiry(session: Session, now: string): boolean {
  return Date.parse(session.expiresAt) <= Date.parse(now);
}

/** Free for a new order: ready, unbound and not yet expired. */
export function isSessionLive(session: Session, now: string): boolean {
  return session.state === 'ready' && session.rideId === null && !isPastExpiry(session, now);
}

/** The state to show: a ready session past its expiry is expired even before the sweep runs. */
export function displayedSessionState(session: Session, now: string): Session['state'] {
  return session.state === 'ready' && isPastExpiry(session, now) ? 'expired' : session.state;
}

/** One timer for the earliest expiry among the sessions that can still expire. */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onDue: () => void) {}

  /** Re-arms for the earliest of `expiries` (ISO); clears the timer when there are none. */
  arm(expiries: string[], nowMs: number): void {
    this.clear();
    if (expiries.length === 0) return;
    const earliest = Math.min(...expiries.map((e) => Date.parse(e)));
    // Cap the wait so clock jumps (tablet sleep, NTP) are noticed within a minute.
    const delay = Math.min(Math.max(0, earliest - nowMs) + 5, 60_000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, delay);
    this.timer.unref?.();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
