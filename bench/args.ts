/** The bench's command line, validated with zod: `--name value` pairs and `--flag`s. */
import { z } from 'zod';
import { zodIssuesText } from '../protocol/zod-issues.js';

export const PHASES = ['connect', 'steady', 'max', 'storm'] as const;
export type Phase = (typeof PHASES)[number];

const positiveInt = z.coerce.number().int().positive();

export const benchArgs = z.object({
  cabs: positiveInt.max(50_000).default(1_000).describe('simulated tablets'),
  rate: positiveInt.max(100_000).default(500).describe('hooks per second in the steady phase'),
  duration: z.coerce.number().positive().max(3_600).default(10).describe('seconds of steady load'),
  phases: z
    .string()
    .default(PHASES.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(PHASES, { error: `each phase must be one of ${PHASES.join(', ')}` })).min(1)),
  warmup: z.coerce.number().min(0).max(600).default(3).describe('seconds of unmeasured load before the steady phase (JIT warm-up)'),
  skipBaseline: z.boolean().default(false),
  stepSeconds: z.coerce.number().positive().max(600).default(3).describe('length of each throughput step'),
  rampFactor: z.coerce.number().min(1.05).max(4).default(1.4),
  maxRate: positiveInt.default(12_000).describe('the throughput search stops here'),
  stormRate: positiveInt.default(1_000).describe('hooks per second while queueing the storm backlog'),
  resultsDir: z.string().min(1).default('bench/results'),
  cpuProf: z.boolean().default(false).describe('run the relay with --cpu-prof'),
  keep: z.boolean().default(false).describe('keep the work dir (server logs, database, profiles)'),
});
export type BenchArgs = z.output<typeof benchArgs>;

const FLAGS = new Set(['skipBaseline', 'cpuProf', 'keep']);

/** Thrown with a message that says which flag was wrong and how to write it. */
export class BenchArgsError extends Error {
  override name = 'BenchArgsError';
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const raw: Record<string, string | boolean> = {};
  const rest = argv.filter((a) => a !== '--');
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new BenchArgsError(`unexpected argument "${arg}"; flags look like --cabs 500`);
    const name = m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(name in benchArgs.shape)) throw new BenchArgsError(`unknown flag --${m[1]}; known: ${knownFlags()}`);
    if (FLAGS.has(name)) raw[name] = true;
    else if (m[2] !== undefined) raw[name] = m[2];
    else {
      const value = rest[++i];
      if (value === undefined || value.startsWith('--')) throw new BenchArgsError(`--${m[1]} needs a value`);
      raw[name] = value;
    }
  }
  const parsed = benchArgs.safeParse(raw);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error, { name: (path) => `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` });
    throw new BenchArgsError(`invalid bench flags: ${problems}`);
  }
  return parsed.data;
}

function knownFlags(): string {
  return Object.keys(benchArgs.shape)
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
    .join(' ');
}
