/**
 * Property test: random and mutated bodies on both Hips hooks never cause a 5xx or a crash,
 * and nothing but validly signed content is ever stored.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import { hipsOrderDedupeKey } from '../../backend-relay/psp/hips.js';
import { hashToken } from '../../backend-relay/secrets.js';
import { hookBody, makeSigner, orderHook, qrHook, relayConfig, tempDir } from './helpers.js';

const RUNS = 10_000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('webhook fuzzing', () => {
  let app: RelayApp;
  let dbPath: string;
  const pool: Record<string, unknown>[] = [];
  const poolKeys = new Set<string>();

  beforeAll(async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    dbPath = path.join(dir, 'relay.db');
    app = await buildRelayApp(relayConfig(dir, signer), { logger: createLogger('silent') });
    await app.store.putCab(
      { cabId: 'cab-f', psp: 'hips', qrCodes: ['QR-F'], plate: 'P', label: 'L', enabled: true },
      hashToken('x'.repeat(43)),
      new Date().toISOString(),
    );
    for (let i = 0; i < 8; i++) {
      const qr = qrHook(i % 4 === 3 ? 'QR-UNKNOWN' : 'QR-F', i % 4 === 2 ? { request_type: 'canceled' } : {});
      pool.push(await hookBody(signer, qr));
      poolKeys.add(`qr:${qr.request_type}:${qr.idempotency_key}`);
      const order = orderHook(i % 2 ? 'cab-f.ride' + i : 'ghost.ride' + i);
      pool.push(await hookBody(signer, order));
      poolKeys.add(hipsOrderDedupeKey(order.resource.order_id, 'paid'));
    }
  });
  afterAll(() => app.close());

  const mutateJwt = fc.oneof(
    fc.tuple(fc.nat(), fc.constantFrom('A', 'b', '-', '_', '.', '=', '+', '/', '%', ' ')).map(([i, c]) => (jwt: string) => {
      const at = i % jwt.length;
      return jwt.slice(0, at) + c + jwt.slice(at + 1);
    }),
    fc.nat().map((n) => (jwt: string) => jwt.slice(0, n % jwt.length)),
    fc.jsonValue().map((claims) => (jwt: string) => {
      const [h, , s] = jwt.split('.');
      return `${h}.${b64(claims)}.${s}`;
    }),
    fc
      .record({ alg: fc.constantFrom('none', 'HS256', 'RS512', 'ES256', 'RS256', 'PS256', ''), typ: fc.constantFrom('JWT', 'jwt', '') })
      .map((header) => (jwt: string) => {
        const [, p, s] = jwt.split('.');
        return `${b64(header)}.${p}.${header.alg === 'none' ? '' : s}`;
      }),
    fc.base64String({ maxLength: 400 }).map((sig) => (jwt: string) => `${jwt.split('.').slice(0, 2).join('.')}.${sig}`),
    fc.constant((jwt: string) => jwt.split('.').reverse().join('.')),
    fc.constant((jwt: string) => jwt + '.' + jwt),
  );

  const extraFields = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

  const body = fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    {
      weight: 5,
      arbitrary: fc.tuple(fc.nat(), mutateJwt, extraFields).map(([i, mutate, extra]) => {
        const valid = pool[i % pool.length]!;
        return JSON.stringify({ ...extra, ...valid, jwt: mutate(valid.jwt as string) });
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), extraFields, fc.jsonValue()).map(([i, extra, jwt]) => {
        const valid = pool[i % pool.length]!;
        return JSON.stringify({ ...valid, ...extra, jwt });
      }),
    },
    // Untouched valid bodies (with readable-field noise): these may be stored.
    { weight: 1, arbitrary: fc.tuple(fc.nat(), extraFields).map(([i, extra]) => JSON.stringify({ ...extra, ...pool[i % pool.length]! })) },
  );

  it(`answers ${RUNS} random and mutated hooks without a 5xx and stores only verified content`, async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/webhooks/hips/qr', '/webhooks/hips/orders'),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded'),
        body,
        async (url, contentType, payload) => {
          const res = await app.fastify.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
          seen.add(res.statusCode);
          expect(res.statusCode).toBeLessThan(500);
          expect([200, 400, 401, 412, 413, 415]).toContain(res.statusCode);
          expect(() => JSON.parse(res.body)).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
    const db = new Database(dbPath, { readonly: true });
    const keys = [...db.prepare('SELECT dedupe_key AS k FROM events').all(), ...db.prepare('SELECT dedupe_key AS k FROM unrouted_hooks').all()].map(
      (r) => (r as { k: string }).k,
    );
    const seqs = db
      .prepare("SELECT seq FROM events WHERE cab_id = 'cab-f' ORDER BY seq")
      .all()
      .map((r) => (r as { seq: number }).seq);
    db.close();
    for (const k of keys) expect(poolKeys.has(k), k).toBe(true);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // The run exercised refusals and acceptances alike.
    expect(seen.has(401) && seen.has(400) && seen.has(200)).toBe(true);
    expect((await app.fastify.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 240_000);
});
