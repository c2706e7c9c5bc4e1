/**
 * The cab's experience settings that live in the kiosk config file next to the fields of
 * `config.ts` (read from the same JSON; unknown keys there are ignored): the driver-settings
 * PIN hash, the cab's home position for the automatic day/night theme, and where receipts are
 * published. Validated with zod; every error names the field and what to do.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PIN_HASH_PATTERN } from './pin.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export const driverConfigSchema = z.object({
  /** scrypt hash of the driver-settings PIN (see pin.ts, `hashPin`). Unset: settings stay locked. */
  driverPinHash: z.string().regex(PIN_HASH_PATTERN, 'must be an scrypt hash made by hashPin() in electron/core/pin.ts, never the PIN itself').optional(),
  /** Where the cab works, for sunrise and sunset (auto theme). Unset: day is 07:00–19:00. */
  latitude: z.number().min(-90).max(90).optional(),
  longitude: z.number().min(-180).max(180).optional(),
  /** The relay's public base URL for receipt links; defaults to relayUrl. */
  receiptBaseUrl: z.url().optional(),
});
export type DriverConfig = z.infer<typeof driverConfigSchema>;

/** Reads the experience fields from the kiosk config file. */
export function loadDriverConfig(path: string): DriverConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the kiosk config ${path}: ${(err as Error).message}.`, { cause: err });
  }
  return parseDriverConfig(raw, path);
}

export function parseDriverConfig(raw: unknown, source = 'the kiosk config'): DriverConfig {
  const parsed = driverConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    throw new Error(`${source} has invalid driver settings: ${problems}`);
  }
  const config = parsed.data;
  if ((config.latitude === undefined) !== (config.longitude === undefined))
    throw new Error(`${source}: set both latitude and longitude (decimal degrees), or neither.`);
  return config;
}
