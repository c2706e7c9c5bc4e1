/** pino JSON logs. Secrets and one-time keys are redacted wherever they appear. */
import { pino, type Logger } from 'pino';

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
    },
    destination,
  );
}
