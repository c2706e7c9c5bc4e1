/**
 * A relay quota refusal (`rate_limited`: the cab sent too many messages) is temporary: the
 * kiosk keeps the payment or refund and sends the same attempt again later, as for `unavailable`.
 */
import { describe, expect, it } from 'vitest';
import { createRelayPaymentClient } from '../../electron/core/psp/relay-payment-client.js';
import type { Result } from '../../protocol/result.js';

const refused: Result<never> = {
  ok: false,
  error: { code: 'rate_limited', message: 'this cab sent too many payment.request messages; send it again in 42 s' },
};

describe('the kiosk and a rate_limited relay', () => {
  const client = createRelayPaymentClient({ request: async () => refused });

  it('retries a payment request the relay refused for its quota', async () => {
    const result = await client.requestPayment({
      rideId: 'r1',
      merchantOrderId: 'cab-1.r1',
      psp: 'hitpay',
      sessionId: null,
      attempt: 1,
      currency: 'SGD',
      lines: [{ id: 'fare', kind: 'fare', label: 'Fare', amount: 1100, vatRate: 9 }],
      orderAmount: 1100,
      tipAmount: 0,
      idempotencyKey: 'r1',
    });
    expect(result).toEqual({ kind: 'retry', reason: `rate_limited: ${refused.ok ? '' : refused.error.message}` });
  });

  it('retries a refund the relay refused for its quota', async () => {
    const result = await client.requestRefund({
      refundId: 'rf-1',
      rideId: 'r1',
      merchantOrderId: 'cab-1.r1',
      psp: 'hitpay',
      pspOrderId: 'pay-1',
      amount: 100,
      currency: 'SGD',
      reason: 'overcharged',
      requestedBy: 'driver',
      requestedAt: '2026-11-21T17:32:00.000Z',
      idempotencyKey: 'rf-1',
    });
    expect(result).toMatchObject({ kind: 'retry' });
  });
});
