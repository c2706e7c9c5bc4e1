import { afterEach, describe, expect, it } from 'vitest';
import { buildSandbox, type Sandbox } from '../../backend-relay/sandbox/app.js';
import { call, connectedQr, orderBody, scan, startReceiver, tempDbPath, testSandbox, waitFor, type Receiver } from './helpers.js';

let sb: Sandbox | undefined;
let relay: Receiver | undefined;
afterEach(async () => {
  await sb?.close();
  await relay?.close();
});

const sessionState = async (id: string) => (await call(sb!.url, 'GET', `/sandbox/sessions/${id}`)).body.state as string;

describe('timeouts', () => {
  it('times out a session with no order within order_timeout_seconds and sends timed_out', async () => {
    relay = await startReceiver();
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay, { order_timeout_seconds: 1 });
    const s = await scan(sb, qr.qr_data);
    expect(relay.received[0]!.body.order_timeout_seconds).toBe(1);
    const hook = await waitFor('timed_out hook', () => relay!.received.find((h) => h.body.request_type === 'timed_out'), 5000);
    expect(hook.body.session_id).toBe(s.session_id);
    expect(hook.body.idempotency_key).not.toBe(relay.received[0]!.body.idempotency_key);
    expect(await sessionState(s.session_id)).toBe('timed_out');
    const late = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    expect(late.status).toBe(409);
  });

  it('expires an unpaid order after payment_timeout_seconds with order.expired', async () => {
    relay = await startReceiver();
    sb = await testSandbox();
    const qr = await connectedQr(sb, relay, { payment_timeout_seconds: 1 });
    const s = await scan(sb, qr.qr_data);
    const created = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(s.session_id, relay) });
    const hook = await waitFor('order.expired', () => relay!.received.find((h) => h.body.event === 'order.expired'), 5000);
    expect(hook.body.resource).toMatchObject({ id: created.body.id, status: 'expired', amount: 0, reason: 'payment_timeout' });
    expect(await sessionState(s.session_id)).toBe('timed_out');
    const pay = await call(sb.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 0 } });
    expect(pay.status).toBe(409);
  });

  it('rejects timeouts outside 60–3600 s by default', async () => {
    relay = await startReceiver();
    sb = await buildSandbox({ dbPath: tempDbPath() });
    const created = await call(sb.url, 'POST', '/v2/qrs', { auth: sb.merchantKey, body: {} });
    for (const bad of [{ order_timeout_seconds: 59 }, { payment_timeout_seconds: 3601 }, { order_timeout_seconds: 90.5 }]) {
      const res = await call(sb.url, 'PATCH', `/v2/qrs/${created.body.code_token}`, { auth: sb.merchantKey, body: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.message).toMatch(/timeout_seconds/);
    }
    const ok = await call(sb.url, 'PATCH', `/v2/qrs/${created.body.code_token}`, {
      auth: sb.merchantKey,
      body: { order_timeout_seconds: 60, payment_timeout_seconds: 3600 },
    });
    expect(ok.status).toBe(200);
  });

  it('re-arms deadlines after a restart on the same database, with the same signing key', async () => {
    relay = await startReceiver();
    const dbPath = tempDbPath();
    sb = await testSandbox({ dbPath });
    const firstPem = sb.publicKeyPem;
    const qr = await connectedQr(sb, relay, { order_timeout_seconds: 3, payment_timeout_seconds: 3 });
    const waiting = await scan(sb, qr.qr_data);
    const ordered = await scan(sb, qr.qr_data);
    const created = await call(sb.url, 'POST', '/v2/orders', { auth: sb.merchantKey, body: orderBody(ordered.session_id, relay) });
    expect(await sessionState(waiting.session_id)).toBe('waiting_for_order');
    expect(await sessionState(ordered.session_id)).toBe('awaiting_payment');
    await sb.close(); // both deadlines are still ahead: only the database remembers them

    sb = await testSandbox({ dbPath });
    expect(sb.publicKeyPem).toBe(firstPem);
    const timedOut = await waitFor('timed_out hook after restart', () =>
      relay!.received.find((h) => h.body.request_type === 'timed_out' && h.body.session_id === waiting.session_id),
    );
    const expired = await waitFor('order.expired after restart', () => relay!.received.find((h) => h.body.event === 'order.expired'));
    expect(timedOut).toBeTruthy();
    expect(expired.body.resource.id).toBe(created.body.id);
    expect(await sessionState(waiting.session_id)).toBe('timed_out');
    expect(await sessionState(ordered.session_id)).toBe('timed_out');
  });

  it('resumes a hook that was pending when the sandbox stopped', async () => {
    relay = await startReceiver(() => ({ status: 500 }));
    const dbPath = tempDbPath();
    sb = await testSandbox({ dbPath, webhook: { backoffMs: [10_000, 10_000] } });
    const qr = await connectedQr(sb, relay);
    const s = await scan(sb, qr.qr_data);
    expect(relay.received).toHaveLength(1);
    await sb.close(); // attempt 2 was waiting in its backoff
    relay.setResponder(() => ({ status: 200 }));

    sb = await testSandbox({ dbPath });
    await waitFor('resumed delivery', () => relay!.received.length >= 2);
    const resent = relay.received[1]!;
    expect(resent.body.session_id).toBe(s.session_id);
    expect(resent.body.idempotency_key).toBe(relay.received[0]!.body.idempotency_key);
    const ledger = (await call(sb.url, 'GET', '/sandbox/ledger')).body;
    await waitFor('delivered in ledger', async () => (await call(sb!.url, 'GET', '/sandbox/ledger')).body.webhooks[0].status === 'delivered');
    expect(ledger.webhooks).toHaveLength(1);
  });
});
