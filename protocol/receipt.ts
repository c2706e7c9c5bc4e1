/**
 * The digital receipt: what the tablet sends with `receipt.publish` and the
 * arithmetic the receipt page shows. Amounts are VAT-inclusive minor units, like order lines.
 */
import { z } from 'zod';
import { currencyCode, minorAmount, vatIncluded } from './money.js';
import { localeName } from './kiosk-api.js';
import { orderLine, pspName, type OrderLine } from './relay-protocol.js';

/** ≥128 random bits as base64url (16 bytes → 22 characters); unguessable, safe in a URL. */
export const receiptToken = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'base64url, at least 22 characters (128 bits)');

const isoTime = z.iso.datetime({ offset: true });

export const receiptPayload = z.object({
  rideId: z.string().min(1).max(100),
  /** `<cabId>.<rideId>`: the relay refuses one whose cab is not the sender. */
  merchantOrderId: z.string().min(1).max(200),
  token: receiptToken,
  driverId: z.string().min(1).max(40).nullable(),
  startedAt: isoTime,
  endedAt: isoTime,
  paidAt: isoTime,
  currency: currencyCode,
  lines: z.array(orderLine).min(1).max(50),
  orderAmount: minorAmount,
  tipAmount: minorAmount,
  totalAmount: minorAmount,
  method: z.enum(['psp', 'other']),
  /** Which PSP was paid through; null when paid another way. Only the relay's PSPs: the page names them. */
  psp: pspName.nullable(),
  /** The PSP's order id; null when paid another way. */
  pspReference: z.string().min(1).max(200).nullable(),
  /** The language the receipt page opens in (the passenger's at payment time). */
  locale: localeName,
});
export type ReceiptPayload = z.infer<typeof receiptPayload>;

export interface ReceiptLine extends OrderLine {
  vatAmount: number;
}
export interface VatGroup {
  rate: number;
  /** VAT-inclusive sum of the lines at this rate. */
  gross: number;
  vat: number;
  net: number;
}
export interface ReceiptTotals {
  lines: ReceiptLine[];
  vatByRate: VatGroup[];
  orderAmount: number;
  vatTotal: number;
  tipAmount: number;
  totalAmount: number;
}

/**
 * VAT per line (rounded per line, as each line is its own supply) and per rate. The tip is a
 * voluntary gift on top of the order, shown outside the VAT lines.
 */
export function receiptTotals(receipt: Pick<ReceiptPayload, 'lines' | 'tipAmount'>): ReceiptTotals {
  const lines = receipt.lines.map((line) => ({ ...line, vatAmount: vatIncluded(line.amount, line.vatRate) }));
  const byRate = new Map<number, VatGroup>();
  for (const line of lines) {
    const group = byRate.get(line.vatRate) ?? { rate: line.vatRate, gross: 0, vat: 0, net: 0 };
    group.gross += line.amount;
    group.vat += line.vatAmount;
    group.net = group.gross - group.vat;
    byRate.set(line.vatRate, group);
  }
  const orderAmount = lines.reduce((sum, l) => sum + l.amount, 0);
  return {
    lines,
    vatByRate: [...byRate.values()].sort((a, b) => b.rate - a.rate),
    orderAmount,
    vatTotal: lines.reduce((sum, l) => sum + l.vatAmount, 0),
    tipAmount: receipt.tipAmount,
    totalAmount: orderAmount + receipt.tipAmount,
  };
}

/** Where the receipt page lives: `<relay public URL>/receipts/<token>`. */
export function receiptUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/receipts/${token}`;
}

/** The relay's answer to `receipt.publish`. */
export type ReceiptPublishAck = import('./result.js').Result<{ url: string }>;
