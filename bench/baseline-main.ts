/** The baseline relay as a process: BASELINE_PORT (0 = ephemeral), BASELINE_HOST (127.0.0.1). */
import { pino } from 'pino';
import { z } from 'zod';
import { buildBaselineRelay } from './baseline-relay.js';
import { zodIssuesText } from '../protocol/zod-issues.js';

const env = z
  .object({
    BASELINE_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
    BASELINE_HOST: z.string().min(1).default('127.0.0.1'),
  })
  .safeParse(process.env);
const logger = pino({ base: { service: 'baseline-relay' } });
if (!env.success) {
  logger.fatal(`Invalid baseline configuration: ${zodIssuesText(env.error)}`);
  process.exit(2);
}
const server = await buildBaselineRelay({ port: env.data.BASELINE_PORT, host: env.data.BASELINE_HOST });
logger.info({ url: server.url }, 'listening');
const stop = (signal: string) => {
  logger.info({ signal }, 'shutting down');
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
