/** Every error the relay answers is JSON: {error: {code, message}}, saying what to do. */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../logger.js';

export const BODY_LIMIT_BYTES = 256 * 1024;

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Fastify's own refusals, explained in words a caller can act on. */
function explain(err: FastifyError): { status: number; code: string; message: string } {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: `the body is larger than ${BODY_LIMIT_BYTES} bytes (256 KB)` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'send the body as application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'malformed', message: 'the JSON body is empty' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'malformed', message: 'the Content-Length does not match the body' };
    default:
      if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return { status: 400, code: 'malformed', message: `the body is not valid JSON (${err.message})` };
      }
      return { status: err.statusCode ?? 500, code: err.code ?? 'error', message: err.message };
  }
}

/** `onRefused` sees refusals that happen before a route runs (too large, not JSON), for metrics. */
export function installErrorHandling(app: FastifyInstance, logger: Logger, onRefused: (path: string, code: string) => void = () => {}): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, code, message } = explain(err);
    if (status < 500) onRefused(req.url.split('?')[0] ?? req.url, code);
    if (status >= 500) {
      logger.error({ err, url: redactUrl(req.url) }, 'request failed');
      return reply.code(500).send(errorBody('internal', 'the relay could not handle this request; it was not stored, retry'));
    }
    return reply.code(status).send(errorBody(code, message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
}
