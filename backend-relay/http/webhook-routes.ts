/**
 * POST /webhooks/<psp>/<kind>: one route per adapter endpoint, all through the same ingress.
 * The webhook routes read their bodies as raw bytes (Vipps and HitPay sign the exact bytes)
 * and parse them here; the parsers live in an encapsulated plugin, so the admin routes keep
 * Fastify's own JSON parsing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseBoundedJson } from '../bounded-json.js';
import { handleWebhook, type IngressDeps } from '../ingress.js';
import type { PspAdapter } from '../psp/index.js';
import type { WebhookRequest } from '../psp/psp-adapter.js';
import { BODY_LIMIT_BYTES } from './errors.js';

/** A body the relay cannot read: 400 `malformed` through the shared error handler. */
function malformedBody(message: string): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode: 400, code: 'malformed' });
}

/** JSON as sent; an empty body is refused like Fastify's own parser does, and so is deep nesting. */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') throw malformedBody('the JSON body is empty');
  const parsed = parseBoundedJson(text);
  if (!parsed.ok) throw malformedBody(`the body is ${parsed.error.code === 'too_deep' ? 'refused' : 'not valid JSON'}: ${parsed.error.message}`);
  return parsed.value;
}

/**
 * `application/x-www-form-urlencoded` as a flat record. A repeated key is refused: a signature
 * covers one value per field, and picking one of two would let a forger choose which.
 */
export function parseFormBody(raw: Buffer): Record<string, string> {
  const params = new URLSearchParams(raw.toString('utf8'));
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw malformedBody(`the form field "${key}" appears more than once`);
    out[key] = value;
  }
  return out;
}

export function toWebhookRequest(req: FastifyRequest): WebhookRequest {
  const rawBody = Buffer.isBuffer(req.rawBodyBytes) ? req.rawBodyBytes : Buffer.alloc(0);
  return {
    rawBody,
    body: req.body,
    headers: req.headers,
    method: req.method,
    pathAndQuery: req.raw.url ?? req.url,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The webhook routes' body exactly as received (set by their content-type parsers). */
    rawBodyBytes?: Buffer;
  }
}

export function registerWebhookRoutes(app: FastifyInstance, adapters: PspAdapter[], deps: IngressDeps): void {
  app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    const keep = (parse: (raw: Buffer) => unknown) => (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      req.rawBodyBytes = body;
      try {
        done(null, parse(body));
      } catch (err) {
        done(err as Error);
      }
    };
    hooks.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, keep(parseJsonBody));
    hooks.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, keep(parseFormBody));
    // Anything else arrives as text; the adapter refuses it as malformed (400), as before.
    hooks.addContentTypeParser(
      'text/plain',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
      keep((raw) => raw.toString('utf8')),
    );

    for (const adapter of adapters) {
      for (const endpoint of adapter.webhooks) {
        // Fastify's own per-request lines are off here (warn and up still log): the ingress
        // writes one line per hook with everything those would say, and three lines per hook
        // cost a measurable share of the relay's throughput (docs/performance.md).
        hooks.post(endpoint.path, { bodyLimit: BODY_LIMIT_BYTES, logLevel: 'warn' }, async (req, reply) => {
          const answer = await handleWebhook(deps, adapter.name, endpoint, toWebhookRequest(req));
          return reply.code(answer.status).send(answer.body);
        });
      }
    }
  });
}
