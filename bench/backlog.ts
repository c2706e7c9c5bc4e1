/**
 * `npx tsx bench/backlog.ts [--events N]`: how long a cab's backlog of N events (10,000 by
 * default) takes to reach its tablet when it comes back, and whether the relay's event loop
 * stays free meanwhile. The relay runs as in production (the bundle, a database file with
 * `synchronous=FULL`, log level info). The backlog is N signed Hips order webhooks committed
 * while the cab is offline; then a tablet connects with lastSeq 0, once as a socket.io-client
 * that acks like the kiosk (the protocol's own cost) and once as the real kiosk core (a SQLite
 * commit per event on the tablet too), each its own cab. While each drains, `GET /healthz` is
 * timed every 20 ms, and the relay's event-loop lag is read from /metrics; both also for 5 s
 * with nothing to deliver first, as the machine's own noise.
 * Prints one JSON line; exits 1 when an event was missing, duplicated or out of order.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { io } from 'socket.io-client';
import { buildNodeBundle } from '../build/node-bundle.js';
import { createKioskCore } from '../electron/core/index.js';
import { kioskConfigSchema } from '../electron/core/config.js';
import { CAB_NAMESPACE, SOCKET_EVENTS, type RelayEvent, type RelayEventAck } from '../protocol/relay-protocol.js';
import { HookFactory, ORDER_HOOK_PATH, createSigner } from './hooks.js';
import { startServer } from './server-process.js';
import { percentile } from './stats.js';

const eventsFlag = process.argv.indexOf('--events');
const events = eventsFlag === -1 ? 10_000 : Number(process.argv[eventsFlag + 1]);
if (!Number.isInteger(events) || events < 1) {
  process.stderr.write('usage: npx tsx bench/backlog.ts [--events N]  (N a whole number ≥ 1)\n');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[backlog ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const ADMIN_TOKEN = `backlog-admin-${process.pid}-${Date.now()}`;

async function http(method: string, url: string, body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Commits `count` order.paid events for the cab through signed webhooks, 32 in flight. */
async function fillBacklog(url: string, factory: HookFactory, cabId: string, count: number): Promise<void> {
  const hooks = await factory.payments(count);
  let next = 0;
  const post = async () => {
    while (next < hooks.length) {
      const hook = hooks[next++]!;
      const res = await fetch(`${url}${ORDER_HOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: hook.body });
      const answer = (await res.json()) as { status?: string };
      if (res.status !== 200 || answer.status !== 'stored') throw new Error(`hook for ${cabId}: ${res.status} ${JSON.stringify(answer)}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, post));
}

/**
 * Times GET /healthz every 20 ms until stopped: how long a request waits for the relay's event
 * loop. On a thread of its own, so the kiosk core's commits in this process do not delay it.
 */
function probeHealth(url: string): { stop(): Promise<number[]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     let running = true;
     parentPort.on('message', () => (running = false));
     (async () => {
       const samples = [];
       while (running) {
         const started = performance.now();
         await fetch(workerData.url + '/healthz').then((r) => r.arrayBuffer());
         samples.push(performance.now() - started);
         await new Promise((r) => setTimeout(r, 20));
       }
       parentPort.postMessage(samples);
     })();`,
    { eval: true, workerData: { url } },
  );
  const samples = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const result = await samples;
      await worker.terminate();
      return result;
    },
  };
}

/** The relay's event-loop delay since the previous read (prom-client resets it at each scrape), in ms. */
async function eventLoopLag(url: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`relay_nodejs_eventloop_lag_${name}_seconds `));
    return line ? round(Number(line.split(' ')[1]) * 1000) : NaN;
  };
  return { p50: read('p50'), p99: read('p99'), max: read('max') };
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) };
}

/** A tablet as the kiosk's relay client acks: in seq order, by id, after applying. */
function drainWithSocket(url: string, cabId: string, token: string, total: number): Promise<{ ms: number; problems: string[] }> {
  return new Promise((resolve, reject) => {
    const problems: string[] = [];
    let lastSeq = 0;
    const seen = new Set<string>();
    const started = performance.now();
    const socket = io(`${url}${CAB_NAMESPACE}`, { transports: ['websocket'], auth: { cabId, token, lastSeq: 0 }, reconnection: false, forceNew: true });
    socket.on('connect_error', reject);
    socket.on(SOCKET_EVENTS.relayEvent, (event: RelayEvent, ack: (answer: RelayEventAck) => void) => {
      if (event.seq !== lastSeq + 1 || seen.has(event.id)) problems.push(`seq ${event.seq} after ${lastSeq}`);
      seen.add(event.id);
      lastSeq = Math.max(lastSeq, event.seq);
      ack({ ok: true, value: { applied: true } });
      if (lastSeq === total) {
        socket.close();
        resolve({ ms: performance.now() - started, problems });
      }
    });
  });
}

async function drainWithKiosk(url: string, dir: string, cabId: string, token: string, total: number): Promise<{ ms: number; problems: string[] }> {
  const config = kioskConfigSchema.parse({
    cabId,
    deviceToken: token,
    relayUrl: url,
    pspUrl: url,
    locale: 'en',
    currency: 'SEK',
    plate: 'BENCH 1',
    qrContent: `hips://qr/${cabId}`,
    dataDir: path.join(dir, `kiosk-${cabId}`),
  });
  const core = createKioskCore(config, { logger: (await import('pino')).pino({ level: 'silent' }), random: Math.random });
  const started = performance.now();
  await core.start();
  // The kiosk acks each event after its commit; the relay records the acks (within ~40 ms).
  for (;;) {
    const cab = ((await http('GET', `${url}/admin/cabs`)) as { cabs: { cabId: string; ackedSeq: number }[] }).cabs.find((c) => c.cabId === cabId);
    if (cab?.ackedSeq === total) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const ms = performance.now() - started;
  await core.stop();
  return { ms, problems: [] };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-backlog-'));
  log(`${events} events per cab; work dir ${dir}`);
  const bundle = await buildNodeBundle('relay');
  const signer = await createSigner(dir);
  const relay = await startServer(
    bundle,
    {
      RELAY_PORT: '0',
      RELAY_DB: path.join(dir, 'relay.db'),
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      HIPS_PUBLIC_KEY_FILE: signer.publicKeyFile,
      RELAY_LOG_LEVEL: 'info',
    },
    path.join(dir, 'relay.log'),
  );
  const results: Record<string, unknown> = { events, machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) } };
  let failed = false;
  try {
    // The same probes with nothing to deliver: what the machine itself adds.
    await eventLoopLag(relay.url);
    const idleProbe = probeHealth(relay.url);
    await new Promise((r) => setTimeout(r, 5_000));
    results.idle = { healthzMs: summary(await idleProbe.stop()), relayEventLoopLagMs: await eventLoopLag(relay.url) };
    log(`idle: ${JSON.stringify(results.idle)}`);
    for (const tablet of ['socket', 'kiosk'] as const) {
      const cabId = `backlog-${tablet}`;
      const { deviceToken } = await http('PUT', `${relay.url}/admin/cabs/${cabId}`, { qrCodes: [`qr-${cabId}`], plate: 'BENCH 1', label: cabId });
      const factory = new HookFactory(signer, [cabId]);
      const filled = performance.now();
      await fillBacklog(relay.url, factory, cabId, events);
      log(`${tablet}: ${events} events committed in ${Math.round(performance.now() - filled)} ms; the tablet connects`);
      await eventLoopLag(relay.url); // starts the lag window afresh
      const probe = probeHealth(relay.url);
      const drained =
        tablet === 'socket' ? await drainWithSocket(relay.url, cabId, deviceToken, events) : await drainWithKiosk(relay.url, dir, cabId, deviceToken, events);
      const health = await probe.stop();
      const lag = await eventLoopLag(relay.url);
      if (drained.problems.length > 0) failed = true;
      const figures = {
        drainMs: Math.round(drained.ms),
        eventsPerSecond: Math.round(events / (drained.ms / 1000)),
        healthzMs: summary(health),
        relayEventLoopLagMs: lag,
        problems: drained.problems.slice(0, 5),
      };
      results[tablet] = figures;
      log(`${tablet}: ${JSON.stringify(figures)}`);
    }
  } finally {
    await relay.stop();
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  return failed ? 1 : 0;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
