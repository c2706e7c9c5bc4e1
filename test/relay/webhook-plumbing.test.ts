/** The webhook routes hand adapters the raw bytes, parsed JSON/forms, headers and the exact path. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES, installErrorHandling } from '../../backend-relay/http/errors.js';
import { registerWebhookRoutes } from '../../backend-relay/http/webhook-routes.js';
import type { IngressDeps } from '../../backend-relay/ingress.js';
import { createLogger } from '../../backend-relay/logger.js';
import { createMetrics } from '../../backend-relay/metrics.js';
import type { PspAdapter, WebhookRequest } from '../../backend-relay/psp/psp-adapter.js';

describe('webhook plumbing', () => {
  const seen: WebhookRequest[] = [];
  let app: FastifyInstance;

  beforeAll(async () => {
    const logger = createLogger('silent');
    app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: BODY_LIMIT_BYTES }) as unknown as FastifyInstance;
    installErrorHandling(app, logger);
    // An adapter that records what it got and refuses it, so nothing reaches the store.
    const adapter: PspAdapter = {
      name: 'vipps',
      webhooks: [
        {
          kind: 'test',
          path: '/webhooks/test',
          verify: async (request) => {
            seen.push(request);
            return { verdict: 'unauthenticated', message: 'recorded' };
          },
        },
      ],
    };
    const deps = {
      metrics: createMetrics(
        () => 0,
        async () => new Map(),
      ),
      logger,
    } as unknown as IngressDeps;
    registerWebhookRoutes(app, [adapter], deps);
    // A JSON route outside the webhook plugin keeps Fastify's own JSON parsing.
    app.post('/admin/echo', async (req) => ({ got: req.body }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('passes the JSON body byte-exact, parsed, with headers, method and path with query', async () => {
    const raw = '{ "a" :1,\n  "b":[ 2 ,3 ], "s":"å"}  ';
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/test?x=1&y=%20z',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-ms-date': 'Thu, 30 Mar 2023 08:38:32 GMT' },
      payload: raw,
    });
    expect(res.statusCode).toBe(401);
    const got = seen.at(-1)!;
    expect(Buffer.isBuffer(got.rawBody)).toBe(true);
    expect(got.rawBody.equals(Buffer.from(raw, 'utf8'))).toBe(true);
    expect(got.body).toEqual({ a: 1, b: [2, 3], s: 'å' });
    expect(got.method).toBe('POST');
    expect(got.pathAndQuery).toBe('/webhooks/test?x=1&y=%20z');
    expect(got.headers['x-ms-date']).toBe('Thu, 30 Mar 2023 08:38:32 GMT');
  });

  it('parses form-encoded bodies into a flat record and keeps the raw bytes', async () => {
    const raw = 'payment_id=p-1&amount=12.50&status=completed&hmac=abc%2B%3D&note=a+b';
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: raw,
    });
    expect(res.statusCode).toBe(401);
    const got = seen.at(-1)!;
    expect(got.rawBody.toString()).toBe(raw);
    expect(got.body).toEqual({ payment_id: 'p-1', amount: '12.50', status: 'completed', hmac: 'abc+=', note: 'a b' });
  });

  it('refuses a form with a repeated field, malformed JSON and an empty JSON body with 400, before the adapter', async () => {
    const before = seen.length;
    const repeated = await app.inject({
      method: 'POST',
      url: '/webhooks/test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'status=completed&status=failed',
    });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().error).toMatchObject({ code: 'malformed', message: expect.stringContaining('"status" appears more than once') });
    const bad = await app.inject({ method: 'POST', url: '/webhooks/test', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('malformed');
    const empty = await app.inject({ method: 'POST', url: '/webhooks/test', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(seen.length).toBe(before);
  });

  it('answers 413 for a body over 256 KB, for JSON and forms', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES) });
    const json = await app.inject({ method: 'POST', url: '/webhooks/test', headers: { 'content-type': 'application/json' }, payload: big });
    expect(json.statusCode).toBe(413);
    const form = await app.inject({
      method: 'POST',
      url: '/webhooks/test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `pad=${'x'.repeat(BODY_LIMIT_BYTES)}`,
    });
    expect(form.statusCode).toBe(413);
  });

  it('leaves JSON parsing of other routes to Fastify', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin/echo', headers: { 'content-type': 'application/json' }, payload: '{"k": 1}' });
    expect(res.json()).toEqual({ got: { k: 1 } });
    const form = await app.inject({
      method: 'POST',
      url: '/admin/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'k=1',
    });
    expect(form.statusCode).toBe(415);
  });
});
