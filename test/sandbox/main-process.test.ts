import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, oneTimeKey, orderBody, startReceiver, tempDbPath, waitFor, type Receiver } from './helpers.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
let relay: Receiver | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await relay?.close();
});

interface Started {
  child: ChildProcess;
  url: string;
  listening: Record<string, any>;
  output: () => string;
  exited: Promise<number | null>;
}

function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'backend-relay/sandbox/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"msg":"listening"')) continue;
        const listening = JSON.parse(line) as Record<string, any>;
        resolve({ child, url: listening.url, listening, output: () => out, exited });
      }
    });
    void exited.then((code) => reject(new Error(`sandbox exited ${code} before listening:\n${out}`)));
  });
}

describe('backend-relay/sandbox/main.ts as a real process', () => {
  it('listens on an ephemeral port, runs a payment, stops on SIGTERM and keeps its key across restarts', async () => {
    relay = await startReceiver();
    const dbPath = tempDbPath();
    const env = { SANDBOX_PORT: '0', SANDBOX_DB: dbPath, SANDBOX_MERCHANT_KEY: 'sk_test_process_key_42' };
    const first = await startMain(env);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.listening.merchantKey).toBe('sk_test_process_key_42');
    expect(fs.existsSync(dbPath)).toBe(true);

    const auth = 'sk_test_process_key_42';
    const qr = await call(first.url, 'POST', '/v2/qrs', {
      auth,
      body: { qr_code: 'PROC-1', allow_tip: true, qr_start_webhook_url: `${relay.url}/qr` },
    });
    expect(qr.body.status).toBe('online');
    const s = (await call(first.url, 'POST', '/sandbox/scan', { body: { qr_data: qr.body.qr_data } })).body;
    const created = await call(first.url, 'POST', '/v2/orders', {
      auth: `Bearer ${oneTimeKey(relay, s.session_id)}`,
      headers: { 'idempotency-key': 'proc-ride-1' },
      body: orderBody(s.session_id, relay),
    });
    expect(created.status).toBe(201);
    await call(first.url, 'POST', `/sandbox/sessions/${s.session_id}/pay`, { body: { tip_amount: 5_200 } });
    const paid = await waitFor('paid hook', () => relay!.received.find((h) => h.body.event === 'payment.successful'));
    expect(paid.body.resource.amount).toBe(31_200);
    const pem = (await call(first.url, 'GET', '/sandbox/public-key.pem')).body as string;

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startMain(env);
    expect((await call(second.url, 'GET', '/sandbox/public-key.pem')).body).toBe(pem);
    const order = await call(second.url, 'GET', `/v2/orders/${created.body.id}`, { auth });
    expect(order.body).toMatchObject({ status: 'successful', amount: 31_200 });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('after kill -9, a restart sends the hook that was committed but not yet delivered', async () => {
    relay = await startReceiver();
    const env = { SANDBOX_PORT: '0', SANDBOX_DB: tempDbPath(), SANDBOX_LOG_LEVEL: 'warn' };
    const first = await startMain(env);
    const auth = 'sk_sandbox_demo_0123456789abcdef';
    const qr = await call(first.url, 'POST', '/v2/qrs', {
      auth,
      body: { qr_code: 'KILL-1', allow_tip: true, qr_start_webhook_url: `${relay.url}/qr` },
    });
    await call(first.url, 'POST', '/sandbox/faults', { body: { webhookDelayMs: 60_000 } });
    const scanning = call(first.url, 'POST', '/sandbox/scan', { body: { qr_data: qr.body.qr_data } }).catch((err: Error) => err);
    const pending = await waitFor('session committed', async () => {
      const ledger = (await call(first.url, 'GET', '/sandbox/ledger')).body;
      return ledger.webhooks.length === 1 && ledger.webhooks[0];
    });
    expect(pending.status).toBe('pending');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await scanning).toBeInstanceOf(Error);
    expect(relay.received).toHaveLength(0);

    const second = await startMain(env);
    const hook = await waitFor('resumed start hook', () => relay!.received[0]);
    expect(hook.body).toMatchObject({ request_type: 'start_qr_session', session_id: pending.session_id, idempotency_key: pending.idempotency_key });
    await waitFor('delivered', async () => (await call(second.url, 'GET', '/sandbox/ledger')).body.webhooks[0].status === 'delivered');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses a bad environment with a message naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'backend-relay/sandbox/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, SANDBOX_PORT: 'eighty', SANDBOX_DB: tempDbPath() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out).toContain('SANDBOX_PORT');
  });
});
