/** Relay configuration, read from the environment and validated once at start (docs/relay.md, Environment). */
import { mkdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { localeName } from '../protocol/kiosk-api.js';
import { ACK_TIMEOUT_MS } from '../protocol/relay-protocol.js';
import { readTlsMaterial } from './tls.js';
import { WRITE_METHODS } from './store/store-writer-protocol.js';
import { cabQuotasSchema } from './cab-quotas.js';
import { limitSetting } from './rate-limits.js';
import { parseSecretsKey } from './secret-box.js';
import { zodIssuesText } from '../protocol/zod-issues.js';
import { consoleConfigSchema } from './console/console-config.js';

const intFromEnv = (min: number, max: number) => z.coerce.number().int(`must be a whole number`).min(min).max(max);

/** The environment variables as they arrive (strings), mapped to typed settings. */
export const relayEnvSchema = z.object({
  RELAY_PORT: intFromEnv(0, 65_535).default(8787),
  RELAY_HOST: z.string().min(1).default('127.0.0.1'),
  RELAY_DB: z.string().min(1).default('.cabpay/relay.db'),
  RELAY_PUBLIC_URL: z.url('must be an absolute URL such as https://relay.example.com').optional(),
  RELAY_ADMIN_TOKEN: z.string({ error: 'is required: set a random secret of at least 16 characters' }).min(16, 'must be at least 16 characters'),
  /** Bearer token for GET /metrics; unset: /metrics is off. */
  RELAY_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (a random secret for the Prometheus scraper)').optional(),
  HIPS_PUBLIC_KEY_FILE: z.string({ error: 'is required: the path of the Hips (or sandbox) public key PEM' }).min(1),
  RELAY_CAB_STALE_S: intFromEnv(1, 86_400).default(90),
  RELAY_LOCALE: localeName.default('sv'),
  RELAY_ACK_TIMEOUT_MS: intFromEnv(50, 600_000).default(ACK_TIMEOUT_MS),
  RELAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Published kiosk releases, one folder per version; unset: no update feed. */
  RELAY_UPDATES_DIR: z.string().min(1).optional(),
  /** The fleet as printed on digital receipts. */
  RELAY_FLEET_NAME: z.string().trim().min(1).max(100).default('cabpay demo fleet'),
  RELAY_FLEET_ORG_NUMBER: z.string().trim().min(1).max(40).optional(),
  /** Receipt times are shown in this IANA time zone. */
  RELAY_TIME_ZONE: z.string().min(1).default('Europe/Stockholm'),
  /** How long a receipt link works (days from its first publish), then the receipt is pruned. */
  RELAY_RECEIPT_RETENTION_DAYS: intFromEnv(7, 3650).default(180),
  // Vipps MobilePay: all five (plus RELAY_PUBLIC_URL) to make payments; the secret alone verifies hooks.
  VIPPS_BASE_URL: z.url('must be an absolute URL such as https://apitest.vipps.no').optional(),
  VIPPS_CLIENT_ID: z.string().min(1).optional(),
  VIPPS_CLIENT_SECRET: z.string().min(1).optional(),
  VIPPS_SUBSCRIPTION_KEY: z.string().min(1).optional(),
  VIPPS_MSN: z.string().min(1).optional(),
  VIPPS_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** `true`: authorize first and capture the fare after the ride (Vipps pre-authorization). */
  VIPPS_PREAUTHORIZE: z.enum(['true', 'false', '1', '0']).optional(),
  /** With VIPPS_PREAUTHORIZE: what is reserved at check-in, in minor units, the largest fare plus tip (60000 = 600 NOK). */
  VIPPS_PREAUTH_AMOUNT: intFromEnv(100, 100_000_000).optional(),
  /** The reservation's currency (the fleet's fare currency); NOK when unset. */
  VIPPS_PREAUTH_CURRENCY: z.enum(['NOK', 'DKK', 'EUR'], { error: 'must be NOK, DKK or EUR (the currencies Vipps MobilePay takes)' }).optional(),
  /** How long a pushed Vipps payment waits for the passenger (Vipps' own expiry): the payment's deadline. */
  VIPPS_PAYMENT_TTL_S: intFromEnv(30, 3_600).optional(),
  // HitPay: all three (plus RELAY_PUBLIC_URL) or none.
  HITPAY_BASE_URL: z.url('must be an absolute URL such as https://api.sandbox.hit-pay.com').optional(),
  HITPAY_API_KEY: z.string().min(1).optional(),
  HITPAY_SALT: z.string().min(1).optional(),
  HITPAY_QR_TTL_S: intFromEnv(60, 86_400).optional(),
  /** A payment or order still without its PSP's outcome this long after it was made is asked about at the PSP. */
  RELAY_RECONCILE_AFTER_S: intFromEnv(1, 86_400).default(120),
  /** How often the relay looks for such payments (also once at start). */
  RELAY_RECONCILE_EVERY_S: intFromEnv(1, 3_600).default(30),
  /** Console sessions: idle minutes and the longest one lasts, in seconds. */
  RELAY_CONSOLE_SESSION_IDLE_S: intFromEnv(60, 86_400).default(1_800),
  RELAY_CONSOLE_SESSION_MAX_S: intFromEnv(300, 7 * 86_400).default(43_200),
  /** The built console (npm run build:console); default console/dist. */
  RELAY_CONSOLE_DIR: z.string().min(1).optional(),
  /** How long the relay waits for a PSP's answer to one call; a later answer is an unknown outcome, looked up before anything else. */
  RELAY_PSP_TIMEOUT_MS: intFromEnv(100, 120_000).default(10_000),
  // Hips with the merchant key (refunds, reconciliation, QR setup): both or none.
  HIPS_API_URL: z.url('must be an absolute URL such as https://api.hips.com (or the sandbox)').optional(),
  HIPS_MERCHANT_KEY: z.string().min(1).optional(),
  // HTTPS served by the relay itself (a single node without a proxy): both or none.
  RELAY_TLS_CERT_FILE: z.string().min(1).optional(),
  RELAY_TLS_KEY_FILE: z.string().min(1).optional(),
  /** A fault drill for the relay's supervision; refused with NODE_ENV=production. */
  RELAY_DEBUG_WRITER_EXIT_ON: z.enum(WRITE_METHODS, { error: `must name a store write: ${WRITE_METHODS.join(', ')}` }).optional(),
  NODE_ENV: z.string().optional(),
  /** 32 bytes (hex or base64) that seal the secrets kept in RELAY_DB; unset: they stay plain (warned at start). */
  RELAY_SECRETS_KEY: z.string().min(1).optional(),
  /** The QRs the relay sets up: how long a scan waits for its order, and the passenger for the payment. */
  HIPS_QR_ORDER_TIMEOUT_S: intFromEnv(1, 3_600).default(3_600),
  HIPS_QR_PAYMENT_TIMEOUT_S: intFromEnv(1, 3_600).default(900),
});

export const vippsConfigSchema = z
  .object({
    baseUrl: z.url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    subscriptionKey: z.string().min(1),
    /** Merchant serial number. */
    msn: z.string().min(1),
    /** Set when the webhook was registered out of band; otherwise start() registers one. */
    webhookSecret: z.string().min(1).optional(),
    preauthorize: z.boolean().optional(),
    /** Minor units reserved at check-in when `preauthorize` (required then): the largest fare plus tip. */
    preauthAmount: z.number().int().min(100, 'must be at least 100 (minor units; Vipps takes no less)').max(100_000_000).optional(),
    preauthCurrency: z.enum(['NOK', 'DKK', 'EUR']).default('NOK'),
    /** How long a pushed payment waits for the passenger before the relay cancels it (Vipps expires it after 5 minutes). */
    paymentTtlSeconds: z.number().int().min(30).max(3_600).default(300),
  })
  .refine((v) => !v.preauthorize || v.preauthAmount !== undefined, {
    path: ['preauthAmount'],
    message: 'is required when preauthorize is on: the most a ride may cost, tip included, in minor units (VIPPS_PREAUTH_AMOUNT=60000 for 600 NOK)',
  });
export type VippsConfig = z.output<typeof vippsConfigSchema>;

export const hitpayConfigSchema = z.object({
  baseUrl: z.url(),
  apiKey: z.string().min(1),
  salt: z.string().min(1),
  /** How long a dynamic PayNow QR stays payable. */
  qrTtlSeconds: z.number().int().min(60).max(86_400).default(600),
});
export type HitpayConfig = z.output<typeof hitpayConfigSchema>;

export const hipsMerchantConfigSchema = z.object({
  apiUrl: z.url(),
  merchantKey: z.string().min(1),
  /** Set on the QRs the relay connects (`order_timeout_seconds`): a taxi scan may come long before the fare is known. */
  orderTimeoutSeconds: z.number().int().min(1).max(3_600).default(3_600),
  /** `payment_timeout_seconds`: how long the passenger has to pay once the order exists. */
  paymentTimeoutSeconds: z.number().int().min(1).max(3_600).default(900),
});
export type HipsMerchantConfig = z.output<typeof hipsMerchantConfigSchema>;

/** The typed configuration the app is built from. Tests construct it directly. */
export const relayConfigSchema = z.object({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1),
  dbPath: z.string().min(1),
  publicUrl: z.url().optional(),
  adminToken: z.string().min(16),
  /** Bearer token of GET /metrics; unset: /metrics answers 404 saying how to turn it on. */
  metricsToken: z.string().min(16).optional(),
  /** What one client may do; the defaults are documented in docs/relay.md (Limits). */
  limits: z
    .object({
      /** Wrong admin (or metrics) tokens per address, then 429 until the window ends. */
      adminAuthFailures: limitSetting.default({ points: 10, durationS: 900 }),
      /** Receipt pages not found per address (token guesses), then 429. */
      receiptMisses: limitSetting.default({ points: 30, durationS: 600 }),
      /** Failed tablet handshakes per address, then `rate_limited` without a token check. */
      handshakeFailures: limitSetting.default({ points: 30, durationS: 60 }),
      /** Messages a cab's tablet may send, all kinds together, then `rate_limited` unprocessed. */
      cabMessages: limitSetting.default({ points: 600, durationS: 60 }),
    })
    .prefault({}),
  /** PEM text of the SPKI public key Hips webhooks are signed with. */
  hipsPublicKeyPem: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be an SPKI PEM (BEGIN PUBLIC KEY)' }),
  cabStaleSeconds: z.number().int().positive(),
  locale: localeName,
  ackTimeoutMs: z.number().int().positive(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** Acked events older than this are pruned; unacked ones are kept. At least 7 days. */
  retentionMs: z
    .number()
    .int()
    .positive()
    .default(7 * 24 * 3600 * 1000),
  /** Receipts first received longer ago than this are pruned (their links then show the 404 page). */
  receiptRetentionMs: z
    .number()
    .int()
    .positive()
    .default(180 * 24 * 3600 * 1000),
  /** What one cab may store and ask for (receipts, payment requests); see cab-quotas.ts. */
  cabQuotas: cabQuotasSchema.prefault({}),
  /** Folder of published releases (electron-builder output, one folder per version). */
  updatesDir: z.string().min(1).optional(),
  /** Receipts: the fleet's name and organisation number, and the time zone of the times. */
  fleetName: z.string().min(1).max(100).default('cabpay demo fleet'),
  fleetOrgNumber: z.string().min(1).max(40).optional(),
  timeZone: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Stockholm')
    .default('Europe/Stockholm'),
  vipps: vippsConfigSchema.optional(),
  /** Vipps hooks can be verified with the secret alone (registered out of band) even without `vipps`. */
  vippsWebhookSecret: z.string().min(1).optional(),
  hitpay: hitpayConfigSchema.optional(),
  hipsMerchant: hipsMerchantConfigSchema.optional(),
  /** Relay-made payments: how often expired payment requests are looked for. */
  paymentSweepMs: z.number().int().positive().default(5000),
  /** PEM files the relay serves HTTPS with; reloaded on SIGHUP and when they change (tls.ts). */
  tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  /**
   * A fault drill, never for production: the store's writer thread ends, as a crash would,
   * when asked for this write; the relay must then exit non-zero (and its supervisor restart it).
   */
  debugWriterExitOn: z.enum(WRITE_METHODS).optional(),
  /** Seals the secrets kept in the database (backend-relay/secret-box.ts); unset: they stay plain. */
  secretsKey: z
    .string()
    .refine(
      (text) => {
        try {
          parseSecretsKey(text);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'RELAY_SECRETS_KEY must be 32 random bytes, as 64 hex digits or 44 base64 characters (make one with: openssl rand -base64 32)' },
    )
    .optional(),
  /** Reconciliation: a payment without its PSP's outcome this long after it was made is asked about at the PSP. */
  reconcileAfterMs: z.number().int().positive().default(120_000),
  /** Reconciliation: how often due payments are looked for. */
  reconcileEveryMs: z.number().int().positive().default(30_000),
  /** The fleet console: session lengths, login lockout, where its built files are. */
  console: consoleConfigSchema.prefault({}),
  /** RELAY_PSP_TIMEOUT_MS. */
  pspTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});
export type RelayConfig = z.input<typeof relayConfigSchema>;
export type ResolvedRelayConfig = z.output<typeof relayConfigSchema>;

/** Thrown with a message that names each bad variable and what to do about it. */
export class RelayConfigError extends Error {
  override name = 'RelayConfigError';
}

export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env): ResolvedRelayConfig {
  const parsed = relayEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    throw new RelayConfigError(`Invalid relay configuration: ${problems}`);
  }
  const e = parsed.data;
  let pem: string;
  try {
    pem = readFileSync(e.HIPS_PUBLIC_KEY_FILE, 'utf8');
  } catch (err) {
    throw new RelayConfigError(`HIPS_PUBLIC_KEY_FILE cannot be read (${(err as Error).message}): point it at the PEM public key webhooks are signed with`);
  }
  if (e.RELAY_UPDATES_DIR !== undefined) {
    try {
      mkdirSync(e.RELAY_UPDATES_DIR, { recursive: true });
    } catch (err) {
      throw new RelayConfigError(`RELAY_UPDATES_DIR cannot be created (${(err as Error).message}): point it at a writable folder for published releases`);
    }
  }
  const preauthOn = e.VIPPS_PREAUTHORIZE === 'true' || e.VIPPS_PREAUTHORIZE === '1';
  if (preauthOn && e.VIPPS_PREAUTH_AMOUNT === undefined) {
    throw new RelayConfigError(
      'Invalid relay configuration: VIPPS_PREAUTH_AMOUNT is required when VIPPS_PREAUTHORIZE=true: set the most a ride may cost, tip included, in minor units (60000 = 600 NOK), or unset VIPPS_PREAUTHORIZE',
    );
  }
  if (e.RELAY_DEBUG_WRITER_EXIT_ON !== undefined && e.NODE_ENV === 'production') {
    throw new RelayConfigError(
      'Invalid relay configuration: RELAY_DEBUG_WRITER_EXIT_ON is a fault drill that makes the relay exit, refused with NODE_ENV=production: unset it',
    );
  }
  const psps = pspGroups(e);
  if (preauthOn && !psps.vipps) {
    throw new RelayConfigError(
      `Invalid relay configuration: VIPPS_PREAUTHORIZE=true needs the Vipps MobilePay API group (${VIPPS_VARS.join(', ')}): the relay makes the reservations`,
    );
  }
  if ((psps.vipps || psps.hitpay) && !e.RELAY_PUBLIC_URL) {
    throw new RelayConfigError(
      `Invalid relay configuration: RELAY_PUBLIC_URL is required when ${psps.vipps ? 'Vipps MobilePay' : 'HitPay'} is configured: its webhooks must reach the relay at that address`,
    );
  }
  return resolveRelayConfig({
    ...psps,
    port: e.RELAY_PORT,
    host: e.RELAY_HOST,
    dbPath: e.RELAY_DB,
    publicUrl: e.RELAY_PUBLIC_URL,
    adminToken: e.RELAY_ADMIN_TOKEN,
    metricsToken: e.RELAY_METRICS_TOKEN,
    hipsPublicKeyPem: pem,
    cabStaleSeconds: e.RELAY_CAB_STALE_S,
    locale: e.RELAY_LOCALE,
    ackTimeoutMs: e.RELAY_ACK_TIMEOUT_MS,
    logLevel: e.RELAY_LOG_LEVEL,
    updatesDir: e.RELAY_UPDATES_DIR,
    fleetName: e.RELAY_FLEET_NAME,
    fleetOrgNumber: e.RELAY_FLEET_ORG_NUMBER,
    timeZone: e.RELAY_TIME_ZONE,
    tls: tlsFiles(e),
    debugWriterExitOn: e.RELAY_DEBUG_WRITER_EXIT_ON,
    receiptRetentionMs: e.RELAY_RECEIPT_RETENTION_DAYS * 24 * 3600 * 1000,
    secretsKey: e.RELAY_SECRETS_KEY,
    reconcileAfterMs: e.RELAY_RECONCILE_AFTER_S * 1000,
    reconcileEveryMs: e.RELAY_RECONCILE_EVERY_S * 1000,
    console: { sessionIdleS: e.RELAY_CONSOLE_SESSION_IDLE_S, sessionMaxS: e.RELAY_CONSOLE_SESSION_MAX_S, dir: e.RELAY_CONSOLE_DIR },
    pspTimeoutMs: e.RELAY_PSP_TIMEOUT_MS,
  });
}

const TLS_VARS = ['RELAY_TLS_CERT_FILE', 'RELAY_TLS_KEY_FILE'] as const;

/** Both files are read and checked now, so a bad pair stops the start with a clear message. */
function tlsFiles(e: z.output<typeof relayEnvSchema>): RelayConfig['tls'] {
  const files = group(e, TLS_VARS, 'HTTPS');
  if (!files) return undefined;
  const tls = { certFile: files.RELAY_TLS_CERT_FILE, keyFile: files.RELAY_TLS_KEY_FILE };
  const material = readTlsMaterial(tls);
  if (!material.ok) throw new RelayConfigError(`Invalid relay configuration: ${material.error.message}`);
  return tls;
}

/** A group of variables must be set as a whole; a partial group names what is missing. */
function group<K extends string>(env: Record<string, unknown>, names: readonly K[], what: string): Record<K, string> | undefined {
  const set = names.filter((n) => env[n] !== undefined);
  if (set.length === 0) return undefined;
  const missing = names.filter((n) => env[n] === undefined);
  if (missing.length > 0) {
    throw new RelayConfigError(
      `Invalid relay configuration: ${what} needs ${names.join(', ')}; ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. Set ${missing.length === 1 ? 'it' : 'them'}, or unset the others.`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, env[n] as string])) as Record<K, string>;
}

const VIPPS_VARS = ['VIPPS_BASE_URL', 'VIPPS_CLIENT_ID', 'VIPPS_CLIENT_SECRET', 'VIPPS_SUBSCRIPTION_KEY', 'VIPPS_MSN'] as const;
const HITPAY_VARS = ['HITPAY_BASE_URL', 'HITPAY_API_KEY', 'HITPAY_SALT'] as const;
const HIPS_MERCHANT_VARS = ['HIPS_API_URL', 'HIPS_MERCHANT_KEY'] as const;

function pspGroups(e: z.output<typeof relayEnvSchema>): Pick<RelayConfig, 'vipps' | 'vippsWebhookSecret' | 'hitpay' | 'hipsMerchant'> {
  const vipps = group(e, VIPPS_VARS, 'Vipps MobilePay');
  const hitpay = group(e, HITPAY_VARS, 'HitPay');
  const hips = group(e, HIPS_MERCHANT_VARS, 'Hips with the merchant key (refunds, reconciliation, QR setup)');
  return {
    vipps: vipps && {
      baseUrl: vipps.VIPPS_BASE_URL,
      clientId: vipps.VIPPS_CLIENT_ID,
      clientSecret: vipps.VIPPS_CLIENT_SECRET,
      subscriptionKey: vipps.VIPPS_SUBSCRIPTION_KEY,
      msn: vipps.VIPPS_MSN,
      webhookSecret: e.VIPPS_WEBHOOK_SECRET,
      preauthorize: e.VIPPS_PREAUTHORIZE === 'true' || e.VIPPS_PREAUTHORIZE === '1',
      preauthAmount: e.VIPPS_PREAUTH_AMOUNT,
      preauthCurrency: e.VIPPS_PREAUTH_CURRENCY ?? 'NOK',
      paymentTtlSeconds: e.VIPPS_PAYMENT_TTL_S,
    },
    vippsWebhookSecret: e.VIPPS_WEBHOOK_SECRET,
    hitpay: hitpay && {
      baseUrl: hitpay.HITPAY_BASE_URL,
      apiKey: hitpay.HITPAY_API_KEY,
      salt: hitpay.HITPAY_SALT,
      qrTtlSeconds: e.HITPAY_QR_TTL_S,
    },
    hipsMerchant: hips && {
      apiUrl: hips.HIPS_API_URL,
      merchantKey: hips.HIPS_MERCHANT_KEY,
      orderTimeoutSeconds: e.HIPS_QR_ORDER_TIMEOUT_S,
      paymentTimeoutSeconds: e.HIPS_QR_PAYMENT_TIMEOUT_S,
    },
  };
}

/** Validates a config built in code (tests, scripts) with the same rules. */
export function resolveRelayConfig(config: RelayConfig): ResolvedRelayConfig {
  const parsed = relayConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    const hint = parsed.error.issues.some((i) => i.path[0] === 'hipsPublicKeyPem') ? ' (HIPS_PUBLIC_KEY_FILE)' : '';
    throw new RelayConfigError(`Invalid relay configuration${hint}: ${problems}`);
  }
  const c = parsed.data;
  // The secret inside `vipps` is the one hooks are verified with; keep both spellings in step.
  if (c.vipps && !c.vipps.webhookSecret && c.vippsWebhookSecret) c.vipps.webhookSecret = c.vippsWebhookSecret;
  if (c.vipps?.webhookSecret && !c.vippsWebhookSecret) c.vippsWebhookSecret = c.vipps.webhookSecret;
  return c;
}
