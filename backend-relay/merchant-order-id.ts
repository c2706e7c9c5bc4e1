/** The merchant order id is `<cabId>.<rideId>`; the relay routes order hooks by it. */
import { cabId as cabIdSchema } from '../protocol/relay-protocol.js';

/** Split at the first '.'; null when the prefix cannot be a cab id or there is no ride id. */
export function cabIdFromMerchantOrderId(merchantOrderId: string): string | null {
  const dot = merchantOrderId.indexOf('.');
  if (dot <= 0 || dot === merchantOrderId.length - 1) return null;
  const candidate = merchantOrderId.slice(0, dot);
  return cabIdSchema.safeParse(candidate).success ? candidate : null;
}
