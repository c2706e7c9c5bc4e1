/**
 * Deeply nested JSON at the webhook edge, against the real relay process: a properly signed
 * Hips hook whose verified claims (or whose body) nest 2,000 or 10,000 levels deep is refused
 * with 400, and the relay keeps serving. Before, 2,000 levels were never answered and 10,000
 * killed the process (and the PSP's retry killed it again after a restart).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonDepthWithin, parseBoundedJson } from '../../backend-relay/bounded-json.js';
import { addCab, connectTablet, hookBody, makeSigner, qrHook, signRawClaims, spawnRelay, tempDir, until, waitForConnect } from './helpers.js';

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

async function post(url: string, route: string, body: string) {
  // A relay that never answers fails here instead of hanging the test.
  const res = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string }; status?: string } };
}

describe('deeply nested JSON at the webhook edge', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('answers 400 to a signed hook nested 2,000 and 10,000 deep, again on every retry, and keeps serving', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    cleanups.push(() => relay.child.kill('SIGKILL'));
    const token = await addCab(relay.url, 'cab-deep', ['QR-DEEP']);
    const tablet = connectTablet(relay.url, 'cab-deep', token);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);

    for (const depth of [2_000, 10_000]) {
      const nowS = Math.floor(Date.now() / 1000);
      const data = `${JSON.stringify(qrHook('QR-DEEP')).slice(0, -1)},"dynamic":${nested(depth)}}`;
      const jwt = await signRawClaims(signer, `{"iss":"hips.com","iat":${nowS},"exp":${nowS + 300},"data":${data}}`);
      // The PSP retries a refused hook: every attempt gets the same answer.
      for (let attempt = 1; attempt <= 3; attempt++) {
        const res = await post(relay.url, '/webhooks/hips/qr', JSON.stringify({ jwt }));
        expect(res.status, `claims ${depth} deep, attempt ${attempt}`).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/nested deeper than any Hips hook/) });
      }
      // The body itself nested that deep (a valid token beside it) is refused before it is parsed.
      const signed = JSON.stringify(await hookBody(signer, qrHook('QR-DEEP')));
      const deepBody = `${signed.slice(0, -1)},"padding":${nested(depth)}}`;
      const res = await post(relay.url, '/webhooks/hips/orders', deepBody);
      expect(res.status, `body ${depth} deep`).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/nested deeper than 32 levels/) });
    }

    expect(relay.child.exitCode).toBeNull();
    expect(relay.output()).not.toMatch(/Maximum call stack|uncaught/i);
    // Still serving: an ordinary hook is stored and delivered.
    const ordinary = await post(relay.url, '/webhooks/hips/qr', JSON.stringify(await hookBody(signer, qrHook('QR-DEEP', { session_id: 'after-the-attack' }))));
    expect(ordinary).toMatchObject({ status: 200, body: { status: 'stored', seq: 1 } });
    await until(() => tablet.applied.length === 1, 'the ordinary hook delivered');
    expect(tablet.applied[0]!.data).toMatchObject({ sessionId: 'after-the-attack' });
  });
});

describe('bounded JSON', () => {
  it('counts nesting outside strings only, escapes included', () => {
    expect(jsonDepthWithin('{"a":[[1]]}', 3)).toBe(true);
    expect(jsonDepthWithin('{"a":[[[1]]]}', 3)).toBe(false);
    expect(jsonDepthWithin(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 1)).toBe(true);
    expect(parseBoundedJson(nested(32))).toMatchObject({ ok: true });
    expect(parseBoundedJson(nested(33))).toMatchObject({ ok: false, error: { code: 'too_deep' } });
    expect(parseBoundedJson('{"a":')).toMatchObject({ ok: false, error: { code: 'malformed' } });
  });
});
