/** The real entry point as a child process: kill -9 and restart, graceful shutdown, config errors. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  REPO_ROOT,
  addCab,
  connectTablet,
  exited,
  hookBody,
  makeSigner,
  orderHook,
  postJson,
  qrHook,
  spawnRelay,
  storedCounts,
  tempDir,
  until,
  waitForConnect,
  type TestTablet,
} from './helpers.js';

describe('relay process', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps 20 events for an offline cab across kill -9 and a restart, then replays them in order once', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const env = { RELAY_DB: path.join(dir, 'sub', 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile, RELAY_ACK_TIMEOUT_MS: '300' };

    let relay = await spawnRelay(env);
    cleanups.push(() => relay.child.kill('SIGKILL'));
    const token = await addCab(relay.url, 'cab-k', ['QR-K']);
    // Seen once, so scans within RELAY_CAB_STALE_S are accepted while it is offline.
    const once = connectTablet(relay.url, 'cab-k', token);
    await waitForConnect(once);
    once.close();

    const sent: string[] = [];
    const send = async (url: string, i: number) => {
      const body = i % 2 === 0 ? await hookBody(signer, qrHook('QR-K', { session_id: `s${i}` })) : await hookBody(signer, orderHook(`cab-k.ride${i}`));
      const res = await postJson(url, i % 2 === 0 ? '/webhooks/hips/qr' : '/webhooks/hips/orders', body);
      expect(res.status, `hook ${i}`).toBe(200);
      sent.push(i % 2 === 0 ? `s${i}` : `cab-k.ride${i}`);
      return body;
    };
    const bodies = [];
    for (let i = 0; i < 12; i++) bodies.push(await send(relay.url, i));

    relay.child.kill('SIGKILL');
    await exited(relay.child);
    relay = await spawnRelay(env);

    // The PSP retries two hooks it already delivered (e.g. our 200 was lost in the crash).
    expect((await postJson(relay.url, '/webhooks/hips/qr', bodies[10])).body.status).toBe('duplicate');
    expect((await postJson(relay.url, '/webhooks/hips/orders', bodies[11])).body.status).toBe('duplicate');
    for (let i = 12; i < 20; i++) await send(relay.url, i);

    const tablet: TestTablet = connectTablet(relay.url, 'cab-k', token, 0);
    cleanups.push(() => tablet.close());
    await until(() => tablet.applied.length === 20, '20 replayed events');
    expect(tablet.received.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(tablet.received.map((e) => e.id)).size).toBe(20);
    const keys = tablet.received.map((e) => ('sessionId' in e.data ? e.data.sessionId : (e.data as { merchantOrderId: string }).merchantOrderId));
    expect(keys).toEqual(sent);
  });

  it('shuts down cleanly on SIGTERM with exit code 0', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    const token = await addCab(relay.url, 'cab-g');
    const tablet = connectTablet(relay.url, 'cab-g', token);
    await waitForConnect(tablet);
    const health = await fetch(`${relay.url}/healthz`);
    expect(health.status).toBe(200);
    const scan = qrHook('qr-cab-g');
    const body = await hookBody(signer, scan);
    expect((await postJson(relay.url, '/webhooks/hips/qr', body)).status).toBe(200);
    await until(() => tablet.applied.length === 1, 'delivery');
    relay.child.kill('SIGTERM');
    expect(await exited(relay.child)).toBe(0);
    expect(relay.output()).toContain('"msg":"relay closed"');
    // No secrets in the logs: device token, one-time order key, the webhook JWT, the admin token.
    for (const secret of [token, scan.one_time_order_api_key!, body.jwt, ADMIN_TOKEN]) expect(relay.output()).not.toContain(secret);
    tablet.close();
  });

  it('exits non-zero when its store writer thread dies: the write in flight is answered 500, a fatal line is logged, a restart stores the retry', async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    const dbPath = path.join(dir, 'relay.db');
    // The fault drill: the writer thread ends, as a crash would, when asked to append an event.
    const relay = await spawnRelay({ RELAY_DB: dbPath, HIPS_PUBLIC_KEY_FILE: signer.pemFile, RELAY_DEBUG_WRITER_EXIT_ON: 'appendEvent' });
    cleanups.push(() => relay.child.kill('SIGKILL'));
    const token = await addCab(relay.url, 'cab-w');
    const tablet = connectTablet(relay.url, 'cab-w', token);
    cleanups.push(() => tablet.close());
    await waitForConnect(tablet);
    const tabletGone = new Promise<void>((resolve) => tablet.socket.once('disconnect', () => resolve()));

    const body = await hookBody(signer, orderHook('cab-w.ride1'));
    const inFlight = await postJson(relay.url, '/webhooks/hips/orders', body);
    expect(inFlight.status).toBe(500);
    expect(inFlight.body.error.message).toMatch(/not stored, retry/);
    expect(await exited(relay.child)).toBe(1);
    await tabletGone;
    const lines = relay
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.find((l) => l.level === 60)?.msg).toMatch(/writer thread .*restart/);
    expect(lines.some((l) => l.msg === 'relay closed')).toBe(true); // graceful: sockets and database closed
    expect((await storedCounts(dbPath)).events).toBe(0);

    // What a supervisor does next: start it again. The PSP's retry is stored, once.
    const restarted = await spawnRelay({ RELAY_DB: dbPath, HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    cleanups.push(() => restarted.child.kill('SIGKILL'));
    expect(await postJson(restarted.url, '/webhooks/hips/orders', body)).toMatchObject({ status: 200, body: { status: 'stored', seq: 1 } });
  });

  it('refuses to start with a clear error naming the bad variable', async () => {
    const dir = tempDir();
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'backend-relay/main.ts'], {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH ?? '', RELAY_PORT: '0', RELAY_DB: path.join(dir, 'r.db'), ...env },
        });
        cleanups.push(() => child.kill('SIGKILL')); // one that started after all is not left running
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const noAdmin = await run({ HIPS_PUBLIC_KEY_FILE: '/nonexistent.pem' });
    expect(noAdmin.code).toBe(2);
    expect(noAdmin.out).toContain('RELAY_ADMIN_TOKEN');
    const badKey = await run({ RELAY_ADMIN_TOKEN: ADMIN_TOKEN, HIPS_PUBLIC_KEY_FILE: path.join(dir, 'missing.pem') });
    expect(badKey.code).toBe(2);
    expect(badKey.out).toContain('HIPS_PUBLIC_KEY_FILE');
    const badPort = await run({ RELAY_ADMIN_TOKEN: ADMIN_TOKEN, HIPS_PUBLIC_KEY_FILE: '/x.pem', RELAY_PORT: 'eighty' });
    expect(badPort.out).toContain('RELAY_PORT');
    const key = await makeSigner(dir);
    const drillInProduction = await run({
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      HIPS_PUBLIC_KEY_FILE: key.pemFile,
      RELAY_DEBUG_WRITER_EXIT_ON: 'appendEvent',
      NODE_ENV: 'production',
    });
    expect(drillInProduction.code).toBe(2);
    expect(drillInProduction.out).toContain('RELAY_DEBUG_WRITER_EXIT_ON is a fault drill');
  }, 150_000); // five relay processes through tsx
});
