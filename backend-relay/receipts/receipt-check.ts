/**
 * What a published receipt may claim. Its lines add up to the order amount, and the order
 * amount and tip to the total, whatever the method. A card/app receipt (`method: 'psp'`) names
 * a payment the relay itself recorded as paid (store/paid-payments.ts) for this cab and ride,
 * with the same PSP, currency, order amount, tip and total. A receipt paid another way
 * (`method: 'other'`, cash, a card terminal) has no PSP payment behind it: it must not name a
 * PSP or a PSP reference, and it must not be for a ride the relay knows was paid through a PSP.
 */
import type { ReceiptPayload } from '../../protocol/receipt.js';
import type { PspName } from '../../protocol/relay-protocol.js';
import type { PaidPayment } from '../store/paid-payments.js';

export interface PaidPaymentLookup {
  byPspOrder(psp: PspName, pspOrderId: string): PaidPayment | null;
  ofRide(cabId: string, rideId: string): PaidPayment[];
}

/** null when the receipt may be stored, else why not (for the driver's side and the log). */
export function receiptProblem(cabId: string, r: ReceiptPayload, paid: PaidPaymentLookup): string | null {
  const linesTotal = r.lines.reduce((sum, line) => sum + line.amount, 0);
  if (linesTotal !== r.orderAmount) return `the lines add up to ${linesTotal}, not the order amount ${r.orderAmount}`;
  if (r.orderAmount + r.tipAmount !== r.totalAmount) {
    return `order amount ${r.orderAmount} plus tip ${r.tipAmount} is ${r.orderAmount + r.tipAmount}, not the total ${r.totalAmount}`;
  }
  if (r.method === 'other') {
    if (r.psp !== null || r.pspReference !== null) return 'a receipt paid another way names no PSP and no PSP reference (psp and pspReference must be null)';
    const viaPsp = paid.ofRide(cabId, r.rideId);
    if (viaPsp.length > 0) return `ride ${r.rideId} was paid through ${viaPsp[0]!.psp}; publish its receipt with method "psp"`;
    return null;
  }
  if (r.psp === null || r.pspReference === null) return 'a card or app receipt names its PSP and the PSP reference of the payment (psp and pspReference)';
  const payment = paid.byPspOrder(r.psp, r.pspReference);
  if (!payment || payment.cabId !== cabId || payment.rideId !== r.rideId) {
    return `the relay has no ${r.psp} payment ${r.pspReference} recorded as paid for ride ${r.rideId} of this cab`;
  }
  const differs: string[] = [];
  if (payment.currency !== r.currency.toUpperCase()) differs.push(`currency ${r.currency}, paid in ${payment.currency}`);
  if (payment.orderAmount !== r.orderAmount) differs.push(`order amount ${r.orderAmount}, paid ${payment.orderAmount}`);
  if (payment.tipAmount !== r.tipAmount) differs.push(`tip ${r.tipAmount}, paid ${payment.tipAmount}`);
  if (payment.totalAmount !== r.totalAmount) differs.push(`total ${r.totalAmount}, paid ${payment.totalAmount}`);
  return differs.length > 0 ? `the receipt does not match the payment the relay recorded: ${differs.join('; ')}` : null;
}
