/**
 * Crash safety: a core in a child process is SIGKILLed at random moments while rides, scans,
 * orders and payments flow; after each restart the store must be consistent, and in the end
 * every order the PSP created is paid on exactly one ride.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStoreInvariants } from '../../electron/core/invariants.js';
import { KioskStore } from '../../electron/core/store.js';
import { createKioskCore } from '../../electron/core/index.js';
import { quietLogger, sessionData, TestPsp, TestRelay, testConfig, waitForState } from './helpers.js';

const RUNNER = path.join(import.meta.dirname, 'fixtures/core-runner.ts');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function startRunner(configJson: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER], {
    env: { ...process.env, CORE_CONFIG: configJson },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`core runner did not start:\n${output.join('\n')}`)), 20_000);
    const onLine = (line: string) => {
      output.push(line);
      if (line.includes('"core started"')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`core runner exited (${code}):\n${output.join('\n')}`));
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** What the PSP reports paid for a create-order body: its cart's amount and a small tip. */
function paidFor(body: unknown, pspOrderId: string) {
  const order = body as { order_id: string; cart: { items: { unit_price: number; quantity: number }[] } };
  const orderAmount = order.cart.items.reduce((sum, item) => sum + item.unit_price * item.quantity, 0);
  return { merchantOrderId: order.order_id, pspOrderId, currency: 'SEK', orderAmount, tipAmount: 100, totalAmount: orderAmount + 100 };
}

describe('crash safety', () => {
  it('keeps the store consistent across repeated SIGKILLs, and never pays an order twice', async () => {
    const relay = await new TestRelay().start();
    const psp = await new TestPsp().start();
    cleanups.push(
      () => relay.stop(),
      () => psp.stop(),
    );
    const config = testConfig({ relayUrl: relay.url, pspUrl: psp.url });

    // The world around the tablet: a passenger scans every so often; created orders get paid.
    let sessions = 0;
    const paidOrders = new Set<string>();
    const world = setInterval(() => {
      if (relay.connectedCount() === 0) return;
      if (sessions < 200) relay.push('qr.session.started', sessionData(`s${++sessions}`));
      for (const call of psp.calls) {
        const orderId = (call.body as { order_id: string }).order_id;
        if (paidOrders.has(orderId)) continue;
        paidOrders.add(orderId);
        relay.push('order.paid', paidFor(call.body, `psp-${paidOrders.size}`));
      }
    }, 40);
    cleanups.push(async () => clearInterval(world));

    let random = 42;
    const nextRandom = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 6; round++) {
      const child = await startRunner(JSON.stringify(config));
      cleanups.push(() => kill(child));
      await new Promise((r) => setTimeout(r, 150 + Math.floor(nextRandom() * 500)));
      await kill(child);
      const store = KioskStore.open(config.dataDir!);
      try {
        expect(checkStoreInvariants(store), `after kill ${round + 1}`).toEqual([]);
      } finally {
        store.close();
      }
    }
    clearInterval(world);
    expect(psp.calls.length, 'some orders went out').toBeGreaterThan(0);

    // Let a final core settle what the relay still holds, then reconcile.
    const core = createKioskCore(config, { logger: quietLogger });
    cleanups.push(() => core.stop());
    await core.start();
    await waitForState(core, (s) => s.connectivity.relay === 'online');
    for (const call of psp.calls) {
      const orderId = (call.body as { order_id: string }).order_id;
      if (!paidOrders.has(orderId)) {
        paidOrders.add(orderId);
        relay.push('order.paid', paidFor(call.body, 'late'));
      }
    }
    const lastSeq = relay.events.length;
    const deadline = Date.now() + 15_000;
    while (!relay.acks.some((a) => a.seq === lastSeq) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await core.stop();

    const store = KioskStore.open(config.dataDir!);
    try {
      expect(checkStoreInvariants(store)).toEqual([]);
      expect(store.lastSeq()).toBe(lastSeq);
      const applied = store.db.prepare('SELECT COUNT(*) AS n FROM applied_events').get() as { n: number };
      expect(applied.n).toBe(lastSeq);
      // Every order the PSP saw is one ride, paid once.
      const paid = store.db.prepare(`SELECT r.merchant_order_id AS id FROM rides r JOIN payments p ON p.ride_id = r.ride_id WHERE p.method = 'psp'`).all() as {
        id: string;
      }[];
      expect(new Set(paid.map((p) => p.id))).toEqual(paidOrders);
      // Retries after a crash reuse the ride's key: one key per (ride, attempt), never a new ride for an old order.
      const keysByOrder = new Map<string, Set<string>>();
      for (const call of psp.calls) {
        const orderId = (call.body as { order_id: string }).order_id;
        const keys = keysByOrder.get(orderId) ?? new Set<string>();
        keys.add(String(call.headers['idempotency-key']));
        keysByOrder.set(orderId, keys);
      }
      for (const [orderId, keys] of keysByOrder) {
        const rideId = orderId.slice(orderId.indexOf('.') + 1);
        for (const key of keys) expect(key === rideId || key.startsWith(`${rideId}.`)).toBe(true);
      }
    } finally {
      store.close();
    }
  });
});
