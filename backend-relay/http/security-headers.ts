/**
 * Headers for what the relay serves. Every answer: `nosniff`, so a browser never reads JSON or
 * a release file as HTML. Every HTML page (the receipts): no framing, no referrer (a receipt's
 * URL is its secret), and a CSP that allows nothing unless the page set a stricter one of its own.
 */
import type { FastifyInstance } from 'fastify';

const HTML_DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', HTML_DEFAULT_CSP);
      if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'no-referrer');
    }
    done(null, payload);
  });
}
