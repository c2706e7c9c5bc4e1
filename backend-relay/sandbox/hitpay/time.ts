/**
 * HitPay's timestamps are Singapore time (UTC+8, no DST) written without an offset:
 * `created_at: "2025-05-21T16:57:25"`; `expiry_date` is sent as "YYYY-MM-DD HH:mm:ss" (SGT).
 */
const SGT_OFFSET_MS = 8 * 3600_000;

/** ms since the epoch → "2025-05-21T16:57:25" in Singapore time. */
export function sgtString(ms: number): string {
  return new Date(ms + SGT_OFFSET_MS).toISOString().slice(0, 19);
}

/** "2025-05-21 16:57:25" or "2025-05-21T16:57:25" (Singapore time) → ms, or null. */
export function parseSgt(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(utc);
  // Reject 2025-02-30 and friends, which Date.UTC would roll over.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return utc - SGT_OFFSET_MS;
}

const UNIT_MS: Record<string, number> = {
  second: 1000,
  seconds: 1000,
  sec: 1000,
  secs: 1000,
  minute: 60_000,
  minutes: 60_000,
  min: 60_000,
  mins: 60_000,
  hour: 3600_000,
  hours: 3600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * `expires_after` such as "5 minutes", "30 mins", "2 hours", "7 days" → ms.
 * Seconds ("5 seconds") are a sandbox extension so tests can expire a request quickly.
 */
export function parseExpiresAfter(text: string): number | null {
  const m = /^(\d{1,6})\s*([a-z]+)$/i.exec(text.trim());
  if (!m) return null;
  const unit = UNIT_MS[m[2]!.toLowerCase()];
  const n = Number(m[1]);
  return unit === undefined || n <= 0 ? null : n * unit;
}
