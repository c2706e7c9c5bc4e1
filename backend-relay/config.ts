/** Relay configuration (DESIGN.md §4.1), read from the environment and validated once at start. */
import { mkdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { localeName } from '../protocol/kiosk-api.js';
import { ACK_TIMEOUT_MS } from '../protocol/relay-protocol.js';

const intFromEnv = (min: number, max: number) =>
  z.coerce.number().int(`must be a whole number`).min(min).max(max);

/** The environment variables as they arrive (strings), mapped to typed settings. */
export const relayEnvSchema = z.object({
  RELAY_PORT: intFromEnv(0, 65_535).default(8787),
  RELAY_HOST: z.string().min(1).default('127.0.0.1'),
  RELAY_DB: z.string().min(1).default('.cabpay/relay.db'),
  RELAY_PUBLIC_URL: z.url('must be an absolute URL such as https://relay.example.com').optional(),
  RELAY_ADMIN_TOKEN: z
    .string({ error: 'is required: set a random secret of at least 16 characters' })
    .min(16, 'must be at least 16 characters'),
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
});

/** The typed configuration the app is built from. Tests construct it directly. */
export const relayConfigSchema = z.object({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1),
  dbPath: z.string().min(1),
  publicUrl: z.url().optional(),
  adminToken: z.string().min(16),
  /** PEM text of the SPKI public key Hips webhooks are signed with. */
  hipsPublicKeyPem: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be an SPKI PEM (BEGIN PUBLIC KEY)' }),
  cabStaleSeconds: z.number().int().positive(),
  locale: localeName,
  ackTimeoutMs: z.number().int().positive(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** Acked events older than this are pruned; unacked ones are kept. At least 7 days. */
  retentionMs: z.number().int().positive().default(7 * 24 * 3600 * 1000),
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
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new RelayConfigError(`Invalid relay configuration: ${problems}`);
  }
  const e = parsed.data;
  let pem: string;
  try {
    pem = readFileSync(e.HIPS_PUBLIC_KEY_FILE, 'utf8');
  } catch (err) {
    throw new RelayConfigError(
      `HIPS_PUBLIC_KEY_FILE cannot be read (${(err as Error).message}): point it at the PEM public key webhooks are signed with`,
    );
  }
  if (e.RELAY_UPDATES_DIR !== undefined) {
    try {
      mkdirSync(e.RELAY_UPDATES_DIR, { recursive: true });
    } catch (err) {
      throw new RelayConfigError(`RELAY_UPDATES_DIR cannot be created (${(err as Error).message}): point it at a writable folder for published releases`);
    }
  }
  return resolveRelayConfig({
    port: e.RELAY_PORT,
    host: e.RELAY_HOST,
    dbPath: e.RELAY_DB,
    publicUrl: e.RELAY_PUBLIC_URL,
    adminToken: e.RELAY_ADMIN_TOKEN,
    hipsPublicKeyPem: pem,
    cabStaleSeconds: e.RELAY_CAB_STALE_S,
    locale: e.RELAY_LOCALE,
    ackTimeoutMs: e.RELAY_ACK_TIMEOUT_MS,
    logLevel: e.RELAY_LOG_LEVEL,
    updatesDir: e.RELAY_UPDATES_DIR,
    fleetName: e.RELAY_FLEET_NAME,
    fleetOrgNumber: e.RELAY_FLEET_ORG_NUMBER,
    timeZone: e.RELAY_TIME_ZONE,
  });
}

/** Validates a config built in code (tests, scripts) with the same rules. */
export function resolveRelayConfig(config: RelayConfig): ResolvedRelayConfig {
  const parsed = relayConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    const hint = parsed.error.issues.some((i) => i.path[0] === 'hipsPublicKeyPem') ? ' (HIPS_PUBLIC_KEY_FILE)' : '';
    throw new RelayConfigError(`Invalid relay configuration${hint}: ${problems}`);
  }
  return parsed.data;
}
