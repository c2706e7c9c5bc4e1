/** Range headers as electron-updater and browsers send them, checked against a byte model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesceRanges, parseRange } from '../../backend-relay/updates/send-file.js';

describe('parseRange', () => {
  it('maps every satisfiable list of ranges to the right bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.tuple(fc.nat(12_000), fc.nat(3_000)), { minLength: 1, maxLength: 20 }), (size, parts) => {
        const header = `bytes=${parts.map(([start, len]) => `${start}-${start + len}`).join(', ')}`;
        const ranges = parseRange(header, size)!;
        const expected = parts.filter(([start]) => start < size).map(([start, len]) => ({ start, end: Math.min(start + len, size - 1) }));
        expect(ranges).toEqual(expected);
      }),
    );
  });

  it('handles suffix and open ranges, and ignores what it cannot read', () => {
    expect(parseRange('bytes=-100', 1000)).toEqual([{ start: 900, end: 999 }]);
    expect(parseRange('bytes=-5000', 1000)).toEqual([{ start: 0, end: 999 }]);
    expect(parseRange('bytes=990-', 1000)).toEqual([{ start: 990, end: 999 }]);
    expect(parseRange('bytes=1000-', 1000)).toEqual([]); // unsatisfiable: 416
    expect(parseRange(undefined, 1000)).toBeNull();
    expect(parseRange('items=0-1', 1000)).toBeNull();
    expect(parseRange('bytes=5-1', 1000)).toBeNull();
    expect(parseRange('bytes=a-b', 1000)).toBeNull();
    expect(parseRange(`bytes=${Array.from({ length: 1001 }, (_, i) => `${i}-${i}`).join(',')}`, 5000)).toBeNull();
  });
});

describe('coalesceRanges', () => {
  it('keeps ascending disjoint ranges as they are (electron-updater expects one part per range)', () => {
    const ranges = [
      { start: 0, end: 3 },
      { start: 5, end: 9 },
      { start: 100, end: 199 },
    ];
    expect(coalesceRanges(ranges)).toBe(ranges);
  });

  it('merges overlapping and out-of-order ranges into disjoint ascending ones covering the same bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.array(fc.tuple(fc.nat(6_000), fc.nat(2_000)), { minLength: 1, maxLength: 60 }), (size, parts) => {
        const ranges = parseRange(`bytes=${parts.map(([start, len]) => `${start}-${start + len}`).join(',')}`, size)!;
        const merged = coalesceRanges(ranges);
        const covered = (list: { start: number; end: number }[]) => {
          const bytes = new Set<number>();
          for (const r of list) for (let b = r.start; b <= r.end; b++) bytes.add(b);
          return bytes;
        };
        expect(covered(merged)).toEqual(covered(ranges));
        merged.forEach((r, i) => i > 0 && expect(r.start).toBeGreaterThan(merged[i - 1]!.end));
        expect(merged.reduce((n, r) => n + r.end - r.start + 1, 0)).toBeLessThanOrEqual(size);
      }),
    );
  });
});
