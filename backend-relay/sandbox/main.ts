/**
 * `npm run sandbox`: the Hips-compatible PSP sandbox as a process.
 * Env: SANDBOX_PORT (8788, 0 = ephemeral), SANDBOX_HOST (127.0.0.1), SANDBOX_DB (.cabpay/sandbox.db),
 * SANDBOX_PUBLIC_URL (what phones reach; default the listening URL), SANDBOX_MERCHANT_KEY,
 * SANDBOX_LOG_LEVEL (info). Logs `{"msg":"listening","url":…}` once up; SIGINT/SIGTERM close it.
 */
import pino from 'pino';
import { jsonTerminalSafe } from '../../protocol/terminal-text.js';
import { z } from 'zod';
import { buildSandbox, DEMO_MERCHANT_KEY } from './app.js';
import { HITPAY_DEMO_API_KEY, HITPAY_DEMO_SALT } from './hitpay/index.js';
import { VIPPS_DEMO_CREDENTIALS } from './vipps/settings.js';
import { zodIssueList } from '../../protocol/zod-issues.js';

const envSchema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_DB: z.string().min(1).default('.cabpay/sandbox.db'),
  SANDBOX_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  SANDBOX_MERCHANT_KEY: z.string().min(16, 'at least 16 characters').max(200).default(DEMO_MERCHANT_KEY),
  SANDBOX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The merchant name the passenger's phone page shows. */
  SANDBOX_MERCHANT_NAME: z.string().trim().min(1).max(100).optional(),
});

// Logs carry what merchants and payers send: nothing in them reaches a terminal raw.
const log = pino({ name: 'sandbox', hooks: { streamWrite: jsonTerminalSafe } });

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  for (const { where, message } of zodIssueList(parsed.error)) log.fatal(`Invalid ${where}: ${message}`);
  log.fatal('Fix the environment above and start the sandbox again.');
  process.exit(2);
}
const env = parsed.data;

const sandbox = await buildSandbox({
  port: env.SANDBOX_PORT,
  host: env.SANDBOX_HOST,
  dbPath: env.SANDBOX_DB,
  publicUrl: env.SANDBOX_PUBLIC_URL,
  merchantKey: env.SANDBOX_MERCHANT_KEY,
  merchantName: env.SANDBOX_MERCHANT_NAME,
  logger: { name: 'sandbox', level: env.SANDBOX_LOG_LEVEL, hooks: { streamWrite: jsonTerminalSafe } },
}).catch((err: unknown) => {
  log.fatal({ err }, `The sandbox could not start (port ${env.SANDBOX_PORT}, db ${env.SANDBOX_DB}).`);
  process.exit(1);
});

log.info(
  {
    url: sandbox.url,
    merchantId: sandbox.merchantId,
    merchantKey: sandbox.merchantKey,
    publicKey: `${sandbox.url}/sandbox/public-key.pem`,
    db: env.SANDBOX_DB,
    hitpay: { apiKey: HITPAY_DEMO_API_KEY, salt: HITPAY_DEMO_SALT, baseUrl: sandbox.url },
    vipps: VIPPS_DEMO_CREDENTIALS,
  },
  'listening',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
