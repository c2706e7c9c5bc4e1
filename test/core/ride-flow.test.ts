/**
 * Whole rides through the real relay and the real PSP sandbox over loopback: the kiosk core
 * talks Socket.IO to the relay and HTTP to the sandbox; the sandbox signs real RS256 hooks.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRelay } from '../../backend-relay/app.js';
import { buildSandbox, type Sandbox } from '../../backend-relay/sandbox/app.js';
import { startService, type Service } from '../../scripts/lib/service.js';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { maxTip } from '../../protocol/money.js';
import { createHipsClient } from '../../electron/core/psp/hips-client.js';
import type { PspClient } from '../../electron/core/psp/psp-client.js';
import { quietLogger, tempDir, testConfig, waitForState } from './helpers.js';

const ADMIN_TOKEN = 'core-flow-admin-token-0123456789';
const CAB = { cabId: 'CAB-42', qrCode: 'CAB42QR', plate: 'XYZ 789' };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function http<T = any>(method: string, url: string, body?: unknown, auth?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = auth;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

async function startSandbox(): Promise<Sandbox> {
  const sandbox = await buildSandbox({
    dbPath: path.join(tempDir('cabpay-core-sandbox-'), 'sandbox.db'),
    webhook: { attemptTimeoutMs: 2_000, backoffMs: [100, 200] },
    timeoutFloorSeconds: 1,
  });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

/** Connects a QR at the sandbox to the relay's hook and registers the cab; returns its token and QR data. */
async function provision(sandbox: Sandbox, relayUrl: string, orderTimeoutSeconds = 3600): Promise<{ deviceToken: string; qrData: string }> {
  const qr = await http<{ code_token: string; qr_data: string }>(
    'POST',
    `${sandbox.url}/v2/qrs`,
    { qr_code: CAB.qrCode, allow_tip: true },
    sandbox.merchantKey,
  );
  await http(
    'PATCH',
    `${sandbox.url}/v2/qrs/${qr.code_token}`,
    {
      qr_start_webhook_url: `${relayUrl}/webhooks/hips/qr`,
      allow_tip: true,
      order_timeout_seconds: orderTimeoutSeconds,
      payment_timeout_seconds: 900,
      status: 'online',
    },
    sandbox.merchantKey,
  );
  const cab = await http<{ deviceToken: string }>(
    'PUT',
    `${relayUrl}/admin/cabs/${CAB.cabId}`,
    { psp: 'hips', qrCodes: [CAB.qrCode], plate: CAB.plate, label: 'Cab 42' },
    `Bearer ${ADMIN_TOKEN}`,
  );
  return { deviceToken: cab.deviceToken, qrData: qr.qr_data };
}

async function startCore(relayUrl: string, pspUrl: string, deviceToken: string, qrContent: string, pspClient?: PspClient): Promise<KioskCore> {
  const config = testConfig({ relayUrl, pspUrl, deviceToken, cabId: CAB.cabId, plate: CAB.plate, qrContent });
  const core = createKioskCore(config, { logger: quietLogger, ...(pspClient ? { pspClient } : {}) });
  cleanups.push(() => core.stop());
  await core.start();
  await waitForState(core, (s) => s.connectivity.relay === 'online', 10_000, 'the core online at the relay');
  return core;
}

async function must(core: KioskCore, command: Parameters<KioskCore['execute']>[0]): Promise<void> {
  const result = await core.execute(command);
  if (!result.ok) throw new Error(`${command.name} refused: ${result.error.message}`);
}

async function startRelay(sandbox: Sandbox): Promise<{ url: string }> {
  const relay = await buildRelay(
    {
      port: 0,
      host: '127.0.0.1',
      dbPath: path.join(tempDir('cabpay-core-relay-'), 'relay.db'),
      adminToken: ADMIN_TOKEN,
      hipsPublicKeyPem: sandbox.publicKeyPem,
      cabStaleSeconds: 90,
      locale: 'en',
      ackTimeoutMs: 2_000,
      logLevel: 'silent',
    },
    { logger: quietLogger },
  );
  cleanups.push(() => relay.close());
  return relay;
}

async function scan(sandbox: Sandbox, core: KioskCore, qrData: string): Promise<string> {
  const { session_id } = await http<{ session_id: string }>('POST', `${sandbox.url}/sandbox/scan`, { qr_data: qrData });
  await waitForState(
    core,
    (s) => s.session?.sessionId === session_id || s.ride?.order === 'queued' || s.ride?.order === 'created',
    10_000,
    `session ${session_id} on the tablet`,
  );
  return session_id;
}

describe('a ride through the real relay and sandbox', () => {
  it('runs a paid ride with a tip: scan, fare + extra, order, passenger pays, tablet shows fare + tip', async () => {
    const sandbox = await startSandbox();
    const relay = await startRelay(sandbox);
    const { deviceToken, qrData } = await provision(sandbox, relay.url);
    const core = await startCore(relay.url, sandbox.url, deviceToken, qrData);
    expect(core.getState().cab).toMatchObject({ cabId: CAB.cabId, plate: CAB.plate, qrContent: qrData });

    const scan = await http<{ session_id: string }>('POST', `${sandbox.url}/sandbox/scan`, { qr_data: qrData });
    const ready = await waitForState(core, (s) => s.session?.sessionId === scan.session_id, 10_000, 'passenger ready');
    expect(ready.session).toMatchObject({ state: 'ready', allowTip: true, psp: 'hips' });

    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 25_000 });
    await must(core, { name: 'addExtra', extra: { kind: 'airport_fee', amountMinor: 5_000 } });
    await must(core, { name: 'endRide' });
    const created = await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'order created at the sandbox');
    const ride = created.ride!;

    const phone = await http<{ state: string; order?: { order_amount?: number } }>('GET', `${sandbox.url}/sandbox/sessions/${scan.session_id}`);
    expect(phone.state).toBe('awaiting_payment');

    const tip = maxTip(30_000);
    await http('POST', `${sandbox.url}/sandbox/sessions/${scan.session_id}/pay`, { tip_amount: tip });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 15_000, 'payment shown on the tablet');
    expect(paid.payment).toMatchObject({ rideId: ride.rideId, orderAmount: 30_000, tipAmount: 6_000, totalAmount: 36_000, currency: 'SEK' });

    const ledger = await http<{ orders: { order_id?: string; merchant_order_id?: string }[] }>('GET', `${sandbox.url}/sandbox/ledger`);
    expect(JSON.stringify(ledger.orders)).toContain(ride.merchantOrderId);
    expect(ledger.orders).toHaveLength(1);

    await must(core, { name: 'dismiss' });
    expect(core.getState()).toMatchObject({ ride: null, payment: null, pendingRides: 0 });
  });

  it('a passenger who cancels on the phone is asked to scan again; the rescan sends a fresh order (key <rideId>.2) that is paid', async () => {
    const sandbox = await startSandbox();
    const relay = await startRelay(sandbox);
    const { deviceToken, qrData } = await provision(sandbox, relay.url);
    const core = await startCore(relay.url, sandbox.url, deviceToken, qrData);
    const first = await scan(sandbox, core, qrData);
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 12_000 });
    await must(core, { name: 'endRide' });
    const ride = (await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'order created')).ride!;

    await http('POST', `${sandbox.url}/sandbox/sessions/${first}/cancel`);
    const failed = await waitForState(core, (s) => s.ride?.state === 'failed', 10_000, 'failure shown');
    expect(['session_canceled', 'payment_failed']).toContain(failed.ride?.failure?.code);
    expect(failed.ride?.failure?.message).toMatch(/scan the QR again/);

    const second = await scan(sandbox, core, qrData);
    await waitForState(core, (s) => s.ride?.state === 'awaiting_payment' && s.ride.order === 'created', 10_000, 'second order created');
    await http('POST', `${sandbox.url}/sandbox/sessions/${second}/pay`, { tip_amount: 0 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 15_000, 'paid after rescan');
    expect(paid.ride?.rideId).toBe(ride.rideId);
    expect(paid.payment).toMatchObject({ orderAmount: 12_000, tipAmount: 0, totalAmount: 12_000 });
    // Two orders at the PSP for this ride (one per scan), and only one paid.
    const ledger = await http<{ orders: { merchant_order_id: string; status: string }[] }>('GET', `${sandbox.url}/sandbox/ledger`);
    const orders = ledger.orders.filter((o) => o.merchant_order_id === ride.merchantOrderId);
    expect(orders).toHaveLength(2);
    expect(orders.filter((o) => o.status === 'successful')).toHaveLength(1);
  });

  it('a create-order that times out is retried with the same Idempotency-Key and makes one order', async () => {
    const sandbox = await startSandbox();
    const relay = await startRelay(sandbox);
    const { deviceToken, qrData } = await provision(sandbox, relay.url);
    const psp = createHipsClient({ pspUrl: sandbox.url, webhookUrl: `${relay.url}/webhooks/hips/orders`, timeoutMs: 500, logger: quietLogger });
    const core = await startCore(relay.url, sandbox.url, deviceToken, qrData, psp);
    const session = await scan(sandbox, core, qrData);
    await http('POST', `${sandbox.url}/sandbox/faults`, { createOrderTimeout: 1, createOrderHangMs: 1_500, createOrderAfterHang: 'process' });
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 20_000 });
    await must(core, { name: 'endRide' });
    const ride = (await waitForState(core, (s) => s.ride?.order === 'created', 15_000, 'order created after a timeout')).ride!;
    expect((await http<{ createOrderTimeout: number }>('GET', `${sandbox.url}/sandbox/faults`)).createOrderTimeout, 'the first call hung').toBe(0);
    await new Promise((r) => setTimeout(r, 1_600)); // let the hung first call finish at the sandbox
    const ledger = await http<{ orders: { merchant_order_id: string }[] }>('GET', `${sandbox.url}/sandbox/ledger`);
    expect(ledger.orders.filter((o) => o.merchant_order_id === ride.merchantOrderId)).toHaveLength(1);
    await http('POST', `${sandbox.url}/sandbox/sessions/${session}/pay`, { tip_amount: 4_000 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 15_000, 'paid');
    expect(paid.payment).toMatchObject({ tipAmount: 4_000, totalAmount: 24_000 });
  });

  it('a scan that expired before the ride ended is not used; the tablet asks for a new scan and that one is paid', async () => {
    const sandbox = await startSandbox();
    const relay = await startRelay(sandbox);
    const { deviceToken, qrData } = await provision(sandbox, relay.url, 2);
    const core = await startCore(relay.url, sandbox.url, deviceToken, qrData);
    await scan(sandbox, core, qrData);
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 9_000 });
    await waitForState(core, (s) => s.session?.state === 'expired' || s.session?.state === 'timed_out', 10_000, 'session over');
    await must(core, { name: 'endRide' });
    const ended = core.getState();
    expect(ended.ride).toMatchObject({ state: 'ended', order: 'none' });
    expect(ended.outboxDepth).toBe(0);

    const fresh = await scan(sandbox, core, qrData);
    await waitForState(core, (s) => s.ride?.order === 'created', 10_000, 'order for the fresh scan');
    await http('POST', `${sandbox.url}/sandbox/sessions/${fresh}/pay`, { tip_amount: 900 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 15_000, 'paid');
    expect(paid.payment).toMatchObject({ orderAmount: 9_000, tipAmount: 900, totalAmount: 9_900 });
  });

  it('offline at ride end: the relay (a child process) is down and the PSP refuses, the order waits; after the restart the payment shows', async () => {
    const sandbox = await startSandbox();
    const relayDir = tempDir('cabpay-core-relay-');
    const pemFile = path.join(relayDir, 'hips.pem');
    writeFileSync(pemFile, sandbox.publicKeyPem);
    const relayEnv = (port: number) => ({
      RELAY_PORT: String(port),
      RELAY_DB: path.join(relayDir, 'relay.db'),
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      HIPS_PUBLIC_KEY_FILE: pemFile,
      RELAY_LOG_LEVEL: 'info',
    });
    let relay: Service = await startService({ name: 'relay', entry: 'backend-relay/main.ts', env: relayEnv(0) });
    cleanups.push(() => relay.stop());
    const relayPort = Number(new URL(relay.url).port);

    const { deviceToken, qrData } = await provision(sandbox, relay.url);
    const core = await startCore(relay.url, sandbox.url, deviceToken, qrData);
    const scan = await http<{ session_id: string }>('POST', `${sandbox.url}/sandbox/scan`, { qr_data: qrData });
    await waitForState(core, (s) => s.session?.sessionId === scan.session_id, 10_000, 'passenger ready');
    await must(core, { name: 'startRide' });
    await must(core, { name: 'setFare', amountMinor: 18_000 });

    // Into the tunnel: the relay goes away and create-order calls fail.
    await relay.stop();
    await waitForState(core, (s) => s.connectivity.relay === 'offline', 10_000, 'offline');
    await http('POST', `${sandbox.url}/sandbox/faults`, { createOrder503: 1000 });
    await must(core, { name: 'endRide' });
    const queued = core.getState();
    expect(queued).toMatchObject({ outboxDepth: 1, ride: { state: 'awaiting_payment', order: 'queued' }, connectivity: { relay: 'offline' } });
    expect(queued.connectivity.offlineSince).not.toBeNull();
    // At least one refused try while offline.
    const deadline = Date.now() + 10_000;
    while ((await http<{ createOrder503: number }>('GET', `${sandbox.url}/sandbox/faults`)).createOrder503 === 1000) {
      if (Date.now() > deadline) throw new Error('the core never tried to create the order');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(core.getState().ride?.order).toBe('queued');

    // Out of the tunnel.
    await http('DELETE', `${sandbox.url}/sandbox/faults`);
    relay = await startService({ name: 'relay', entry: 'backend-relay/main.ts', env: relayEnv(relayPort) });
    const created = await waitForState(core, (s) => s.ride?.order === 'created' && s.connectivity.relay === 'online', 20_000, 'order created after reconnect');
    expect(created.outboxDepth).toBe(0);
    expect(created.connectivity.offlineSince).toBeNull();

    await http('POST', `${sandbox.url}/sandbox/sessions/${scan.session_id}/pay`, { tip_amount: 1_000 });
    const paid = await waitForState(core, (s) => s.ride?.state === 'paid', 15_000, 'payment shown after the restart');
    expect(paid.payment).toMatchObject({ orderAmount: 18_000, tipAmount: 1_000, totalAmount: 19_000 });
  });
});
