/** Hips webhook verification: refusals store nothing and deliver nothing. */
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayApp } from '../../backend-relay/app.js';
import {
  addCab,
  connectTablet,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  qrHook,
  signHook,
  sleep,
  startInProcess,
  storedCounts,
  tempDir,
  until,
  waitForConnect,
  type Signer,
  type TestTablet,
  fetchMetrics,
} from './helpers.js';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('Hips webhook verification', () => {
  let dir: string;
  let signer: Signer;
  let app: RelayApp;
  let url: string;
  let tablet: TestTablet;

  beforeAll(async () => {
    dir = tempDir();
    signer = await makeSigner(dir);
    ({ app, url } = await startInProcess(dir, signer));
    const token = await addCab(url, 'cab-v', ['QR-V']);
    tablet = connectTablet(url, 'cab-v', token);
    await waitForConnect(tablet);
  });
  afterAll(async () => {
    tablet.close();
    await app.close();
  });

  async function expectNothingStored() {
    await sleep(100);
    expect(await storedCounts(path.join(dir, 'relay.db'))).toEqual({ events: 0, unrouted: 0 });
    expect(tablet.received).toEqual([]);
  }

  const claims = (data: unknown, over: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { data, iss: 'hips.com', iat: now, exp: now + 300, ...over };
  };

  const cases: [string, () => Promise<string>][] = [
    ['a token signed with another key', async () => signHook(await makeSigner(tempDir()), qrHook('QR-V'))],
    ['alg none', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims(qrHook('QR-V')))}.`],
    [
      'HS256 keyed with the public PEM (algorithm confusion)',
      async () => {
        const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims(qrHook('QR-V')))}`;
        const sig = createHmac('sha256', signer.publicPem).update(signingInput).digest('base64url');
        return `${signingInput}.${sig}`;
      },
    ],
    [
      'an expired token (beyond the 300 s skew)',
      async () => signHook(signer, qrHook('QR-V'), { issuedAtS: Math.floor(Date.now() / 1000) - 1000, expiresInS: 600 }),
    ],
    ['a wrong issuer', async () => signHook(signer, qrHook('QR-V'), { issuer: 'evil.example' })],
    [
      'a token without exp',
      async () => new SignJWT({ data: qrHook('QR-V') }).setProtectedHeader({ alg: 'RS256' }).setIssuer('hips.com').setIssuedAt().sign(signer.privateKey),
    ],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await signHook(signer, qrHook('QR-V'))).split('.');
        return `${h}.${b64url(claims(qrHook('QR-V', { one_time_order_api_key: 'attacker' })))}.${s}`;
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
  ];

  for (const [name, makeJwt] of cases) {
    it(`answers 401 to ${name} on both hooks, and stores nothing`, async () => {
      const jwt = await makeJwt();
      for (const route of ['/webhooks/hips/qr', '/webhooks/hips/orders']) {
        const res = await postJson(url, route, { ...qrHook('QR-V'), jwt });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthenticated');
        expect(typeof res.body.error.message).toBe('string');
      }
      await expectNothingStored();
    });
  }

  it('answers 400 with a JSON error to malformed bodies', async () => {
    const bodies: unknown[] = ['{not json', '[1,2]', 'null', { no: 'jwt' }, { jwt: 42 }, { jwt: '' }, '"string"'];
    for (const body of bodies) {
      const res = await postJson(url, '/webhooks/hips/qr', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message.length).toBeGreaterThan(5);
    }
    // Verified, but the data claim is not a QR hook.
    const wrongShape = await postJson(url, '/webhooks/hips/qr', { jwt: await signHook(signer, { request_type: 'dance' }) });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error.message).toContain('request_type');
    const orderOnQrHook = await postJson(url, '/webhooks/hips/qr', await hookBody(signer, orderHook('cab-v.r1')));
    expect(orderOnQrHook.status).toBe(400);
    await expectNothingStored();
  });

  it('answers 413 with a JSON error to a body over 256 KB', async () => {
    const jwt = await signHook(signer, qrHook('QR-V'));
    const res = await postJson(url, '/webhooks/hips/qr', { jwt, padding: 'x'.repeat(256 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
    await expectNothingStored();
    const metrics = await (await fetchMetrics(url)).text();
    expect(metrics).toMatch(/relay_webhooks_total\{psp="hips",kind="qr",outcome="too_large"\} 1/);
    expect(metrics).toMatch(/relay_webhooks_total\{psp="hips",kind="qr",outcome="unauthenticated"\} \d+/);
  });

  it('accepts a token expired by less than the clock skew, and trusts only the verified claim', async () => {
    const signed = qrHook('QR-V', { session_id: 'signed-session' });
    const jwt = await signHook(signer, signed, { issuedAtS: Math.floor(Date.now() / 1000) - 400, expiresInS: 200 });
    // The readable body says something else; the relay must ignore it.
    const res = await postJson(url, '/webhooks/hips/qr', { ...signed, session_id: 'forged-session', qr_code: 'OTHER', jwt });
    expect(res.status).toBe(200);
    await until(() => tablet.applied.length === 1, 'delivery');
    expect(tablet.applied[0]).toMatchObject({ type: 'qr.session.started', data: { sessionId: 'signed-session', qrCode: 'QR-V' } });
  });
});
