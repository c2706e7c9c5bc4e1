/**
 * `npm test`'s last step: the vitest suite and the Playwright suite at once, since both spend most
 * of their time waiting on child processes and browsers. Vitest's output streams as it comes; the
 * Playwright lines are prefixed with "e2e │". Exits non-zero when either suite fails, and names it.
 *
 *   tsx scripts/test-suites.ts [--only vitest|e2e]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './lib/service.js';

interface Suite {
  name: 'vitest' | 'e2e';
  bin: string;
  args: string[];
  prefix: string;
}

const localBin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
const SUITES: Suite[] = [
  { name: 'vitest', bin: localBin('vitest'), args: ['run'], prefix: '' },
  { name: 'e2e', bin: localBin('playwright'), args: ['test'], prefix: 'e2e │ ' },
];

function parseOnly(argv: string[]): Suite['name'] | undefined {
  if (argv.length === 0) return undefined;
  if (argv.length === 2 && argv[0] === '--only' && (argv[1] === 'vitest' || argv[1] === 'e2e')) return argv[1];
  console.error(`test-suites: unknown arguments "${argv.join(' ')}"; use --only vitest or --only e2e, or nothing for both`);
  process.exit(2);
}

function run(suite: Suite): Promise<{ suite: Suite; code: number; seconds: number }> {
  const started = Date.now();
  const child = spawn(suite.bin, suite.args, {
    cwd: repoRoot,
    stdio: ['ignore', suite.prefix ? 'pipe' : 'inherit', suite.prefix ? 'pipe' : 'inherit'],
  });
  if (suite.prefix) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${suite.prefix}${line}\n`));
    }
  }
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`test-suites: could not start ${suite.name}: ${err.message}`);
      resolve({ suite, code: 1, seconds: (Date.now() - started) / 1000 });
    });
    child.once('exit', (code, signal) => resolve({ suite, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 }));
  });
}

const only = parseOnly(process.argv.slice(2));
const results = await Promise.all(SUITES.filter((s) => !only || s.name === only).map(run));
for (const r of results) console.log(`test-suites: ${r.suite.name} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(0)} s`);
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
