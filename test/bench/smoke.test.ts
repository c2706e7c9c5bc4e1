/**
 * CI's benchmark smoke run: `npm run bench -- --cabs 500 --duration 5` as a real process.
 * It asserts only correctness (nothing lost, nothing applied twice), never speed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bench smoke', () => {
  it('500 cabs for 5 s: every committed hook reaches its tablet exactly once', { timeout: 240_000 }, async () => {
    const resultsDir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-bench-smoke-'));
    const run = await runBench(['--', '--cabs', '500', '--duration', '5', '--results-dir', resultsDir]);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    expect(summary, run.stderr.slice(-3000)).toMatchObject({ cabs: 500, lost: 0, duplicates: 0 });
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    // The same figures were written as the results file.
    const files = readdirSync(resultsDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const written = JSON.parse(readFileSync(path.join(resultsDir, files[0]!), 'utf8')) as { summary: unknown };
    expect(written.summary).toEqual(summary);
  });

  it('refuses a bad flag with exit code 2 and names it', async () => {
    const run = await runBench(['--cabs', 'many']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--cabs/);
  });
});
