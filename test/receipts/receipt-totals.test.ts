import { describe, expect, it } from 'vitest';
import { receiptPayload, receiptTotals, receiptUrl } from '../../protocol/receipt.js';
import { newReceiptToken } from '../../electron/core/receipts.js';

const lines = [
  { id: 'fare', kind: 'fare' as const, label: 'Taxiresa', amount: 31_800, vatRate: 6 },
  { id: 'extra-1', kind: 'toll' as const, label: 'Vägtull', amount: 4_500, vatRate: 0 },
  { id: 'extra-2', kind: 'booking_fee' as const, label: 'Bokningsavgift', amount: 5_000, vatRate: 25 },
  { id: 'extra-3', kind: 'airport_fee' as const, label: 'Flygplatsavgift', amount: 9_500, vatRate: 6 },
];

describe('receipt totals', () => {
  it('computes VAT per line and per rate for extras at two VAT rates plus a zero-rated toll', () => {
    const totals = receiptTotals({ lines, tipAmount: 5_000 });
    // 6% of 318.00 incl. VAT = 318 * 6 / 106 = 18.00; 95.00 → 5.377… → 5.38; 25% of 50.00 → 10.00
    expect(totals.lines.map((l) => l.vatAmount)).toEqual([1_800, 0, 1_000, 538]);
    expect(totals.vatByRate).toEqual([
      { rate: 25, gross: 5_000, vat: 1_000, net: 4_000 },
      { rate: 6, gross: 41_300, vat: 2_338, net: 38_962 },
      { rate: 0, gross: 4_500, vat: 0, net: 4_500 },
    ]);
    expect(totals.orderAmount).toBe(50_800);
    expect(totals.vatTotal).toBe(3_338);
    expect(totals.totalAmount).toBe(55_800);
  });

  it('sums the per-rate groups to the per-line totals', () => {
    const totals = receiptTotals({ lines, tipAmount: 0 });
    expect(totals.vatByRate.reduce((s, g) => s + g.vat, 0)).toBe(totals.vatTotal);
    expect(totals.vatByRate.reduce((s, g) => s + g.gross, 0)).toBe(totals.orderAmount);
  });

  it('makes 128-bit base64url tokens that the schema accepts, all different', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newReceiptToken()));
    expect(tokens.size).toBe(200);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(16);
    }
    expect(receiptUrl('https://relay.example/', 'abc')).toBe('https://relay.example/receipts/abc');
  });

  it('refuses a short token and a receipt without lines', () => {
    const base = {
      rideId: 'r1',
      merchantOrderId: 'cab-1.r1',
      token: newReceiptToken(),
      driverId: null,
      startedAt: '2026-11-21T10:00:00.000Z',
      endedAt: '2026-11-21T10:20:00.000Z',
      paidAt: '2026-11-21T10:21:00.000Z',
      currency: 'SEK',
      lines,
      orderAmount: 50_800,
      tipAmount: 0,
      totalAmount: 50_800,
      method: 'psp',
      psp: 'hips',
      pspReference: 'o1',
      locale: 'sv',
    };
    expect(receiptPayload.safeParse(base).success).toBe(true);
    expect(receiptPayload.safeParse({ ...base, token: 'short' }).success).toBe(false);
    expect(receiptPayload.safeParse({ ...base, lines: [] }).success).toBe(false);
  });
});
