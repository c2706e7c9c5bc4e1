/**
 * Sunrise and sunset for a place and a day, by the NOAA solar position algorithm (the
 * "sunrise equation" with the equation of time and the solar declination, zenith 90.833° for
 * refraction and the sun's radius). Accurate to a minute or two, which is plenty for a theme.
 */
const RAD = Math.PI / 180;

export type SunTimes = { kind: 'normal'; sunrise: Date; sunset: Date } | { kind: 'polar_day' } | { kind: 'polar_night' };

/** The UTC day (00:00 UTC) that `date` falls in, as a Julian day number. */
function julianDay(date: Date): number {
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return midnight / 86_400_000 + 2440587.5;
}

export function sunTimes(date: Date, latitude: number, longitude: number): SunTimes {
  const jd = julianDay(date);
  const t = (jd - 2451545) / 36525; // Julian centuries since J2000.0
  const meanLong = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360;
  const meanAnomaly = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const center =
    Math.sin(meanAnomaly * RAD) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * meanAnomaly * RAD) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * meanAnomaly * RAD) * 0.000289;
  const trueLong = meanLong + center;
  const omega = 125.04 - 1934.136 * t;
  const apparentLong = trueLong - 0.00569 - 0.00478 * Math.sin(omega * RAD);
  const meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliquity = meanObliquity + 0.00256 * Math.cos(omega * RAD);
  const declination = Math.asin(Math.sin(obliquity * RAD) * Math.sin(apparentLong * RAD)) / RAD;
  const y = Math.tan((obliquity / 2) * RAD) ** 2;
  // Equation of time, in minutes.
  const eqTime =
    (4 / RAD) *
    (y * Math.sin(2 * meanLong * RAD) -
      2 * eccentricity * Math.sin(meanAnomaly * RAD) +
      4 * eccentricity * y * Math.sin(meanAnomaly * RAD) * Math.cos(2 * meanLong * RAD) -
      0.5 * y * y * Math.sin(4 * meanLong * RAD) -
      1.25 * eccentricity * eccentricity * Math.sin(2 * meanAnomaly * RAD));
  const cosHourAngle =
    Math.cos(90.833 * RAD) / (Math.cos(latitude * RAD) * Math.cos(declination * RAD)) - Math.tan(latitude * RAD) * Math.tan(declination * RAD);
  if (cosHourAngle < -1) return { kind: 'polar_day' };
  if (cosHourAngle > 1) return { kind: 'polar_night' };
  const hourAngle = Math.acos(cosHourAngle) / RAD;
  const noonMinutes = 720 - 4 * longitude - eqTime; // solar noon, minutes after 00:00 UTC
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return {
    kind: 'normal',
    sunrise: new Date(midnight + (noonMinutes - 4 * hourAngle) * 60_000),
    sunset: new Date(midnight + (noonMinutes + 4 * hourAngle) * 60_000),
  };
}

/** Daylight at this moment and place? */
export function isDaylight(now: Date, latitude: number, longitude: number): boolean {
  const times = sunTimes(now, latitude, longitude);
  if (times.kind === 'polar_day') return true;
  if (times.kind === 'polar_night') return false;
  return now >= times.sunrise && now < times.sunset;
}
