import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newEventId } from '../../backend-relay/event-id.js';

describe('relay event ids', () => {
  it('are valid UUIDv7s, unique and increasing across pool refills and within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newEventId());
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
  });

  it('carry the current time in their first 48 bits', () => {
    const before = Date.now();
    const id = newEventId();
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    // The counter may have pushed the time a few ms ahead after a burst; never behind.
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms - Date.now()).toBeLessThan(1000);
  });
});
