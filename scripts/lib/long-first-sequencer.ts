import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that run for minutes start first, so they overlap with the short ones instead of
 * running alone at the end (a fresh checkout has no timing cache, and vitest would order by
 * file size).
 */
const LONG_RUNNING = ['test/chaos/chaos.test.ts', 'test/bench/smoke.test.ts'];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONG_RUNNING.findIndex((path) => spec.moduleId.replaceAll('\\', '/').endsWith(path));
      return i === -1 ? LONG_RUNNING.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({ spec }) => spec);
  }
}
