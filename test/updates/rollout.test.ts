/** Staged rollout decisions as pure functions: buckets, assignment, transitions, versions. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignRelease, planRollout, rolloutBucket, type RolloutState } from '../../backend-relay/updates/rollout.js';
import { compareVersions } from '../../backend-relay/updates/version.js';

const cabIdArb = fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/);
const state = (over: Partial<RolloutState> = {}): RolloutState => ({
  targetVersion: '1.1.0',
  stableVersion: '1.0.0',
  percent: 30,
  namedCabs: [],
  paused: false,
  updatedAt: '2026-11-22T00:00:00.000Z',
  ...over,
});

describe('rolloutBucket', () => {
  it('is a stable number 0–99 per cab id', () => {
    fc.assert(
      fc.property(cabIdArb, (id) => {
        const b = rolloutBucket(id);
        expect(Number.isInteger(b) && b >= 0 && b < 100).toBe(true);
        expect(rolloutBucket(id)).toBe(b);
      }),
    );
    // Pinned values: a change of the hash would silently reshuffle every fleet's rollout.
    expect(['cab-1', 'cab-2', 'taxi-0042'].map(rolloutBucket)).toMatchInlineSnapshot(`
      [
        65,
        38,
        62,
      ]
    `);
  });

  it('spreads a fleet evenly enough that 30% means about 30% of cabs', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `cab-${i}`);
    const inside = ids.filter((id) => rolloutBucket(id) < 30).length;
    expect(inside).toBeGreaterThan(2000 * 0.25);
    expect(inside).toBeLessThan(2000 * 0.35);
  });
});

describe('assignRelease', () => {
  it('raising the percentage only ever adds cabs to the target', () => {
    fc.assert(
      fc.property(cabIdArb, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (id, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const before = assignRelease(id, state({ percent: lo }), null);
        const after = assignRelease(id, state({ percent: hi }), null);
        if (before?.version === '1.1.0') expect(after?.version).toBe('1.1.0');
      }),
    );
  });

  it('0% offers everyone the stable version and 100% everyone the target', () => {
    fc.assert(
      fc.property(cabIdArb, (id) => {
        expect(assignRelease(id, state({ percent: 0 }), null)).toEqual({ version: '1.0.0', reason: 'outside_percent' });
        expect(assignRelease(id, state({ percent: 100 }), null)).toEqual({ version: '1.1.0', reason: 'in_percent' });
      }),
    );
  });

  it('a pin wins over everything; a pause offers the stable version; named cabs get the target at any percent', () => {
    const outside = Array.from({ length: 100 }, (_, i) => `c-${i}`).find((id) => rolloutBucket(id) >= 30)!;
    expect(assignRelease(outside, state(), null)).toEqual({ version: '1.0.0', reason: 'outside_percent' });
    expect(assignRelease(outside, state({ namedCabs: [outside] }), null)).toEqual({ version: '1.1.0', reason: 'named' });
    expect(assignRelease(outside, state({ namedCabs: [outside], paused: true }), null)).toEqual({ version: '1.0.0', reason: 'paused' });
    expect(assignRelease(outside, state({ paused: true }), '0.9.0')).toEqual({ version: '0.9.0', reason: 'pinned' });
    expect(assignRelease(outside, null, '0.9.0')).toEqual({ version: '0.9.0', reason: 'pinned' });
  });

  it('offers nothing before any rollout, or outside a first rollout with no stable version', () => {
    expect(assignRelease('cab-1', null, null)).toBeNull();
    expect(assignRelease('cab-1', state({ stableVersion: null, percent: 0 }), null)).toBeNull();
  });
});

describe('planRollout', () => {
  const now = '2026-11-22T01:00:00.000Z';

  it('a first rollout has no stable version', () => {
    expect(planRollout(null, { version: '1.0.0', percent: 100, namedCabs: [] }, now)).toEqual({
      ok: true,
      state: { targetVersion: '1.0.0', stableVersion: null, percent: 100, namedCabs: [], paused: false, updatedAt: now },
    });
  });

  it('a newer version after a complete rollout makes the old target the stable version', () => {
    const next = planRollout(
      state({ targetVersion: '1.0.0', stableVersion: null, percent: 100 }),
      { version: '1.1.0', percent: 10, namedCabs: ['b', 'a', 'a'] },
      now,
    );
    expect(next).toMatchObject({ ok: true, state: { targetVersion: '1.1.0', stableVersion: '1.0.0', percent: 10, namedCabs: ['a', 'b'] } });
  });

  it('a newer version over an unfinished (or paused) rollout keeps the old stable version', () => {
    for (const current of [state({ percent: 40 }), state({ percent: 100, paused: true })]) {
      const next = planRollout(current, { version: '1.2.0', percent: 10, namedCabs: [] }, now);
      expect(next).toMatchObject({ ok: true, state: { targetVersion: '1.2.0', stableVersion: '1.0.0' } });
    }
  });

  it('the same version changes the share and resumes; an older one is refused (tablets never downgrade)', () => {
    expect(planRollout(state({ paused: true }), { version: '1.1.0', percent: 60, namedCabs: [] }, now)).toMatchObject({
      ok: true,
      state: { targetVersion: '1.1.0', stableVersion: '1.0.0', percent: 60, paused: false },
    });
    const refused = planRollout(state(), { version: '1.0.5', percent: 100, namedCabs: [] }, now);
    expect(refused).toMatchObject({ ok: false, code: 'downgrade_refused' });
    expect(refused.ok ? '' : refused.message).toMatch(/newer version/);
  });
});

describe('compareVersions', () => {
  it('orders versions the way electron-updater does', () => {
    const ordered = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
    for (let i = 0; i < ordered.length - 1; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareVersions('1.2.3+build.7', '1.2.3')).toBe(0);
    expect(() => compareVersions('1.2', '1.2.0')).toThrow(/not a semantic version/);
  });
});
