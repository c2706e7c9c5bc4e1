import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, classifyResponse, nextDelay } from '../../electron/core/backoff.js';

describe('nextDelay (exponential backoff, full jitter)', () => {
  it('spans [0, base * 2^attempt) and is capped at 60 s', () => {
    const almostOne = () => 0.999999;
    expect(nextDelay(0, () => 0)).toBe(0);
    expect(nextDelay(0, almostOne)).toBe(999);
    expect(nextDelay(1, almostOne)).toBe(1_999);
    expect(nextDelay(3, almostOne)).toBe(7_999);
    expect(nextDelay(5, () => 0.5)).toBe(16_000);
    expect(nextDelay(6, almostOne)).toBe(59_999); // 64 s ceiling capped to 60 s
    expect(nextDelay(1_000, almostOne)).toBe(59_999);
  });

  it('takes shorter limits (the chaos run uses them) and keeps their cap', () => {
    const almostOne = () => 0.999999;
    const limits = { baseMs: 50, capMs: 400 };
    expect(nextDelay(0, almostOne, limits)).toBe(49);
    expect(nextDelay(2, almostOne, limits)).toBe(199);
    expect(nextDelay(10, almostOne, limits)).toBe(399);
    expect(nextDelay(10, () => 0, limits)).toBe(0);
  });

  it('never leaves [0, min(cap, base·2^attempt)) for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const delay = nextDelay(attempt, () => r);
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
        return Number.isInteger(delay) && delay >= 0 && delay < ceiling;
      }),
    );
  });
});

describe('classifyResponse', () => {
  it.each([
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [400, 'definitive'],
    [401, 'definitive'],
    [404, 'definitive'],
    [409, 'definitive'],
    [422, 'definitive'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    ['network', 'retry'],
    ['timeout', 'retry'],
  ] as const)('%s → %s', (status, expected) => {
    expect(classifyResponse(status)).toBe(expected);
  });
});
