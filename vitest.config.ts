import { defineConfig } from 'vitest/config';
import LongFirstSequencer from './scripts/lib/long-first-sequencer.js';

function testWorkers(): number {
  const raw = process.env.CABPAY_TEST_WORKERS ?? '3';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`CABPAY_TEST_WORKERS must be a whole number of at least 1 (got "${raw}")`);
  return n;
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    pool: 'forks',
    // Most test files wait on child processes and sockets rather than on the CPU, so three files
    // at a time fit on two cores; CABPAY_TEST_WORKERS overrides it.
    maxWorkers: testWorkers(),
    sequence: { sequencer: LongFirstSequencer },
    // A guard, not a measure: tests wait for conditions, and with the e2e suite running beside
    // vitest a test that starts child processes can wait a long time for a CPU.
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
