/**
 * A capture whose answer never came (a timeout, a crash) is looked up at the PSP before it is
 * sent again: the relay-made payments (payment-service.ts) and the pre-authorization settlement
 * (preauth-service.ts) both mark a capture sent before the call and ask here on the next try.
 */
import type { Logger } from 'pino';
import type { CabRecord } from '../store/relay-store.js';
import type { PaymentProvider, PspCallOutcome } from './payment-provider.js';

/**
 * Whether the PSP already captured `amount` of the payment: ok when it did, retry when the PSP
 * cannot tell now, null when it did not (or cannot say what it captured): the capture may be sent.
 */
export async function capturedAlready(
  provider: Pick<PaymentProvider, 'capturedSoFar'>,
  pspReference: string,
  amount: number,
  cab: CabRecord,
  logger: Pick<Logger, 'info'>,
): Promise<PspCallOutcome<null> | null> {
  if (!provider.capturedSoFar) return null;
  const captured = await provider.capturedSoFar(pspReference, cab);
  if (captured.kind === 'retry') return captured;
  if (captured.kind === 'ok' && captured.value >= amount) {
    logger.info({ cabId: cab.cabId, pspReference, captured: captured.value }, 'an unanswered capture was booked by the PSP; not sent again');
    return { kind: 'ok', value: null };
  }
  return null;
}
