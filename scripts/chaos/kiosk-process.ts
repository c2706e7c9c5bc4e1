/**
 * One kiosk core as a process, driven over Node IPC by the chaos harness (not Electron: the
 * same core the Electron shell and the preview host run). Env:
 *   CHAOS_KIOSK_CONFIG      the kiosk config as JSON (kioskConfigSchema; dataDir required; driverPinHash for refunds)
 *   CHAOS_BACKOFF_BASE_MS   outbox retry base (default 1000), CHAOS_BACKOFF_CAP_MS (default 60000)
 *   CHAOS_PSP_TIMEOUT_MS    create-order answer timeout (default the Hips client's 10 s)
 *   CHAOS_PAYMENT_SILENCE_MS  how long a created order may go unanswered after its session's deadline (default 20 min)
 *   LOG_LEVEL               pino level for the core's JSON log on stdout (default info)
 * Messages: see ipc.ts. Logs {"msg":"kiosk ready"} once started.
 */
import pino from 'pino';
import { z } from 'zod';
import { parseDriverConfig } from '../../electron/core/driver-config.js';
import { createKioskCore, kioskConfigSchema } from '../../electron/core/index.js';
import { createHipsClient } from '../../electron/core/psp/hips-client.js';
import { toKiosk, type FromKiosk } from './ipc.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

const envSchema = z.object({
  CHAOS_KIOSK_CONFIG: z.string({ error: 'is required: the kiosk config as JSON' }).min(2),
  CHAOS_BACKOFF_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(1_000),
  CHAOS_BACKOFF_CAP_MS: z.coerce.number().int().min(1).max(600_000).default(60_000),
  CHAOS_PSP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).optional(),
  CHAOS_PAYMENT_SILENCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 3600_000)
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const logger = pino({ name: 'chaos-kiosk', level: process.env.LOG_LEVEL ?? 'info' });

function send(message: FromKiosk): void {
  if (process.connected) process.send?.(message);
}

function die(message: string): never {
  logger.fatal(message);
  send({ type: 'fatal', message });
  process.exit(2);
}

if (!process.send) die('kiosk-process.ts must be started with an IPC channel (child_process.fork or stdio "ipc").');
const env = envSchema.safeParse(process.env);
if (!env.success) die(`Invalid environment: ${zodIssuesText(env.error)}`);
let rawConfig: unknown;
try {
  rawConfig = JSON.parse(env.data.CHAOS_KIOSK_CONFIG);
} catch (err) {
  die(`CHAOS_KIOSK_CONFIG is not JSON: ${(err as Error).message}`);
}
const parsedConfig = kioskConfigSchema.safeParse(rawConfig);
if (!parsedConfig.success) die(`CHAOS_KIOSK_CONFIG is invalid: ${zodIssuesText(parsedConfig.error)}`);
const config = parsedConfig.data;
// The same JSON carries the driver-settings PIN hash (refunds need the settings unlocked).
let driver: ReturnType<typeof parseDriverConfig>;
try {
  driver = parseDriverConfig(rawConfig, 'CHAOS_KIOSK_CONFIG');
} catch (err) {
  die((err as Error).message);
}

const core = createKioskCore(config, {
  logger,
  driver,
  backoff: { baseMs: env.data.CHAOS_BACKOFF_BASE_MS, capMs: env.data.CHAOS_BACKOFF_CAP_MS },
  ...(env.data.CHAOS_PAYMENT_SILENCE_MS !== undefined ? { paymentSilenceMs: env.data.CHAOS_PAYMENT_SILENCE_MS } : {}),
  pspClient: createHipsClient({
    pspUrl: config.pspUrl,
    webhookUrl: config.orderWebhookUrl ?? `${config.relayUrl.replace(/\/+$/, '')}/webhooks/hips/orders`,
    logger: logger.child({ part: 'hips' }),
    ...(env.data.CHAOS_PSP_TIMEOUT_MS ? { timeoutMs: env.data.CHAOS_PSP_TIMEOUT_MS } : {}),
  }),
});

core.onState((snapshot) => send({ type: 'state', snapshot }));

let stopping = false;
async function stop(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, 'stopping');
  await core.stop();
  process.exit(0);
}

process.on('message', (raw: unknown) => {
  const parsed = toKiosk.safeParse(raw);
  if (!parsed.success) {
    logger.error({ problems: parsed.error.issues }, 'unreadable IPC message ignored');
    return;
  }
  const message = parsed.data;
  if (message.type === 'stop') {
    void stop('stop message');
    return;
  }
  core.execute(message.command).then(
    (result) => send({ type: 'result', id: message.id, result }),
    (err: unknown) => send({ type: 'result', id: message.id, result: { ok: false, error: { code: 'internal', message: String(err) } } }),
  );
});
// The harness went away: stop cleanly instead of lingering as an orphan.
process.on('disconnect', () => void stop('harness disconnected'));
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  await core.start();
} catch (err) {
  die(`The kiosk core could not start: ${(err as Error).message}`);
}
logger.info({ cabId: config.cabId, dataDir: config.dataDir }, 'kiosk ready');
send({ type: 'ready', pid: process.pid });
send({ type: 'state', snapshot: core.getState() });
