/**
 * QR codes set up by the relay against the real sandbox: Hips static QRs connected by
 * `PUT /admin/cabs` (online while the cab is enabled, offline when disabled, dropped or deleted),
 * what the answer says when the relay cannot set them up, and two new cabs claiming the same
 * Vipps QR at once (one gets it; the QR at Vipps shows that cab's plate).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelayApp, type RelayApp } from '../../backend-relay/app.js';
import type { RelayConfig } from '../../backend-relay/config.js';
import { createLogger } from '../../backend-relay/logger.js';
import type { Sandbox } from '../../backend-relay/sandbox/app.js';
import { VIPPS_DEMO_CREDENTIALS as C } from '../../backend-relay/sandbox/vipps/settings.js';
import { openRelayDatabase } from '../../backend-relay/store/sqlite-store.js';
import { QrClaims, QR_CLAIM_TTL_MS } from '../../backend-relay/store/qr-claims.js';
import { call, testSandbox, waitFor } from '../sandbox/helpers.js';
import { accessToken, req } from '../sandbox/vipps-helpers.js';
import { admin, tempDir } from './helpers.js';

let sandbox: Sandbox;
const apps: RelayApp[] = [];

beforeAll(async () => {
  sandbox = await testSandbox();
});
afterAll(async () => {
  for (const app of apps.splice(0)) await app.close();
  await sandbox.close();
});

async function relay(over: Partial<RelayConfig> = {}, options: { fetch?: typeof fetch } = {}): Promise<{ app: RelayApp; url: string }> {
  const dir = tempDir('cabpay-qr-provisioning-');
  const app = await buildRelayApp(
    {
      port: 0,
      host: '127.0.0.1',
      dbPath: path.join(dir, 'relay.db'),
      adminToken: 'test-admin-token-0123456789',
      hipsPublicKeyPem: sandbox.publicKeyPem,
      cabStaleSeconds: 90,
      locale: 'en',
      ackTimeoutMs: 1_000,
      logLevel: 'silent',
      ...over,
    },
    { logger: createLogger('silent'), ...options },
  );
  apps.push(app);
  return { app, url: await app.listen() };
}

const hipsMerchant = () => ({ apiUrl: sandbox.url, merchantKey: sandbox.merchantKey, orderTimeoutSeconds: 1_800, paymentTimeoutSeconds: 240 });
const hipsQr = async (code: string) => call(sandbox.url, 'GET', `/v2/qrs/${code}`, { auth: sandbox.merchantKey });

describe('Hips QRs provisioned by the relay', () => {
  it('PUT /admin/cabs connects each QR to the relay (tips, timeouts, plate) and answers its content; a scan reaches the cab', async () => {
    const { app, url } = await relay({ hipsMerchant: hipsMerchant() });
    const put = await admin(url, 'PUT', '/admin/cabs/hips-1', { psp: 'hips', qrCodes: ['HIPS-QR-1', 'HIPS-QR-1B'], plate: 'ABC 123', label: 'Taxi 1' });
    expect(put.status).toBe(201);
    const qr = await hipsQr('HIPS-QR-1');
    expect(qr.body).toMatchObject({
      qr_code: 'HIPS-QR-1',
      status: 'online',
      allow_tip: true,
      qr_start_webhook_url: `${url}/webhooks/hips/qr`,
      order_timeout_seconds: 1_800,
      payment_timeout_seconds: 240,
      asynchronous: false,
      dynamic: { plate: 'ABC 123' },
    });
    expect(put.body).toMatchObject({ qrContent: qr.body.qr_data, qrSetup: 'relay' });
    expect(put.body.notice).toBeUndefined();
    expect((await hipsQr('HIPS-QR-1B')).body).toMatchObject({ status: 'online' });
    expect((await admin(url, 'GET', '/admin/cabs')).body.cabs[0]).toMatchObject({ cabId: 'hips-1', qrContent: qr.body.qr_data });

    // The passenger's scan goes through the sandbox to the relay, for this cab (it is live: seen just now).
    await app.store.markSeen('hips-1', new Date().toISOString());
    const scan = await call(sandbox.url, 'POST', '/sandbox/scan', { body: { qr_data: qr.body.qr_data } });
    expect(scan.body.state).toBe('waiting_for_order');
    await waitFor('the session on the cab', async () => (await app.store.eventsAfter('hips-1', 0, 10)).some((e) => e.type === 'qr.session.started'));
  });

  it('a disabled cab’s QRs go offline, and online again when it is enabled; a dropped code goes offline', async () => {
    const { url } = await relay({ hipsMerchant: hipsMerchant() });
    const body = { psp: 'hips', qrCodes: ['HIPS-QR-2'], plate: 'DEF 456', label: 'Taxi 2' };
    expect((await admin(url, 'PUT', '/admin/cabs/hips-2', body)).status).toBe(201);
    expect((await admin(url, 'PUT', '/admin/cabs/hips-2?keepToken=true', { ...body, enabled: false })).status).toBe(200);
    expect((await hipsQr('HIPS-QR-2')).body.status).toBe('offline');
    expect((await admin(url, 'PUT', '/admin/cabs/hips-2?keepToken=true', body)).status).toBe(200);
    expect((await hipsQr('HIPS-QR-2')).body.status).toBe('online');
    // The cab moves to another code: the old one stops taking scans.
    expect((await admin(url, 'PUT', '/admin/cabs/hips-2?keepToken=true', { ...body, qrCodes: ['HIPS-QR-2B'] })).status).toBe(200);
    expect((await hipsQr('HIPS-QR-2')).body.status).toBe('offline');
    expect((await hipsQr('HIPS-QR-2B')).body.status).toBe('online');
  });

  it('DELETE sets the cab’s QRs offline before removing it', async () => {
    const { url } = await relay({ hipsMerchant: hipsMerchant() });
    expect((await admin(url, 'PUT', '/admin/cabs/hips-3', { psp: 'hips', qrCodes: ['HIPS-QR-3'], plate: 'GHI 789', label: 'Taxi 3' })).status).toBe(201);
    expect((await hipsQr('HIPS-QR-3')).body.status).toBe('online');
    expect((await admin(url, 'DELETE', '/admin/cabs/hips-3')).body).toEqual({ cabId: 'hips-3', deleted: true });
    expect((await hipsQr('HIPS-QR-3')).body.status).toBe('offline');
  });

  it('a QR printed and created out of band is connected by its code', async () => {
    const created = await call(sandbox.url, 'POST', '/v2/qrs', { auth: sandbox.merchantKey, body: { qr_code: 'HIPS-PRINTED-4' } });
    expect(created.body.status).toBe('offline');
    const { url } = await relay({ hipsMerchant: hipsMerchant() });
    const put = await admin(url, 'PUT', '/admin/cabs/hips-4', { psp: 'hips', qrCodes: ['HIPS-PRINTED-4'], plate: 'JKL 012', label: 'Taxi 4' });
    expect(put.status).toBe(201);
    expect((await hipsQr(created.body.code_token)).body).toMatchObject({ status: 'online', qr_start_webhook_url: `${url}/webhooks/hips/qr` });
  });

  it('Hips refusing the setup answers 502 psp_provisioning_failed and changes nothing', async () => {
    // The sandbox here takes timeouts from 1 s; 0 is refused.
    const strict = await testSandbox({ timeoutFloorSeconds: 60 });
    try {
      const { url } = await relay({
        hipsMerchant: { apiUrl: strict.url, merchantKey: strict.merchantKey, orderTimeoutSeconds: 30, paymentTimeoutSeconds: 240 },
      });
      const put = await admin(url, 'PUT', '/admin/cabs/hips-5', { psp: 'hips', qrCodes: ['HIPS-QR-5'], plate: 'MNO 345', label: 'Taxi 5' });
      expect(put.status).toBe(502);
      expect(put.body.error.code).toBe('psp_provisioning_failed');
      expect(put.body.error.message).toMatch(/HIPS-QR-5/);
      expect(put.body.error.message).toMatch(/order_timeout_seconds/);
      expect((await admin(url, 'GET', '/admin/cabs')).body.cabs).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('without HIPS_API_URL and HIPS_MERCHANT_KEY the cab is registered and the answer says the QR must be connected out of band', async () => {
    const { url } = await relay();
    const put = await admin(url, 'PUT', '/admin/cabs/hips-6', { psp: 'hips', qrCodes: ['HIPS-QR-6'], plate: 'PQR 678', label: 'Taxi 6' });
    expect(put.status).toBe(201);
    expect(put.body.qrSetup).toBe('out_of_band');
    expect(put.body.notice).toContain('HIPS_API_URL and HIPS_MERCHANT_KEY');
    expect(put.body.notice).toContain(`${url}/webhooks/hips/qr`);
    expect(put.body.notice).toContain('"HIPS-QR-6"');
    expect((await hipsQr('HIPS-QR-6')).status).toBe(404);
  });
});

describe('two new cabs claiming the same Vipps QR at once', () => {
  it('one gets it; the QR at Vipps shows that cab’s plate and nobody else’s', async () => {
    // The relay's calls reach the real sandbox, but held in the worst order: A's first PUT of the
    // shared QR goes first, B's overwrites it, A finishes and commits, then B finishes.
    const answered: Record<'A' | 'B', Promise<void>> & { resolve: Record<'A' | 'B', () => void> } = (() => {
      const resolve = {} as Record<'A' | 'B', () => void>;
      const A = new Promise<void>((r) => (resolve.A = r));
      const B = new Promise<void>((r) => (resolve.B = r));
      return { A, B, resolve };
    })();
    let sharedPutByA!: () => void;
    const aPutShared = new Promise<void>((r) => (sharedPutByA = r));
    let sharedPutByB!: () => void;
    const bPutShared = new Promise<void>((r) => (sharedPutByB = r));
    const gated: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const body = typeof init?.body === 'string' ? init.body : '';
      const isPut = init?.method === 'PUT';
      if (isPut && url.pathname.endsWith('/SHARED-QR') && body.includes('PLATE B')) await Promise.race([aPutShared, answered.A]);
      if (isPut && url.pathname.endsWith('/ONLY-A')) await Promise.race([bPutShared, answered.B]);
      if (isPut && url.pathname.endsWith('/ONLY-B')) await answered.A;
      const res = await fetch(input, init);
      if (isPut && url.pathname.endsWith('/SHARED-QR')) (body.includes('PLATE A') ? sharedPutByA : sharedPutByB)();
      return res;
    };
    const { url } = await relay(
      {
        vipps: { baseUrl: sandbox.url, clientId: C.clientId, clientSecret: C.clientSecret, subscriptionKey: C.subscriptionKey, msn: C.msn },
        publicUrl: 'http://127.0.0.1:9',
      },
      { fetch: gated },
    );
    const put = (cab: 'A' | 'B') =>
      admin(url, 'PUT', `/admin/cabs/new-${cab}`, { psp: 'vipps', qrCodes: ['SHARED-QR', `ONLY-${cab}`], plate: `PLATE ${cab}`, label: `Taxi ${cab}` }).finally(
        () => answered.resolve[cab](),
      );
    const [a, b] = await Promise.all([put('A'), put('B')]);

    const statuses = [a.status, b.status].sort();
    expect(statuses, JSON.stringify([a.body, b.body])).toEqual([201, 409]);
    const winner = a.status === 201 ? 'A' : 'B';
    const loser = winner === 'A' ? b : a;
    expect(loser.body.error.code).toMatch(/^qr_code_(busy|taken)$/);
    const cabs = (await admin(url, 'GET', '/admin/cabs')).body.cabs as { cabId: string; qrCodes: string[] }[];
    expect(cabs.map((c) => [c.cabId, c.qrCodes])).toEqual([[`new-${winner}`, ['ONLY-' + winner, 'SHARED-QR'].sort()]]);
    const token = await accessToken(sandbox.url);
    const atVipps = await req(sandbox.url, 'GET', '/qr/v1/merchant-callback/SHARED-QR', {
      headers: { authorization: `Bearer ${token}`, 'Ocp-Apim-Subscription-Key': C.subscriptionKey, 'Merchant-Serial-Number': C.msn },
    });
    expect(atVipps.body.locationDescription).toBe(`PLATE ${winner}`);
  });

  it('QrClaims: a code is reserved by one claim at a time, until released or run out; a registered code is its owner’s', () => {
    const db = openRelayDatabase(path.join(tempDir('cabpay-claims-'), 'relay.db'));
    try {
      const claims = new QrClaims(db);
      const first = claims.acquire('cab-1', ['Q1', 'Q2'], 1_000);
      expect(first).toMatchObject({ ok: true });
      expect(claims.acquire('cab-2', ['Q2'], 1_001)).toEqual({ ok: false, qrCode: 'Q2', cabId: 'cab-1', reason: 'being_set_up' });
      expect(claims.stillHeld((first as { claimId: string }).claimId, ['Q1', 'Q2'], 1_002)).toBe(true);
      // A claim left by a relay that died runs out.
      expect(claims.acquire('cab-2', ['Q2'], 1_000 + QR_CLAIM_TTL_MS)).toMatchObject({ ok: true });
      expect(claims.stillHeld((first as { claimId: string }).claimId, ['Q1', 'Q2'], 1_000 + QR_CLAIM_TTL_MS)).toBe(false);
      db.prepare(`INSERT INTO cabs (cab_id, psp, plate, label, token_hash, created_at) VALUES ('cab-9', 'vipps', 'P', 'L', 'h', 'now')`).run();
      db.prepare(`INSERT INTO cab_qr_codes (qr_code, cab_id) VALUES ('Q9', 'cab-9')`).run();
      expect(claims.acquire('cab-3', ['Q9'], 2_000)).toEqual({ ok: false, qrCode: 'Q9', cabId: 'cab-9', reason: 'owned' });
      const own = claims.acquire('cab-9', ['Q9'], 2_000);
      expect(own).toMatchObject({ ok: true });
      claims.release((own as { claimId: string }).claimId);
      expect(claims.acquire('cab-9', ['Q9'], 2_001)).toMatchObject({ ok: true });
    } finally {
      db.close();
    }
  });
});
