/**
 * Day or night colours. "auto" follows the sun at the cab's configured position (sunrise to
 * sunset is day); without a position, the local clock: day from 07:00 until 19:00.
 */
import type { ThemeSetting } from '../../protocol/kiosk-api.js';
import { isDaylight } from './sun.js';

export type EffectiveTheme = 'day' | 'night';

export const DAY_STARTS_AT_HOUR = 7;
export const NIGHT_STARTS_AT_HOUR = 19;

export function effectiveTheme(setting: ThemeSetting, now: Date, location: { latitude: number; longitude: number } | null = null): EffectiveTheme {
  if (setting !== 'auto') return setting;
  if (location) return isDaylight(now, location.latitude, location.longitude) ? 'day' : 'night';
  const hour = now.getHours();
  return hour >= DAY_STARTS_AT_HOUR && hour < NIGHT_STARTS_AT_HOUR ? 'day' : 'night';
}

/** One tap moves on: day → night → auto → day. */
export function nextThemeSetting(setting: ThemeSetting): ThemeSetting {
  return setting === 'day' ? 'night' : setting === 'night' ? 'auto' : 'day';
}
