/** `npm run chaos -- --rides N --seed S …`: the flags, validated with zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { pspName, type PspName } from '../../protocol/relay-protocol.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `--${name} must be a number` })
    .int(`--${name} must be a whole number`)
    .min(min, `--${name} must be at least ${min}`)
    .max(max, `--${name} must be at most ${max}`);

export const chaosArgsSchema = z.object({
  rides: int('rides', 1, 100_000).default(300),
  seed: int('seed', 0, 2 ** 31 - 1).default(1),
  /** Kiosk core processes (cabs); each plays its rides one after another. */
  cabs: int('cabs', 1, 64).default(8),
  /** Percent of rides that get each kind of fault (offline window, kiosk kill, PSP error, webhook fault). */
  faultRate: int('fault-rate', 0, 100).default(35),
  /** Percent of payments whose every webhook the PSP drops (the relay must ask the PSP how they ended). */
  lostHooks: int('lost-hooks', 0, 100).default(5),
  /** A relay kill -9 every this many rides overall (0 = never). */
  relayKillEvery: int('relay-kill-every', 0, 100_000).default(60),
  /** Seconds a passenger session may wait for its order (the QR's order_timeout_seconds). */
  orderTimeout: int('order-timeout', 2, 3600).default(12),
  /** Seconds a passenger has to pay once the order exists (payment_timeout_seconds). */
  paymentTimeout: int('payment-timeout', 2, 3600).default(6),
  /** The PSPs the cabs are spread over (cab i gets psps[i % n]), each with its own currency. */
  psps: z
    .string()
    .default('hips,vipps,hitpay')
    .transform((text, ctx) => {
      const names = text
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !pspName.safeParse(n).success);
      if (names.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `--psps must be a comma list of hips, vipps, hitpay (got ${bad.join(', ') || 'nothing'})` });
        return z.NEVER;
      }
      return [...new Set(names)] as PspName[];
    }),
  /** Where logs and databases go; default a new temp directory. */
  dir: z.string().min(1).optional(),
  /** Keep the run's directory even when everything passed. */
  keep: z.boolean().default(false),
  /** Print one line per ride as it finishes. */
  verbose: z.boolean().default(false),
});
export type ChaosArgs = z.infer<typeof chaosArgsSchema>;

export function parseChaosArgs(argv: string[]): ChaosArgs {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        rides: { type: 'string' },
        seed: { type: 'string' },
        cabs: { type: 'string' },
        'fault-rate': { type: 'string' },
        'relay-kill-every': { type: 'string' },
        'lost-hooks': { type: 'string' },
        'order-timeout': { type: 'string' },
        'payment-timeout': { type: 'string' },
        psps: { type: 'string' },
        dir: { type: 'string' },
        keep: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new Error(
      `${(err as Error).message}. Usage: npm run chaos -- --rides 300 --seed 7 [--cabs 8] [--psps hips,vipps,hitpay] [--fault-rate 35] [--lost-hooks 5] [--relay-kill-every 60] [--dir D] [--keep] [--verbose]`,
      { cause: err },
    );
  }
  const parsed = chaosArgsSchema.safeParse({
    rides: values.rides,
    seed: values.seed,
    cabs: values.cabs,
    faultRate: values['fault-rate'],
    relayKillEvery: values['relay-kill-every'],
    lostHooks: values['lost-hooks'],
    orderTimeout: values['order-timeout'],
    paymentTimeout: values['payment-timeout'],
    psps: values.psps,
    dir: values.dir,
    keep: values.keep,
    verbose: values.verbose,
  });
  // Each message names its flag already.
  if (!parsed.success) throw new Error(zodIssuesText(parsed.error, { name: () => '', root: '' }));
  return parsed.data;
}
