/** Range headers as electron-updater and browsers send them, checked against a byte model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../backend-relay/updates/send-file.js';

describe('parseRange', () => {
  it('maps every satisfiable list of ranges to the right bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.tuple(fc.nat(12_000), fc.nat(3_000)), { minLength: 1, maxLength: 20 }),
        (size, parts) => {
          const header = `bytes=${parts.map(([start, len]) => `${start}-${start + len}`).join(', ')}`;
          const ranges = parseRange(header, size)!;
          const expected = parts.filter(([start]) => start < size).map(([start, len]) => ({ start, end: Math.min(start + len, size - 1) }));
          expect(ranges).toEqual(expected);
        },
      ),
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
