/** The Vipps adapter's webhook endpoint without a network: which host and path it verifies against, and what it parses. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createVippsAdapter } from '../../backend-relay/psp/vipps.js';
import { signVippsRequest } from '../../backend-relay/psp/vipps-hmac.js';
import type { WebhookRequest } from '../../backend-relay/psp/psp-adapter.js';

const silent = pino({ level: 'silent' });
const meta = { get: () => null, set: () => undefined };
const SECRET = 'configured-secret';
const now = new Date('2024-06-01T12:00:00Z');

function adapterFor(publicUrl: string, over: { msn?: string } = {}) {
  return createVippsAdapter({ webhookSecret: SECRET, ...over }, { logger: silent, meta, publicUrl: () => publicUrl });
}

function request(body: unknown, signedPath: string, host: string, receivedPath = signedPath, secret = SECRET): WebhookRequest {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = signVippsRequest({ secret, pathAndQuery: signedPath, host, rawBody: raw, date: now });
  // What a proxy forwards: the Host header is whatever it chose; only the public URL's host counts.
  return {
    rawBody: Buffer.from(raw),
    body: 'ignored: the verified bytes are parsed',
    headers: { ...headers, host: 'internal:8787' },
    method: 'POST',
    pathAndQuery: receivedPath,
  };
}

const event = {
  msn: '123456',
  reference: 'cab-1-ride-1-1',
  pspReference: '42',
  name: 'AUTHORIZED',
  amount: { currency: 'NOK', value: 100 },
  timestamp: now.toISOString(),
  idempotencyKey: 'k1',
  success: true,
};

describe('Vipps webhook endpoint', () => {
  it('verifies against the public URL host (port included when not default), not the Host header', async () => {
    const [endpoint] = adapterFor('https://relay.example:8443').webhooks;
    const ok = await endpoint!.verify(request(event, '/webhooks/vipps', 'relay.example:8443'), now);
    expect(ok).toMatchObject({ verdict: 'verified', route: { by: 'payment', pspReference: 'cab-1-ride-1-1' } });
    const wrongHost = await endpoint!.verify(request(event, '/webhooks/vipps', 'internal:8787'), now);
    expect(wrongHost.verdict).toBe('unauthenticated');
    // A default port is not part of the host Vipps signs.
    const [plain] = adapterFor('https://relay.example:443').webhooks;
    expect((await plain!.verify(request(event, '/webhooks/vipps', 'relay.example'), now)).verdict).toBe('verified');
  });

  it('a public URL with a path prefix (behind a proxy) is part of the signed path', async () => {
    const [endpoint] = adapterFor('https://relay.example/cabpay').webhooks;
    const ok = await endpoint!.verify(request(event, '/cabpay/webhooks/vipps?x=1', 'relay.example', '/webhooks/vipps?x=1'), now);
    expect(ok.verdict).toBe('verified');
    const unprefixed = await endpoint!.verify(request(event, '/webhooks/vipps?x=1', 'relay.example'), now);
    expect(unprefixed.verdict).toBe('unauthenticated');
  });

  it('parses the verified bytes, and refuses a verified body that is not JSON or not ours', async () => {
    const [endpoint] = adapterFor('https://relay.example', { msn: '123456' }).webhooks;
    expect(await endpoint!.verify(request('not json', '/webhooks/vipps', 'relay.example'), now)).toMatchObject({ verdict: 'malformed' });
    expect(await endpoint!.verify(request({ ...event, msn: '654321' }, '/webhooks/vipps', 'relay.example'), now)).toMatchObject({ verdict: 'malformed' });
  });

  it('refuses another secret, and everything when no public URL is known', async () => {
    const [endpoint] = adapterFor('https://relay.example').webhooks;
    expect((await endpoint!.verify(request(event, '/webhooks/vipps', 'relay.example', '/webhooks/vipps', 'other'), now)).verdict).toBe('unauthenticated');
    const [noUrl] = adapterFor('').webhooks;
    const v = await noUrl!.verify(request(event, '/webhooks/vipps', 'relay.example'), now);
    expect(v).toMatchObject({ verdict: 'unauthenticated' });
    expect((v as { message: string }).message).toMatch(/RELAY_PUBLIC_URL/);
  });

  it('without a secret (API keys set, webhook not registered yet) every hook is 401', async () => {
    const adapter = createVippsAdapter(
      { baseUrl: 'http://127.0.0.1:1', clientId: 'a', clientSecret: 'b', subscriptionKey: 'c', msn: '123456' },
      { logger: silent, meta, publicUrl: () => 'https://relay.example' },
    );
    const v = await adapter.webhooks[0]!.verify(request(event, '/webhooks/vipps', 'relay.example'), now);
    expect(v).toMatchObject({ verdict: 'unauthenticated' });
    expect((v as { message: string }).message).toMatch(/not registered/);
  });
});
