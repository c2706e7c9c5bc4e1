/** The bench's output: the summary JSON line (the fields the targets are checked on) and a human-readable table. */
import type { BenchArgs } from './args.js';
import type { PhaseFigures } from './stats.js';
import type { TargetResult } from './target.js';

export interface BenchSummary {
  cabs: number;
  offeredRate: number;
  /** The relay's maximum sustained rate when the throughput search ran (null when no step held), else its steady rate. */
  webhooksPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  baselineP50Ms: number | null;
  baselineP99Ms: number | null;
  baselineWebhooksPerSec: number | null;
  rssKbPerCab: number;
  resyncSeconds: number | null;
  lost: number;
  duplicates: number;
}

const round = (n: number | undefined, digits = 1): number | null => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));

/** The maximum sustained rate when the search ran (null if no step held), else the steady rate. */
function throughput(t: TargetResult | null): number | undefined {
  if (!t) return undefined;
  if (t.steps) return t.maxSustained?.webhooksPerSec;
  return t.steady?.webhooksPerSec;
}

/** The relay's lost and duplicated hooks over every phase. */
function totals(t: TargetResult): { lost: number; duplicates: number } {
  const phases: { lost: number; duplicates: number }[] = [
    ...(t.warmup ? [t.warmup] : []),
    ...(t.steady ? [t.steady] : []),
    ...(t.steps ?? []),
    ...(t.storm ? [t.storm] : []),
  ];
  return {
    lost: phases.reduce((n, p) => n + p.lost, 0),
    duplicates: phases.reduce((n, p) => n + p.duplicates, 0),
  };
}

export function summarize(args: BenchArgs, relay: TargetResult, baseline: TargetResult | null): BenchSummary {
  return {
    cabs: args.cabs,
    offeredRate: args.rate,
    webhooksPerSec: round(throughput(relay), 0),
    p50Ms: round(relay.steady?.p50Ms, 2),
    p99Ms: round(relay.steady?.p99Ms, 2),
    baselineP50Ms: round(baseline?.steady?.p50Ms, 2),
    baselineP99Ms: round(baseline?.steady?.p99Ms, 2),
    baselineWebhooksPerSec: round(throughput(baseline), 0),
    rssKbPerCab: round(relay.connect.rssKbPerCab, 1) ?? 0,
    resyncSeconds: round(relay.storm?.resyncSeconds, 2),
    ...totals(relay),
  };
}

export function renderTable(relay: TargetResult, baseline: TargetResult | null): string {
  const rows: string[][] = [['target', 'phase', 'offered/s', 'accepted/s', 'p50 ms', 'p99 ms', 'max ms', 'lost', 'dup', 'failed', 'note']];
  const fmt = (n: number | null | undefined, d = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));
  const phaseRow = (t: string, name: string, f: PhaseFigures, note = '') =>
    rows.push([
      t,
      name,
      String(f.offeredRate),
      fmt(f.webhooksPerSec, 0),
      fmt(f.p50Ms),
      fmt(f.p99Ms),
      fmt(f.maxMs),
      String(f.lost),
      String(f.duplicates),
      String(f.failed),
      note,
    ]);
  for (const t of [baseline, relay]) {
    if (!t) continue;
    const c = t.connect;
    rows.push([
      t.target,
      'connect',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      String(c.connectErrors),
      `${c.connected}/${c.cabs} cabs in ${c.connectSeconds.toFixed(1)} s; RSS +${c.rssKbPerCab.toFixed(1)} KB/cab (${(c.rssConnectedKb / 1024).toFixed(0)} MB)` +
        (c.provisionSeconds !== null ? `; provisioned in ${c.provisionSeconds.toFixed(1)} s` : ''),
    ]);
    if (t.warmup) phaseRow(t.target, 'warm-up', t.warmup, 'not measured');
    if (t.steady) phaseRow(t.target, 'steady', t.steady);
    for (const s of t.steps ?? []) phaseRow(t.target, 'max-step', s, s.passed ? (s === t.maxSustained ? 'max sustained' : 'sustained') : s.why);
    if (t.slowCommits)
      rows.push([
        t.target,
        'disk',
        '-',
        '-',
        '-',
        '-',
        String(t.slowCommits.maxMs),
        '-',
        '-',
        '-',
        `${t.slowCommits.count} commits over 100 ms (${(t.slowCommits.totalMs / 1000).toFixed(1)} s in all): each held the writes queued behind it`,
      ]);
    if (t.storm) {
      const s = t.storm;
      rows.push([
        t.target,
        'storm',
        '-',
        '-',
        '-',
        '-',
        '-',
        String(s.lost),
        String(s.duplicates),
        String(s.failed),
        `${s.queued} queued; resynced ${s.resynced} cabs in ${s.resyncSeconds.toFixed(1)} s after restart (${s.fromKillSeconds.toFixed(1)} s after kill -9; restart ${s.restartSeconds.toFixed(1)} s)`,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (i === rows[0]!.length - 1 ? 0 : r[i]!.length))));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
