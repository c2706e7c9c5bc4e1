/**
 * The demo merchant's credentials and the sandbox's Vipps timings. Timings are in memory and set
 * through `POST /sandbox/vipps/settings` (tests shorten them); a restart restores the defaults.
 */
import { z } from 'zod';

export const VIPPS_DEMO_CLIENT_ID = '6c0a8f5e-cab0-4d2e-9f3a-5a9d0e1b2c3d';
export const VIPPS_DEMO_CLIENT_SECRET = 'c2FuZGJveC12aXBwcy1zZWNyZXQ=';
export const VIPPS_DEMO_SUBSCRIPTION_KEY = '0f14ebcab0ec4b29ae0cb90d91b4a84a';
export const VIPPS_DEMO_MSN = '123456';

export interface VippsCredentials {
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  msn: string;
}

export const VIPPS_DEMO_CREDENTIALS: VippsCredentials = {
  clientId: VIPPS_DEMO_CLIENT_ID,
  clientSecret: VIPPS_DEMO_CLIENT_SECRET,
  subscriptionKey: VIPPS_DEMO_SUBSCRIPTION_KEY,
  msn: VIPPS_DEMO_MSN,
};

const seconds = z
  .number()
  .int()
  .min(1)
  .max(86_400 * 30);
const ms = z.number().int().min(0).max(600_000);

export const vippsSettingsRequest = z.strictObject({
  /** Access token lifetime (test environment: 3600 s). */
  accessTokenTtlSeconds: seconds.optional(),
  /** How long a check-in's customer token can start payments (about 15 minutes). */
  checkInTokenTtlSeconds: seconds.optional(),
  /** A payment not approved within this is EXPIRED (5 minutes). */
  paymentExpirySeconds: seconds.optional(),
  /** One delivery attempt waits this long for a reply. */
  webhookAttemptTimeoutMs: z.number().int().min(50).max(60_000).optional(),
  /** Waits before attempt 2, 3, …; the last repeats. */
  webhookBackoffMs: z.array(ms).min(1).max(20).optional(),
  webhookMaxAttempts: z.number().int().min(1).max(50).optional(),
});
export type VippsSettingsRequest = z.infer<typeof vippsSettingsRequest>;

export interface VippsSettings {
  accessTokenTtlSeconds: number;
  checkInTokenTtlSeconds: number;
  paymentExpirySeconds: number;
  webhookAttemptTimeoutMs: number;
  webhookBackoffMs: number[];
  webhookMaxAttempts: number;
}

export const defaultVippsSettings = (): VippsSettings => ({
  accessTokenTtlSeconds: 3600,
  checkInTokenTtlSeconds: 15 * 60,
  paymentExpirySeconds: 5 * 60,
  webhookAttemptTimeoutMs: 10_000,
  webhookBackoffMs: [1000, 5000, 30_000, 60_000, 300_000],
  webhookMaxAttempts: 6,
});
