/**
 * The chaos run as CI runs it: `npm run chaos -- --rides 300 --seed 20261122` as a child
 * process (sandbox, relay and kiosk cores as real processes on loopback; the 8 cabs spread over
 * Hips, Vipps and HitPay), judged by its exit code and its final JSON line.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/service.js';

function runChaos(args: string[], timeoutMs: number): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/chaos.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`chaos did not finish within ${timeoutMs} ms:\n${out.slice(-4000)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.trim().split('\n') });
    });
  });
}

describe('npm run chaos', () => {
  it('plays 300 rides over Hips, Vipps and HitPay under faults with nothing lost, doubled, mistotalled or stuck', async () => {
    // No --dir: the run works in a fresh temp dir, removed when it passes and printed when it fails.
    const { code, lines } = await runChaos(['--rides', '300', '--seed', '20261122'], 540_000);
    const last = lines.at(-1) ?? '';
    const summary = JSON.parse(last) as Record<string, number | boolean> & { byPsp: Record<string, { rides: number; paid: number; paidOther: number }> };
    expect(summary, lines.filter((l) => l.startsWith('VIOLATION')).join('\n')).toMatchObject({
      rides: 300,
      lost: 0,
      duplicateOrders: 0,
      wrongTotals: 0,
      stuck: 0,
      unshownPayments: 0,
      phantomPayments: 0,
      invariantViolations: 0,
      errors: 0,
      duplicatePaidEvents: 0,
      heldPayments: 0,
      refundMismatches: 0,
      duplicateRefunds: 0,
      settled: true,
    });
    expect(code).toBe(0);
    // Every ride ended one way or another, and the faults really happened.
    expect((summary.paid as number) + (summary.paidOther as number) + (summary.canceled as number) + (summary.failedOffScreen as number)).toBe(300);
    expect(summary.paid).toBeGreaterThan(150);
    expect(summary.offlineWindows).toBeGreaterThan(0);
    expect(summary.kioskKills).toBeGreaterThan(0);
    expect(summary.relayKills).toBeGreaterThan(0);
    expect(summary.pspFaults).toBeGreaterThan(0);
    expect(summary.webhookFaults).toBeGreaterThan(0);
    expect(summary.lateAnswers).toBeGreaterThan(0);
    // Some payments lost every webhook, and the relay learnt how they ended from the PSPs.
    const sum = (o: unknown) => Object.values(o as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(sum(summary.lostHookPayments)).toBeGreaterThan(0);
    expect(sum(summary.reconciledByRelay)).toBeGreaterThan(0);
    // Every PSP really played its share, paid by the passenger and another way, and refunds went through.
    expect(Object.keys(summary.byPsp).sort()).toEqual(['hips', 'hitpay', 'vipps']);
    for (const [psp, p] of Object.entries(summary.byPsp)) {
      expect(p.rides, psp).toBeGreaterThanOrEqual(60);
      expect(p.paid, psp).toBeGreaterThan(p.rides / 2);
      expect(p.paidOther, psp).toBeGreaterThan(0);
    }
    expect(summary.refunds).toBeGreaterThan(5);
  }, 600_000);

  it('refuses bad flags with exit code 2 and says which flag is wrong', async () => {
    const { code, lines } = await runChaos(['--rides', '0', '--seed', 'x'], 60_000);
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(/--rides must be at least 1/);
    expect(lines.join('\n')).toMatch(/--seed must be a number/);
  }, 70_000);
});
