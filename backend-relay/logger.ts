/**
 * pino JSON logs. Secrets and one-time keys are redacted wherever they appear, URLs included. A
 * log line can carry what a tablet or a PSP sent; JSON escapes C0 controls but leaves C1 controls
 * and bidi overrides raw, so those are escaped too before a line reaches a terminal.
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

const CENSOR = '[redacted]';
/** Query parameters of the relay's own routes that carry nothing secret; every other value is redacted. */
const PLAIN_QUERY_PARAMS = new Set(['keepToken']);

/**
 * A request URL as it may be logged: a receipt's token (the page's only secret) and every query
 * value but the relay's own plain ones are replaced. The relay reads no secret from a query,
 * but a caller may still put one there (`?token=…`), and the URL must not carry it into the log.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(/^(\/receipts\/)[^/]+/, `$1${CENSOR}`);
  if (q === -1) return path;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq === -1 || PLAIN_QUERY_PARAMS.has(name) ? pair : `${name}=${CENSOR}`;
    });
  return `${path}?${params.join('&')}`;
}

/** Fastify's request serializer with the URL redacted (it takes precedence over Fastify's own). */
function requestSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { req: requestSerializer },
      hooks: { streamWrite: jsonTerminalSafe },
    },
    destination,
  );
}
