/** Turning sends and receipts into figures: latency percentiles, lost and duplicated hooks. */
import type { Receipt } from './ipc.js';
import type { SentHook } from './load.js';

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sortedAsc: number[], p: number): number {
  if (sortedAsc.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length, Math.max(1, rank)) - 1]!;
}

/** Every receipt ever seen, by hook key; more than one per key is a duplicate delivery. */
export class ReceiptLedger {
  private readonly byKey = new Map<string, Receipt[]>();

  add(receipts: Receipt[]): void {
    for (const r of receipts) {
      const list = this.byKey.get(r.key);
      if (list) list.push(r);
      else this.byKey.set(r.key, [r]);
    }
  }

  first(key: string): Receipt | undefined {
    return this.byKey.get(key)?.[0];
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Hooks applied more than once (as distinct events) by tablets, among these keys. */
  duplicatesAmong(keys: Iterable<string>): number {
    let n = 0;
    for (const k of keys) n += Math.max(0, (this.byKey.get(k)?.length ?? 0) - 1);
    return n;
  }
}

export interface PhaseFigures {
  offeredRate: number;
  posted: number;
  /** Answered 2xx {status:"stored"}: committed by the relay. */
  accepted: number;
  /** Not 2xx, no answer, or 2xx without "stored". */
  failed: number;
  /** Accepted hooks no tablet received. */
  lost: number;
  duplicates: number;
  /** Accepted hooks per second of the phase (first send to last answer). */
  webhooksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  lateSends: number;
  failureSamples: string[];
  /** The server's CPU time per accepted hook (user + system): steady under a noisy neighbour. */
  serverCpuMsPerHook?: number;
  /** p99 of the webhook's own answer time (POST to 2xx), separate from delivery. */
  answerP99Ms: number;
  /** p99 per second of the phase, to tell a warm-up spike from a steady queue. */
  p99BySecondMs: number[];
}

export function phaseFigures(sent: SentHook[], ledger: ReceiptLedger, offeredRate: number, elapsedMs: number, lateSends: number): PhaseFigures {
  const latencies: number[] = [];
  const bySecond: number[][] = [];
  const start = sent.reduce((m, s) => Math.min(m, s.sentAt), Infinity);
  let accepted = 0;
  let lost = 0;
  const failures: string[] = [];
  for (const s of sent) {
    if (!s.stored) {
      if (failures.length < 5) failures.push(`${s.status}${s.error ? ` ${s.error}` : ''}`);
      continue;
    }
    accepted++;
    const r = ledger.first(s.key);
    if (!r) lost++;
    else {
      latencies.push(r.at - s.sentAt);
      (bySecond[Math.floor((s.sentAt - start) / 1000)] ??= []).push(r.at - s.sentAt);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    offeredRate,
    posted: sent.length,
    accepted,
    failed: sent.length - accepted,
    lost,
    duplicates: ledger.duplicatesAmong(sent.map((s) => s.key)),
    webhooksPerSec: elapsedMs > 0 ? (accepted * 1000) / elapsedMs : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
    lateSends,
    failureSamples: failures,
    answerP99Ms: percentile(
      sent.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b),
      99,
    ),
    p99BySecondMs: Array.from(bySecond, (xs) =>
      Number(
        percentile(
          (xs ?? []).sort((a, b) => a - b),
          99,
        ).toFixed(1),
      ),
    ),
  };
}
