import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args.js';
import type { SentHook } from '../../bench/load.js';
import { ReceiptLedger, percentile, phaseFigures } from '../../bench/stats.js';
import { judgeStep } from '../../bench/target.js';

const sent = (key: string, sentAt: number, stored = true): SentHook => ({
  key,
  cabId: 'c1',
  sentAt,
  answeredAt: sentAt + 1,
  status: stored ? 200 : 503,
  stored,
});

describe('bench figures', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('counts a committed hook without a receipt as lost and a second receipt as a duplicate', () => {
    const ledger = new ReceiptLedger();
    ledger.add([
      { key: 'a', cabId: 'c1', id: 'e1', seq: 1, at: 1005 },
      { key: 'b', cabId: 'c1', id: 'e2', seq: 2, at: 1012 },
      { key: 'b', cabId: 'c1', id: 'e3', seq: 3, at: 1013 },
    ]);
    const f = phaseFigures([sent('a', 1000), sent('b', 1000), sent('c', 1000), sent('d', 1000, false)], ledger, 4, 1000, 0);
    expect(f).toMatchObject({ posted: 4, accepted: 3, failed: 1, lost: 1, duplicates: 1, p50Ms: 5, p99Ms: 12 });
  });

  it('a throughput step fails on loss, refusals, p99 over 50 ms or a missed rate', () => {
    const ok = {
      offeredRate: 1000,
      posted: 1,
      accepted: 1,
      failed: 0,
      lost: 0,
      duplicates: 0,
      webhooksPerSec: 990,
      p50Ms: 2,
      p99Ms: 10,
      maxMs: 12,
      lateSends: 0,
      failureSamples: [],
      answerP99Ms: 1,
      p99BySecondMs: [],
    };
    expect(judgeStep(ok).passed).toBe(true);
    expect(judgeStep({ ...ok, p99Ms: 51 }).why).toMatch(/p99/);
    expect(judgeStep({ ...ok, lost: 1 }).passed).toBe(false);
    expect(judgeStep({ ...ok, webhooksPerSec: 900 }).why).toMatch(/only 900/);
  });

  it('parses and validates the flags', () => {
    expect(parseBenchArgs(['--', '--cabs', '500', '--duration', '5'])).toMatchObject({
      cabs: 500,
      duration: 5,
      rate: 500,
      phases: ['connect', 'steady', 'max', 'storm'],
    });
    expect(parseBenchArgs(['--phases=connect,steady', '--skip-baseline'])).toMatchObject({ phases: ['connect', 'steady'], skipBaseline: true });
    expect(() => parseBenchArgs(['--cabs', '0'])).toThrow(/--cabs/);
    expect(() => parseBenchArgs(['--phases', 'warp'])).toThrow(/--phases/);
    expect(() => parseBenchArgs(['--nope', '1'])).toThrow(/unknown flag --nope/);
  });
});
