/**
 * The secrets the relay keeps in its database (the Vipps webhook secret, passengers' Vipps
 * check-in tokens) are sealed with RELAY_SECRETS_KEY: a relay that ran without a key seals them
 * at its next start with one, keeps working with them, and refuses to start with a wrong key or
 * none. Against the Vipps sandbox, over loopback, with a socket.io tablet.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import { loadRelayConfig } from '../../backend-relay/config.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import { parseSecretsKey, SecretBox } from '../../backend-relay/secret-box.js';
import { VIPPS_WEBHOOK_META_KEY } from '../../backend-relay/psp/vipps-webhook-registration.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { testSandbox } from '../sandbox/helpers.js';
import { admin, connectTablet, makeSigner, relayConfig, tempDir, until, waitForConnect, type Signer, type TestTablet } from './helpers.js';

const KEY = randomBytes(32).toString('base64');

describe('the secrets box', () => {
  it('takes 32 bytes as hex, base64 or base64url, and says what is wrong with anything else', () => {
    const bytes = randomBytes(32);
    for (const text of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')]) expect(parseSecretsKey(text)).toEqual(bytes);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), `${'g'.repeat(64)}`])
      expect(() => parseSecretsKey(bad), bad).toThrow(/RELAY_SECRETS_KEY must be 32 random bytes, as 64 hex digits or 44 base64 characters/);
  });

  it('seals with AES-256-GCM: a fresh value each time, opened only with the same key and the same place', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('the secret', 'meta:vipps.webhook');
    expect(sealed).toMatch(/^enc:v1:[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('the secret');
    expect(box.seal('the secret', 'meta:vipps.webhook')).not.toBe(sealed);
    expect(box.open(sealed, 'meta:vipps.webhook')).toBe('the secret');
    expect(() => box.open(sealed, 'checkin:vco_1')).toThrow(/does not open the stored secret checkin:vco_1/);
    expect(() => new SecretBox(randomBytes(32).toString('hex')).open(sealed, 'meta:vipps.webhook')).toThrow(/set it to the key the database was written with/);
    const tampered = sealed.replace(/\.([\w-])/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    expect(() => box.open(tampered, 'meta:vipps.webhook')).toThrow(/does not open/);
  });

  it('a malformed RELAY_SECRETS_KEY stops the relay at its configuration, naming the variable', async () => {
    const dir = tempDir();
    const env = { RELAY_ADMIN_TOKEN: 'a'.repeat(20), HIPS_PUBLIC_KEY_FILE: (await makeSigner(dir)).pemFile, RELAY_DB: path.join(dir, 'relay.db') };
    expect(() => loadRelayConfig({ ...env, RELAY_SECRETS_KEY: 'not-a-key' })).toThrow(/RELAY_SECRETS_KEY must be 32 random bytes/);
    expect(loadRelayConfig({ ...env, RELAY_SECRETS_KEY: KEY }).secretsKey).toBe(KEY);
    expect(loadRelayConfig(env).secretsKey).toBeUndefined();
  });
});

describe('secrets at rest, with Vipps through the relay', () => {
  let sb: Sandbox;
  let dir: string;
  let signer: Signer;
  let relay: { app: RelayApp; url: string } | null = null;
  const dbPath = () => path.join(dir, 'relay.db');

  async function startRelay(secretsKey?: string, port = 0) {
    const vipps = { baseUrl: sb.url, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn };
    const app = await buildRelayApp(relayConfig(dir, signer, { port, vipps, ...(secretsKey ? { secretsKey } : {}) }), { logger: createLogger('silent') });
    return { app, url: await app.listen() };
  }

  /** The rows as they lie on disk. */
  function rawRows(): { meta: string; tokens: string[] } {
    const db = new Database(dbPath(), { readonly: true });
    try {
      const meta = (db.prepare('SELECT value FROM meta WHERE key = ?').get(VIPPS_WEBHOOK_META_KEY) as { value: string }).value;
      const tokens = (db.prepare('SELECT customer_token FROM checkins').all() as { customer_token: string }[]).map((r) => r.customer_token);
      return { meta, tokens };
    } finally {
      db.close();
    }
  }

  /** The passenger checks in at the cab's QR; the session the tablet got (told apart by its expiry) and the token. */
  async function checkIn(tablet: TestTablet, qrContent: string): Promise<{ token: string; sessionId: string }> {
    const res = await fetch(`${sb.url}/sandbox/vipps/checkin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qrContent }),
    });
    const body = (await res.json()) as { customerToken: string; initiatedAt: string };
    const expiresAt = Date.parse(body.initiatedAt) + 15 * 60_000;
    let started: Extract<RelayEvent, { type: 'qr.session.started' }> | undefined;
    await until(() => {
      started = tablet.applied.find(
        (e): e is Extract<RelayEvent, { type: 'qr.session.started' }> => e.type === 'qr.session.started' && Date.parse(e.data.expiresAt) === expiresAt,
      );
      return started !== undefined;
    }, 'the check-in on the tablet');
    return { token: body.customerToken, sessionId: started!.data.sessionId };
  }

  beforeAll(async () => {
    sb = await testSandbox();
    dir = tempDir('cabpay-secrets-');
    signer = await makeSigner(dir);
  });
  afterAll(async () => {
    await relay?.app.close();
    await sb?.close();
  });

  it('a relay without a key keeps them plain; with one it seals them at start and keeps working; a wrong key or none then stops it', async () => {
    // Without a key: the webhook registration and a check-in token lie in plain text.
    relay = await startRelay();
    const added = await admin(relay.url, 'PUT', '/admin/cabs/cab-s', { psp: 'vipps', qrCodes: ['cab-s-qr'], plate: 'EL 1', label: 'Taxi 1' });
    const qrContent = added.body.qrContent as string;
    let tablet = connectTablet(relay.url, 'cab-s', added.body.deviceToken as string);
    await waitForConnect(tablet);
    const first = await checkIn(tablet, qrContent);
    const plain = rawRows();
    const webhookSecret = (JSON.parse(plain.meta) as { secret: string }).secret;
    expect(plain.tokens).toEqual([first.token]);
    tablet.close();
    const port = Number(new URL(relay.url).port);
    await relay.app.close();
    relay = null;

    // With a key: both are sealed before anything reads them, and nothing of them is left on disk.
    relay = await startRelay(KEY, port);
    const sealed = rawRows();
    expect(sealed.meta).toMatch(/^enc:v1:/);
    expect(sealed.meta).not.toContain(webhookSecret);
    expect(sealed.tokens).toHaveLength(1);
    expect(sealed.tokens[0]).toMatch(/^enc:v1:/);
    expect(sealed.tokens[0]).not.toContain(first.token);
    const box = new SecretBox(KEY);
    expect(JSON.parse(box.open(sealed.meta, `meta:${VIPPS_WEBHOOK_META_KEY}`))).toMatchObject({ secret: webhookSecret });
    expect(box.open(sealed.tokens[0]!, `checkin:${first.sessionId}`)).toBe(first.token);

    // And it still works: Vipps's hooks verify with the sealed secret, a new token is stored sealed,
    // and a payment goes to the passenger of the check-in sealed at start.
    const token = (await admin(relay.url, 'POST', '/admin/cabs/cab-s/rotate-token')).body.deviceToken as string;
    tablet = connectTablet(relay.url, 'cab-s', token);
    await waitForConnect(tablet);
    const second = await checkIn(tablet, qrContent);
    expect(rawRows().tokens.every((t) => t.startsWith('enc:v1:') && !t.includes(second.token))).toBe(true);
    const rideId = uuidv7();
    const ack = await tablet.socket.timeout(15_000).emitWithAck('payment.request', {
      psp: 'vipps',
      sessionId: first.sessionId,
      rideId,
      attempt: 1,
      currency: 'NOK',
      orderAmount: 10_000,
      tipAmount: 0,
      orderLines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 10_000, vatRate: 12 }],
    });
    expect(ack).toMatchObject({ ok: true, value: { pspReference: expect.any(String) } });
    tablet.close();
    await relay.app.close();
    relay = null;

    // A wrong key, or none, cannot read them: the relay says so and does not start.
    await expect(startRelay(randomBytes(32).toString('hex'), port)).rejects.toThrow(/RELAY_SECRETS_KEY does not open the stored secret meta:vipps\.webhook/);
    await expect(startRelay(undefined, port)).rejects.toThrow(/is encrypted, but RELAY_SECRETS_KEY is not set/);
    relay = await startRelay(KEY, port);
  });
});
