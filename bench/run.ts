/**
 * `npm run bench -- --cabs N --rate R --duration S`: the relay and a baseline relay as real
 * processes on loopback, N simulated tablets in worker processes, signed hooks at rate R.
 * Prints a table and one final JSON line; writes the figures to bench/results/<time>.json.
 * Exits 1 when any committed hook was lost or applied twice, 2 on bad flags.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_BUNDLES, buildNodeBundle } from '../build/node-bundle.js';
import { BenchArgsError, parseBenchArgs, type BenchArgs } from './args.js';
import { HookFactory, createSigner } from './hooks.js';
import { benchCabId } from './provision.js';
import { renderTable, summarize } from './report.js';
import { REPO_ROOT } from './spawn.js';
import { HookPool, runTarget, type TargetResult } from './target.js';

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchArgsError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-bench-'));
  const startedAt = new Date();
  log(`cabs ${args.cabs}, rate ${args.rate}/s, duration ${args.duration} s, phases ${args.phases.join(',')}; work dir ${dir}`);

  const builtAt = Date.now();
  await buildNodeBundle('relay');
  log(`relay bundle built in ${Date.now() - builtAt} ms (${NODE_BUNDLES.relay.outfile})`);
  const signer = await createSigner(dir);
  const cabIds = Array.from({ length: args.cabs }, (_, i) => benchCabId(i));
  const ctx = {
    args,
    dir,
    cabIds,
    hooks: new HookPool(new HookFactory(signer, cabIds)),
    publicKeyFile: signer.publicKeyFile,
    adminToken: `bench-admin-${process.pid}-${Date.now()}`,
    log,
  };
  const loadAverageAtStart = os.loadavg();
  const baseline: TargetResult | null = args.skipBaseline ? null : await runTarget('baseline', ctx);
  const relay = await runTarget('relay', ctx);

  const summary = summarize(args, relay, baseline);
  process.stdout.write(`${renderTable(relay, baseline)}\n`);
  const resultsDir = path.resolve(REPO_ROOT, args.resultsDir);
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z.json`);
  const command = `npm run bench -- ${process.argv
    .slice(2)
    .filter((a) => a !== '--')
    .join(' ')}`.trim();
  writeFileSync(
    file,
    `${JSON.stringify({ command, startedAt: startedAt.toISOString(), machine: machine(), loadAverage: { atStart: loadAverageAtStart, atEnd: os.loadavg() }, args, summary, relay, baseline }, null, 2)}\n`,
  );
  log(`results written to ${path.relative(process.cwd(), file)}`);
  if (!args.cpuProf && !args.keep) rmSync(dir, { recursive: true, force: true });
  else log(`work dir kept: ${dir}${args.cpuProf ? ` (CPU profiles in ${path.join(dir, 'profiles')})` : ''}`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.lost === 0 && summary.duplicates === 0 ? 0 : 1;
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: process.platform,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(3);
  },
);
