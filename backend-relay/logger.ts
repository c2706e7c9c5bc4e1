/**
 * pino JSON logs. Secrets and one-time keys are redacted wherever they appear. A log line can
 * carry what a tablet or a PSP sent; JSON escapes C0 controls but leaves C1 controls and bidi
 * overrides raw, so those are escaped too before a line reaches a terminal.
 */
import { pino, type Logger } from 'pino';
import { jsonTerminalSafe } from '../protocol/terminal-text.js';

export const REDACT_PATHS = [
  'token',
  'deviceToken',
  'adminToken',
  'jwt',
  'oneTimeOrderApiKey',
  'one_time_order_api_key',
  '*.token',
  '*.deviceToken',
  '*.adminToken',
  '*.jwt',
  '*.oneTimeOrderApiKey',
  '*.one_time_order_api_key',
  '*.*.oneTimeOrderApiKey',
  '*.*.one_time_order_api_key',
  'req.headers.authorization',
  'headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: jsonTerminalSafe },
    },
    destination,
  );
}
