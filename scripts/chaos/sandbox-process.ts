/**
 * The PSP sandbox as the chaos run needs it: the real sandbox app with its clocks shortened
 * (order/payment timeouts may go down to 1 s; quicker webhook retries; reordered hooks held
 * briefly). Env: SANDBOX_DB (required), CHAOS_WEBHOOK_BACKOFF_MS (comma list, default "500,1500,3000,6000,12000":
 * the relay killed by the run must be back before the PSP gives up on a hook; see docs/chaos.md),
 * CHAOS_WEBHOOK_ATTEMPT_MS (default 3000), CHAOS_REORDER_HOLD_MS (default 3000).
 * Port is ephemeral; logs {"msg":"listening","url":…} once up; SIGINT/SIGTERM close it.
 */
import pino from 'pino';
import { z } from 'zod';
import { buildSandbox } from '../../backend-relay/sandbox/app.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const envSchema = z.object({
  SANDBOX_DB: z.string({ error: 'is required: the sandbox SQLite file' }).min(1),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  CHAOS_WEBHOOK_BACKOFF_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be a comma-separated list of milliseconds, e.g. 500,1500')
    .default('500,1500,3000,6000,12000'),
  CHAOS_WEBHOOK_ATTEMPT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
  CHAOS_REORDER_HOLD_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
});

const log = pino({ name: 'chaos-sandbox' });
const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  log.fatal(`Invalid environment: ${zodIssuesText(parsed.error)}`);
  process.exit(2);
}
const env = parsed.data;
const backoffMs = env.CHAOS_WEBHOOK_BACKOFF_MS.split(',').map(Number);

const sandbox = await buildSandbox({
  dbPath: env.SANDBOX_DB,
  port: env.SANDBOX_PORT,
  host: '127.0.0.1',
  logger: { name: 'sandbox', level: 'warn' },
  timeoutFloorSeconds: 1,
  webhook: {
    attemptTimeoutMs: env.CHAOS_WEBHOOK_ATTEMPT_MS,
    backoffMs,
    maxAttempts: backoffMs.length + 1,
    reorderMaxHoldMs: env.CHAOS_REORDER_HOLD_MS,
  },
});
log.info({ url: sandbox.url, merchantKey: sandbox.merchantKey, publicKeyPem: sandbox.publicKeyPem }, 'listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
