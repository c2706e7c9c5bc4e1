import { describe, expect, it } from 'vitest';
import { isDaylight, sunTimes } from '../../renderer/src/sun.js';
import { effectiveTheme } from '../../renderer/src/theme.js';

const STOCKHOLM = { latitude: 59.3293, longitude: 18.0686 };
const minutesUtc = (d: Date) => d.getUTCHours() * 60 + d.getUTCMinutes();

describe('sunrise and sunset (NOAA algorithm)', () => {
  it.each([
    // Almanac times for Stockholm in UTC: midsummer 03:31–22:08 CEST, midwinter 08:43–14:48 CET,
    // the March equinox about 05:50–18:00 CET (a little over 12 h of daylight with refraction).
    ['2026-06-21T12:00:00Z', 1 * 60 + 31, 20 * 60 + 8],
    ['2026-12-21T12:00:00Z', 7 * 60 + 43, 13 * 60 + 48],
    ['2026-03-20T12:00:00Z', 4 * 60 + 50, 17 * 60 + 0],
  ])('Stockholm on %s is within 5 minutes of the almanac', (day, sunrise, sunset) => {
    const times = sunTimes(new Date(day), STOCKHOLM.latitude, STOCKHOLM.longitude);
    if (times.kind !== 'normal') throw new Error(`expected a normal day, got ${times.kind}`);
    expect(Math.abs(minutesUtc(times.sunrise) - sunrise)).toBeLessThanOrEqual(5);
    expect(Math.abs(minutesUtc(times.sunset) - sunset)).toBeLessThanOrEqual(5);
  });

  it('knows polar day and polar night in Tromsø', () => {
    expect(sunTimes(new Date('2026-06-21T12:00:00Z'), 69.65, 18.96).kind).toBe('polar_day');
    expect(sunTimes(new Date('2026-12-21T12:00:00Z'), 69.65, 18.96).kind).toBe('polar_night');
    expect(isDaylight(new Date('2026-06-21T23:30:00Z'), 69.65, 18.96)).toBe(true);
  });

  it('drives the auto theme by the sun where the cab is, and by the clock without a position', () => {
    const winterAfternoon = new Date('2026-11-22T15:30:00Z'); // 16:30 in Stockholm: dark
    expect(effectiveTheme('auto', winterAfternoon, STOCKHOLM)).toBe('night');
    const summerEvening = new Date('2026-06-21T19:00:00Z'); // 21:00 in Stockholm: light
    expect(effectiveTheme('auto', summerEvening, STOCKHOLM)).toBe('day');
    expect(effectiveTheme('day', winterAfternoon, STOCKHOLM)).toBe('day');
    expect(effectiveTheme('night', summerEvening, STOCKHOLM)).toBe('night');
  });
});
