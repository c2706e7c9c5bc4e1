/**
 * One benchmark target (the relay or the baseline) through the phases: connect N cabs,
 * steady load, the throughput search, and (relay only) the reconnect storm.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchArgs } from './args.js';
import type { HookFactory, PreparedHook } from './hooks.js';
import type { CabCredential } from './ipc.js';
import { NODE_BUNDLES } from '../build/node-bundle.js';
import { offerLoad, releaseAgent, type LoadResult } from './load.js';
import { provisionCabs } from './provision.js';
import { startServer, type ServerProcess } from './server-process.js';
import { cpuMs, rssKb } from './spawn.js';
import { ReceiptLedger, phaseFigures, type PhaseFigures } from './stats.js';
import { TabletFleet } from './tablet-fleet.js';

export type TargetName = 'relay' | 'baseline';

/**
 * The relay runs from its bundle (`npm run build:relay`, built by the runner first), as a
 * deployment would: the same code and configuration, without tsx compiling it at every
 * start, which made the storm's restart take seconds.
 */
export const RELAY_BUNDLE = NODE_BUNDLES.relay.outfile;

/** A throughput step passes when nothing is lost or refused, p99 ≤ 50 ms, and the rate was kept. */
export const MAX_P99_MS = 50;
const DRAIN_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 120_000;
const RESYNC_TIMEOUT_MS = 180_000;

export interface ConnectFigures {
  cabs: number;
  connected: number;
  connectErrors: number;
  provisionSeconds: number | null;
  connectSeconds: number;
  rssIdleKb: number;
  rssConnectedKb: number;
  /** (RSS with every cab connected − RSS before any) / cabs. */
  rssKbPerCab: number;
}

export interface StepFigures extends PhaseFigures {
  passed: boolean;
  why: string;
}

export interface StormFigures {
  queued: number;
  dropped: number;
  restartSeconds: number;
  /** From the relay's restart (spawn) until every cab has reconnected and applied its backlog. */
  resyncSeconds: number;
  fromKillSeconds: number;
  resynced: number;
  /** Cabs resynced by each whole second after the restart: where the tail is. */
  resyncedBySecond: number[];
  /** Storm hooks the relay did not accept before the kill (should be 0). */
  failed: number;
  lost: number;
  duplicates: number;
}

export interface TargetResult {
  target: TargetName;
  connect: ConnectFigures;
  /** Unmeasured, but its lost and duplicates still count. */
  warmup?: PhaseFigures;
  steady?: PhaseFigures;
  steps?: StepFigures[];
  maxSustained?: StepFigures;
  storm?: StormFigures;
  redeliveries: number;
  gaps: number;
  /** Commits over 100 ms the relay logged (its event loop waits for the disk meanwhile). */
  slowCommits?: { count: number; maxMs: number; totalMs: number };
}

export interface TargetContext {
  args: BenchArgs;
  dir: string;
  cabIds: string[];
  hooks: HookPool;
  publicKeyFile: string;
  adminToken: string;
  log: (line: string) => void;
}

/** Signed hooks by label, signed once and shared by both targets (the baseline stores nothing). */
export class HookPool {
  private readonly cache = new Map<string, PreparedHook[]>();
  constructor(readonly factory: HookFactory) {}

  async get(label: string, count: number): Promise<PreparedHook[]> {
    let hooks = this.cache.get(label);
    if (!hooks) {
      hooks = await this.factory.mixed(count);
      this.cache.set(label, hooks);
    }
    return hooks;
  }
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTarget(target: TargetName, ctx: TargetContext): Promise<TargetResult> {
  const { args, log } = ctx;
  const phases = new Set(args.phases);
  const env = serverEnv(target, ctx, 0);
  const nodeArgs = target === 'relay' ? relayNodeArgs(ctx) : [];
  const script = target === 'relay' ? RELAY_BUNDLE : 'bench/baseline-main.ts';
  const logFile = path.join(ctx.dir, `${target}.log`);
  let server = await startServer(script, env, logFile, { nodeArgs });
  log(`${target}: listening at ${server.url} (log ${logFile})`);
  const ledger = new ReceiptLedger();
  let fleet: TabletFleet | undefined;
  try {
    const rssIdleKb = await rssKb(server.pid);
    const t0 = now();
    const creds: CabCredential[] =
      target === 'relay'
        ? await provisionCabs(server.url, ctx.adminToken, ctx.cabIds)
        : ctx.cabIds.map((cabId) => ({ cabId, token: 'baseline-does-not-check-tokens' }));
    const provisionSeconds = target === 'relay' ? (now() - t0) / 1000 : null;
    fleet = await TabletFleet.start(ctx.cabIds.length);
    const tc = now();
    await fleet.connect(server.url, creds);
    const counters = await waitFor(fleet, ledger, (c) => c.connected >= ctx.cabIds.length, CONNECT_TIMEOUT_MS);
    const connectSeconds = (now() - tc) / 1000;
    await sleep(500); // let the connection bookkeeping settle before reading RSS
    const rssConnectedKb = await rssKb(server.pid);
    const connect: ConnectFigures = {
      cabs: ctx.cabIds.length,
      connected: counters.connected,
      connectErrors: counters.connectErrors,
      provisionSeconds,
      connectSeconds,
      rssIdleKb,
      rssConnectedKb,
      rssKbPerCab: (rssConnectedKb - rssIdleKb) / ctx.cabIds.length,
    };
    log(`${target}: ${counters.connected}/${ctx.cabIds.length} cabs connected in ${connectSeconds.toFixed(1)} s, RSS ${rssIdleKb} → ${rssConnectedKb} KB`);
    const result: TargetResult = { target, connect, redeliveries: 0, gaps: 0 };
    if (counters.connected < ctx.cabIds.length) throw new Error(`${target}: only ${counters.connected} of ${ctx.cabIds.length} cabs connected`);

    if (args.warmup > 0 && (phases.has('steady') || phases.has('max'))) {
      // A fresh process runs cold (JIT, caches); production relays do not. Not measured.
      const hooks = await ctx.hooks.get('warmup', Math.max(1, Math.round(args.rate * args.warmup)));
      const warm = await loadPhase(server, hooks, args.rate, fleet, ledger);
      result.warmup = warm;
      log(`${target}: warm-up ${describe(warm)}`);
    }

    if (phases.has('steady')) {
      const hooks = await ctx.hooks.get('steady', Math.max(1, Math.round(args.rate * args.duration)));
      result.steady = await loadPhase(server, hooks, args.rate, fleet, ledger);
      log(`${target}: steady ${describe(result.steady)}`);
    }

    if (phases.has('max')) {
      result.steps = [];
      for (let rate = args.rate, i = 0; rate <= args.maxRate; rate = Math.round(rate * args.rampFactor), i++) {
        const hooks = await ctx.hooks.get(`step-${i}-${rate}`, Math.round(rate * args.stepSeconds));
        const figures = await loadPhase(server, hooks, rate, fleet, ledger);
        const step = judgeStep(figures);
        result.steps.push(step);
        log(`${target}: step ${rate}/s ${describe(figures)} → ${step.passed ? 'sustained' : `not sustained (${step.why})`}`);
        if (step.passed && (!result.maxSustained || step.webhooksPerSec > result.maxSustained.webhooksPerSec)) result.maxSustained = step;
        if (!step.passed) break;
        await sleep(500);
      }
    }

    if (phases.has('storm') && target === 'relay') {
      const storm = await stormPhase(ctx, server, fleet, ledger);
      server = storm.server;
      result.storm = storm.figures;
      log(
        `${target}: storm ${storm.figures.queued} queued events, resynced in ${storm.figures.resyncSeconds.toFixed(1)} s after restart, lost ${storm.figures.lost}; resynced by second [${storm.figures.resyncedBySecond.join(' ')}]`,
      );
    }
    const final = (await fleet.report()).counters;
    ledger.add([]);
    result.redeliveries = final.redeliveries;
    result.gaps = final.gaps;
    if (target === 'relay') result.slowCommits = slowCommitsIn(logFile);
    return result;
  } finally {
    releaseAgent(server.url);
    await fleet?.close();
    const code = await server.stop().catch((err: unknown) => {
      log(`${target}: ${(err as Error).message}`);
      return null;
    });
    if (code !== 0) log(`${target}: exited with code ${code} on SIGTERM (log ${logFile})`);
  }
}

function slowCommitsIn(logFile: string): { count: number; maxMs: number; totalMs: number } {
  const out = { count: 0, maxMs: 0, totalMs: 0 };
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('slow SQLite commit')) continue;
    const { commitMs } = JSON.parse(line) as { commitMs: number };
    out.count++;
    out.totalMs += commitMs;
    out.maxMs = Math.max(out.maxMs, commitMs);
  }
  return out;
}

function relayNodeArgs(ctx: TargetContext): string[] {
  return ctx.args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.dir, 'profiles')}`] : [];
}

function serverEnv(target: TargetName, ctx: TargetContext, port: number): NodeJS.ProcessEnv {
  if (target === 'baseline') return { BASELINE_PORT: String(port) };
  return {
    RELAY_PORT: String(port),
    RELAY_HOST: '127.0.0.1',
    RELAY_DB: path.join(ctx.dir, 'relay.db'),
    RELAY_ADMIN_TOKEN: ctx.adminToken,
    HIPS_PUBLIC_KEY_FILE: ctx.publicKeyFile,
    RELAY_LOG_LEVEL: 'info',
  };
}

/** Offers the hooks at `rate`, then waits until every committed one has reached its tablet. */
async function loadPhase(server: ServerProcess, hooks: PreparedHook[], rate: number, fleet: TabletFleet, ledger: ReceiptLedger): Promise<PhaseFigures> {
  const cpuBefore = await cpuMs(server.pid);
  const load = await offerLoad(server.url, hooks, rate);
  await drain(load, fleet, ledger);
  const cpuUsed = (await cpuMs(server.pid)) - cpuBefore;
  const figures = phaseFigures(load.sent, ledger, rate, load.elapsedMs, load.lateSends);
  return { ...figures, serverCpuMsPerHook: figures.accepted > 0 ? Number((cpuUsed / figures.accepted).toFixed(3)) : undefined };
}

async function drain(load: LoadResult, fleet: TabletFleet, ledger: ReceiptLedger): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  const pending = new Set(load.sent.filter((s) => s.stored).map((s) => s.key));
  for (;;) {
    const report = await fleet.report();
    ledger.add(report.receipts);
    for (const key of pending) if (ledger.has(key)) pending.delete(key);
    if (pending.size === 0 || Date.now() > deadline) return;
    await sleep(100);
  }
}

async function waitFor(
  fleet: TabletFleet,
  ledger: ReceiptLedger,
  done: (c: Awaited<ReturnType<TabletFleet['report']>>['counters']) => boolean,
  timeoutMs: number,
  onReport: (c: Awaited<ReturnType<TabletFleet['report']>>['counters']) => void = () => {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await fleet.report();
    ledger.add(report.receipts);
    onReport(report.counters);
    if (done(report.counters) || Date.now() > deadline) return report.counters;
    await sleep(100);
  }
}

export function judgeStep(f: PhaseFigures): StepFigures {
  const why: string[] = [];
  if (f.lost > 0) why.push(`${f.lost} lost`);
  if (f.duplicates > 0) why.push(`${f.duplicates} duplicates`);
  if (f.failed > 0) why.push(`${f.failed} not accepted (${f.failureSamples.join(', ')})`);
  if (!(f.p99Ms <= MAX_P99_MS)) why.push(`p99 ${f.p99Ms.toFixed(1)} ms > ${MAX_P99_MS} ms`);
  if (f.webhooksPerSec < 0.95 * f.offeredRate) why.push(`only ${f.webhooksPerSec.toFixed(0)}/s of ${f.offeredRate}/s`);
  return { ...f, passed: why.length === 0, why: why.join('; ') };
}

/**
 * kill -9 the relay while every cab has an undelivered event, restart it on the same port,
 * and time until every tablet has reconnected and applied its backlog.
 */
async function stormPhase(ctx: TargetContext, server: ServerProcess, fleet: TabletFleet, ledger: ReceiptLedger) {
  const hooks = await ctx.hooks.factory.onePerCab();
  releaseAgent(server.url); // the killed relay's connections die with it
  // The tablets "lose" what arrives now (no apply, no ack), so it stays queued at the relay.
  fleet.broadcast({ type: 'dropEvents', on: true });
  const load = await offerLoad(server.url, hooks, ctx.args.stormRate);
  const expected = new Map<string, number>();
  for (const s of load.sent) if (s.stored && s.seq !== undefined) expected.set(s.cabId, Math.max(expected.get(s.cabId) ?? 0, s.seq));
  await sleep(500);
  const dropped = (await fleet.report()).counters.dropped;
  const killedAt = now();
  await server.kill9();
  fleet.broadcast({ type: 'dropEvents', on: false });
  fleet.expectSeqs(expected);
  const restartAt = now();
  const restarted = await startServer(RELAY_BUNDLE, serverEnv('relay', ctx, server.port), server.logFile, { nodeArgs: relayNodeArgs(ctx) });
  const listeningAt = now();
  const resyncedBySecond: number[] = [];
  const counters = await waitFor(
    fleet,
    ledger,
    (c) => c.synced >= expected.size && c.connected >= ctx.cabIds.length,
    RESYNC_TIMEOUT_MS,
    (c) => {
      const second = Math.floor((now() - restartAt) / 1000);
      while (resyncedBySecond.length <= second) resyncedBySecond.push(resyncedBySecond.at(-1) ?? 0);
      resyncedBySecond[second] = c.synced;
    },
  );
  const syncedAt = now();
  const stored = load.sent.filter((s) => s.stored);
  const figures: StormFigures = {
    queued: stored.length,
    dropped,
    restartSeconds: (listeningAt - restartAt) / 1000,
    resyncSeconds: (syncedAt - restartAt) / 1000,
    fromKillSeconds: (syncedAt - killedAt) / 1000,
    resynced: counters.synced,
    resyncedBySecond,
    failed: load.sent.length - stored.length,
    lost: stored.filter((s) => !ledger.has(s.key)).length,
    duplicates: ledger.duplicatesAmong(stored.map((s) => s.key)),
  };
  return { server: restarted, figures };
}

function describe(f: PhaseFigures): string {
  return `[p99/s ${f.p99BySecondMs.join(' ')}] offered ${f.offeredRate}/s, accepted ${f.webhooksPerSec.toFixed(0)}/s, p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms (answer p99 ${f.answerP99Ms.toFixed(1)} ms, ${f.serverCpuMsPerHook ?? '-'} CPU ms/hook), lost ${f.lost}, dup ${f.duplicates}, failed ${f.failed}`;
}
