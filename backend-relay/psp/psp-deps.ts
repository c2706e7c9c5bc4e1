/** What the relay hands every PSP adapter factory (`createVippsAdapter(config, deps)`, …). */
import type { Logger } from 'pino';

export interface PspDeps {
  logger: Logger;
  /** Durable key/value pairs in the relay database (e.g. the Vipps webhook id and secret). */
  meta: { get(key: string): Promise<string | null>; set(key: string, value: string): Promise<void> };
  /** The relay's public base URL without a trailing slash (RELAY_PUBLIC_URL, or the listening URL in tests). */
  publicUrl(): string;
  /** Tests may route calls elsewhere; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** How long one call to a PSP may take (RELAY_PSP_TIMEOUT_MS); a later answer is an unknown outcome. */
  timeoutMs?: number;
}
