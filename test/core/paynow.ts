/** Real PayNow (EMVCo) payment codes, made by an independent generator, for payment.qr tests. */
import paynowModule from '@chewhx/paynowqr';

// A CommonJS build: Node hands over module.exports, bundlers its `default`.
const PaynowQR = ((paynowModule as unknown as { default?: typeof paynowModule }).default ?? paynowModule) as typeof paynowModule;

/** The UEN the generated codes pay unless told otherwise. */
export const FLEET_UEN = '201403121W';

/** A PayNow QR asking for `amountMinor` cents (SGD), not editable unless said. */
export function paynowQr(amountMinor: number, options: { uen?: string; editable?: boolean } = {}): string {
  return new PaynowQR({
    uen: options.uen ?? FLEET_UEN,
    amount: amountMinor / 100,
    editable: options.editable ?? false,
    expiry: '20991231',
    refNumber: 'cabpay-test',
    company: 'cabpay test fleet',
  }).output();
}
