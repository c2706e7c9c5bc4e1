import { afterEach, describe, expect, it } from 'vitest';
import { hipsCreateOrderRequest } from '../../protocol/hips.js';
import { buildHipsOrder, createHipsClient } from '../../electron/core/psp/hips-client.js';
import type { CreateOrderJob } from '../../electron/core/model.js';
import { TestPsp } from './helpers.js';

const job: CreateOrderJob = {
  rideId: 'r1',
  merchantOrderId: 'CAB-7.r1',
  currency: 'SEK',
  lines: [
    { id: 'fare', kind: 'fare', label: 'Taxi fare', amount: 26_500, vatRate: 6 },
    { id: 'extra-1', kind: 'toll', label: 'Toll', amount: 2_200, vatRate: 0 },
  ],
  sessionId: 'sess-1',
  idempotencyKey: 'r1',
};

let psp: TestPsp;
afterEach(async () => psp?.stop());

describe('Hips create-order', () => {
  it('maps the ride to a valid Hips body: service fare, fee extras, included VAT, fulfill, session and hook', () => {
    const body = buildHipsOrder(job, 'http://relay.test/webhooks/hips/orders');
    expect(hipsCreateOrderRequest.safeParse(body).success).toBe(true);
    expect(body).toEqual({
      order_id: 'CAB-7.r1',
      purchase_currency: 'SEK',
      cart: {
        items: [
          { name: 'Taxi fare', quantity: 1, unit_price: 26_500, vat_amount: 1_500, vat: 6, type: 'service' },
          { name: 'Toll', quantity: 1, unit_price: 2_200, vat_amount: 0, vat: 0, type: 'fee' },
        ],
      },
      fulfill: true,
      qr_session_id: 'sess-1',
      hooks: { webhook_url: 'http://relay.test/webhooks/hips/orders' },
    });
  });

  it('sends the one-time key as Bearer and the Idempotency-Key, and reads the order id', async () => {
    psp = await new TestPsp().start();
    const client = createHipsClient({ pspUrl: psp.url, webhookUrl: 'http://relay.test/webhooks/hips/orders' });
    expect(await client.createOrder(job, 'one-time-key')).toEqual({ kind: 'success', pspOrderId: 'psp-1' });
    expect(psp.calls[0]?.path).toBe('/v2/orders');
    expect(psp.calls[0]?.headers.authorization).toBe('Bearer one-time-key');
    expect(psp.calls[0]?.headers['idempotency-key']).toBe('r1');
  });

  it('retries on 429/5xx and timeouts, ends on 4xx with a message the driver can act on', async () => {
    psp = await new TestPsp().start();
    psp.script = [
      { status: 503 },
      { status: 429 },
      'hang',
      { status: 409, body: { error: { type: 'conflict', message: 'session is not waiting for an order' } } },
      { status: 400 },
    ];
    const client = createHipsClient({ pspUrl: psp.url, webhookUrl: 'http://relay.test/h', timeoutMs: 300 });
    expect(await client.createOrder(job, 'k')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('503') });
    expect(await client.createOrder(job, 'k')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('429') });
    expect(await client.createOrder(job, 'k')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('no answer') });
    expect(await client.createOrder(job, 'k')).toEqual({
      kind: 'definitive',
      status: 409,
      failure: {
        code: 'session_not_waiting',
        message: "The passenger's session is no longer waiting for an order (session is not waiting for an order). Ask the passenger to scan the QR again.",
      },
    });
    expect(await client.createOrder(job, 'k')).toMatchObject({ kind: 'definitive', failure: { code: 'order_rejected' } });
  });

  it('treats a refused connection as retryable', async () => {
    psp = await new TestPsp().start();
    const url = psp.url;
    await psp.stop();
    const client = createHipsClient({ pspUrl: url, webhookUrl: 'http://relay.test/h' });
    expect(await client.createOrder(job, 'k')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('network') });
  });
});
