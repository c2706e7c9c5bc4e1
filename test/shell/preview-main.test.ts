/**
 * The real `npm run preview` entry as a child process: clear errors for a missing config, and
 * (once the kiosk core exists) listening, serving, bridging and a clean SIGTERM stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const entry = path.join(repoRoot, 'electron/preview/main.ts');
const coreExists = existsSync(path.join(repoRoot, 'electron/core/index.ts'));
if (!coreExists) console.log('preview-main: skipping the full run, electron/core/index.ts (createKioskCore) does not exist yet');

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cabpay-preview-main-'));
  dirs.push(dir);
  return dir;
}

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const clean = { ...process.env };
  delete clean.KIOSK_CONFIG;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: repoRoot, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForListening(output: () => string, exited: Promise<number | null>): Promise<string> {
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 600 && !done; i++) {
    for (const line of output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.msg === 'listening' && record.url) return record.url;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the preview never logged "listening":\n${output()}`);
}

describe('preview entry point (child process)', () => {
  it('fails with a clear message when KIOSK_CONFIG is not set', async () => {
    const { output, exited } = run({});
    expect(await exited).toBe(1);
    expect(output()).toContain('KIOSK_CONFIG');
    expect(output()).toContain('npm start');
  });

  it('fails with a clear message when the config file does not exist', async () => {
    const missing = path.join(tempDir(), 'nope.json');
    const { output, exited } = run({ KIOSK_CONFIG: missing });
    expect(await exited).toBe(1);
    expect(output()).toContain(`${missing}, which does not exist`);
  });

  it('fails naming the bad fields of an invalid config', async () => {
    const file = path.join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify({ cabId: 'cab-1', relayUrl: 'not a url' }));
    const { output, exited } = run({ KIOSK_CONFIG: file });
    expect(await exited).toBe(1);
    expect(output()).toContain('relayUrl');
    expect(output()).toContain('deviceToken');
  });

  it.skipIf(!coreExists)('listens on an ephemeral port, serves the UI and the bridge, and stops on SIGTERM', async () => {
    const dir = tempDir();
    const dist = path.join(dir, 'dist');
    mkdirSync(dist);
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>kiosk</title>');
    const config = path.join(dir, 'kiosk.json');
    writeFileSync(
      config,
      JSON.stringify({
        // Nothing listens on port 9: the core starts offline, which the preview must survive.
        relayUrl: 'http://127.0.0.1:9',
        pspUrl: 'http://127.0.0.1:9',
        cabId: 'cab-42',
        deviceToken: 'x'.repeat(32),
        plate: 'XYZ 987',
        qrContent: 'https://qr.example/cab-42',
        dataDir: path.join(dir, 'data'),
      }),
    );
    const { child, output, exited } = run({ KIOSK_CONFIG: config, PREVIEW_PORT: '0', PREVIEW_STATIC_DIR: dist });
    const url = await waitForListening(output, exited);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>kiosk</title>');

    const ws = new WebSocket(`${url.replace('http', 'ws')}/bridge`, { origin: url });
    const first = await new Promise<{ type: string; snapshot: { cab: { cabId: string; plate: string } } }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
    expect(first.type).toBe('state');
    expect(first.snapshot.cab).toMatchObject({ cabId: 'cab-42', plate: 'XYZ 987' });
    ws.close();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('"msg":"stopped"');
  });
});
