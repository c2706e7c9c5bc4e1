/** Vipps, HitPay and Hips-refund settings come as groups; a partial group names what is missing. */
import { describe, expect, it } from 'vitest';
import { RelayConfigError, loadRelayConfig } from '../../backend-relay/config.js';
import { makeSigner, tempDir } from './helpers.js';

async function baseEnv() {
  const signer = await makeSigner(tempDir());
  return { RELAY_ADMIN_TOKEN: 'test-admin-token-0123456789', HIPS_PUBLIC_KEY_FILE: signer.pemFile, RELAY_DB: ':memory:' };
}

const VIPPS = {
  VIPPS_BASE_URL: 'https://apitest.vipps.no',
  VIPPS_CLIENT_ID: 'client',
  VIPPS_CLIENT_SECRET: 'secret',
  VIPPS_SUBSCRIPTION_KEY: 'sub',
  VIPPS_MSN: '123456',
};
const HITPAY = { HITPAY_BASE_URL: 'https://api.sandbox.hit-pay.com', HITPAY_API_KEY: 'key', HITPAY_SALT: 'salt' };

describe('relay payment configuration', () => {
  it('has no PSP groups by default', async () => {
    const c = loadRelayConfig(await baseEnv());
    expect(c.vipps).toBeUndefined();
    expect(c.hitpay).toBeUndefined();
    expect(c.hipsMerchant).toBeUndefined();
  });

  it('names the missing Vipps variables of a partial group', async () => {
    const { VIPPS_MSN: _msn, VIPPS_CLIENT_SECRET: _secret, ...partial } = VIPPS;
    const load = async () => loadRelayConfig({ ...(await baseEnv()), ...partial, RELAY_PUBLIC_URL: 'https://relay.example.com' });
    await expect(load()).rejects.toThrow(RelayConfigError);
    await expect(load()).rejects.toThrow(/Vipps MobilePay.*VIPPS_CLIENT_SECRET, VIPPS_MSN are missing/);
  });

  it('names the missing HitPay and Hips merchant-key variables', async () => {
    const env = await baseEnv();
    expect(() => loadRelayConfig({ ...env, HITPAY_API_KEY: 'k', RELAY_PUBLIC_URL: 'https://r.example.com' })).toThrow(
      /HitPay.*HITPAY_BASE_URL, HITPAY_SALT are missing/,
    );
    expect(() => loadRelayConfig({ ...env, HIPS_API_URL: 'https://api.hips.com' })).toThrow(/Hips with the merchant key.*HIPS_MERCHANT_KEY is missing/);
  });

  it('requires RELAY_PUBLIC_URL with Vipps or HitPay', async () => {
    const env = await baseEnv();
    expect(() => loadRelayConfig({ ...env, ...HITPAY })).toThrow(/RELAY_PUBLIC_URL is required when HitPay/);
  });

  it('builds typed groups from complete ones', async () => {
    const c = loadRelayConfig({
      ...(await baseEnv()),
      ...VIPPS,
      ...HITPAY,
      VIPPS_WEBHOOK_SECRET: 'whsec',
      HIPS_API_URL: 'https://api.hips.com',
      HIPS_MERCHANT_KEY: 'mk',
      RELAY_PUBLIC_URL: 'https://relay.example.com',
    });
    expect(c.vipps).toMatchObject({ baseUrl: 'https://apitest.vipps.no', clientId: 'client', msn: '123456', webhookSecret: 'whsec', preauthorize: false });
    expect(c.hitpay).toEqual({ baseUrl: 'https://api.sandbox.hit-pay.com', apiKey: 'key', salt: 'salt', qrTtlSeconds: 600 });
    expect(c.hipsMerchant).toEqual({ apiUrl: 'https://api.hips.com', merchantKey: 'mk', orderTimeoutSeconds: 3_600, paymentTimeoutSeconds: 900 });
    expect(c).toMatchObject({ reconcileAfterMs: 120_000, reconcileEveryMs: 30_000 });
  });

  it('reads the QR timeouts and the reconciliation timers, and names a bad one', async () => {
    const env = { ...(await baseEnv()), HIPS_API_URL: 'https://api.hips.com', HIPS_MERCHANT_KEY: 'mk' };
    const c = loadRelayConfig({
      ...env,
      HIPS_QR_ORDER_TIMEOUT_S: '600',
      HIPS_QR_PAYMENT_TIMEOUT_S: '120',
      RELAY_RECONCILE_AFTER_S: '45',
      RELAY_RECONCILE_EVERY_S: '5',
    });
    expect(c.hipsMerchant).toMatchObject({ orderTimeoutSeconds: 600, paymentTimeoutSeconds: 120 });
    expect(c).toMatchObject({ reconcileAfterMs: 45_000, reconcileEveryMs: 5_000 });
    expect(() => loadRelayConfig({ ...env, RELAY_RECONCILE_AFTER_S: '0' })).toThrow(/RELAY_RECONCILE_AFTER_S must be at least 1|RELAY_RECONCILE_AFTER_S.*1/);
    expect(() => loadRelayConfig({ ...env, HIPS_QR_ORDER_TIMEOUT_S: '7200' })).toThrow(/HIPS_QR_ORDER_TIMEOUT_S/);
  });

  it('reads RELAY_PSP_TIMEOUT_MS (10 s by default) and names a bad one', async () => {
    const env = await baseEnv();
    expect(loadRelayConfig(env).pspTimeoutMs).toBe(10_000);
    expect(loadRelayConfig({ ...env, RELAY_PSP_TIMEOUT_MS: '2500' }).pspTimeoutMs).toBe(2_500);
    expect(() => loadRelayConfig({ ...env, RELAY_PSP_TIMEOUT_MS: '5' })).toThrow(/RELAY_PSP_TIMEOUT_MS/);
    expect(() => loadRelayConfig({ ...env, RELAY_PSP_TIMEOUT_MS: 'soon' })).toThrow(/RELAY_PSP_TIMEOUT_MS/);
  });

  it('keeps a Vipps webhook secret alone, for verifying hooks registered out of band', async () => {
    const c = loadRelayConfig({ ...(await baseEnv()), VIPPS_WEBHOOK_SECRET: 'whsec' });
    expect(c.vipps).toBeUndefined();
    expect(c.vippsWebhookSecret).toBe('whsec');
  });
});

describe('PSP registry', () => {
  it('mounts the HitPay and Vipps webhooks when configured (Vipps with the secret alone)', async () => {
    const { buildRelayApp } = await import('../../backend-relay/app.js');
    const { createLogger } = await import('../../backend-relay/logger.js');
    const { relayConfig } = await import('./helpers.js');
    const dir = tempDir();
    const app = await buildRelayApp(
      relayConfig(dir, await makeSigner(dir), {
        hitpay: { baseUrl: 'http://127.0.0.1:9', apiKey: 'k', salt: 's' },
        vippsWebhookSecret: 'whsec',
        publicUrl: 'https://relay.example.com',
      }),
      { logger: createLogger('silent') },
    );
    try {
      await app.fastify.ready();
      const routes = app.fastify.printRoutes({ commonPrefix: false });
      expect(routes).toContain('/webhooks/hitpay');
      expect(routes).toMatch(/\/webhooks\/vipps/);
      // An unsigned HitPay hook is refused, not a 404.
      const res = await app.fastify.inject({ method: 'POST', url: '/webhooks/hitpay', headers: { 'content-type': 'application/json' }, payload: '{"id":"x"}' });
      expect([400, 401]).toContain(res.statusCode);
    } finally {
      await app.close();
    }
  });
});
