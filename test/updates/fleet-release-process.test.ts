/**
 * The real entry points as an operator uses them: `npm run relay` with RELAY_UPDATES_DIR
 * (spawned) and `npm run fleet -- release …` (spawned), then the feed as a tablet reads it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../../backend-relay/updates/rollout.js';
import { ADMIN_TOKEN, REPO_ROOT, exited, makeSigner, spawnRelay } from '../relay/helpers.js';
import { tempDir, writeRelease } from './fixtures.js';

function fleet(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'backend-relay/fleet-cli.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fleet release CLI against the relay process', () => {
  let relay: Awaited<ReturnType<typeof spawnRelay>>;
  let env: Record<string, string>;
  let dir: string;
  const ids = Array.from({ length: 300 }, (_, i) => `taxi-${i}`);
  const inside = ids.find((id) => rolloutBucket(id) < 20)!;
  const outside = ids.find((id) => rolloutBucket(id) >= 20)!;

  beforeAll(async () => {
    dir = tempDir('cabpay-release-cli-');
    const signer = await makeSigner(dir);
    relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile, RELAY_UPDATES_DIR: path.join(dir, 'updates') });
    env = { RELAY_URL: relay.url, RELAY_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(async () => {
    relay.child.kill('SIGTERM');
    expect(await exited(relay.child)).toBe(0);
  });

  it('upload, publish, roll out to 20%, pause, pin and promote; the feed follows', async () => {
    const tokens = new Map<string, string>();
    for (const id of [inside, outside]) {
      const add = await fleet(['add', id, '--qr', `QR-${id}`, '--plate', 'P', '--label', id, '--json'], env);
      expect(add.code, add.stderr).toBe(0);
      tokens.set(id, (JSON.parse(add.stdout) as { deviceToken: string }).deviceToken);
    }
    const feed = async (id: string) => {
      const res = await fetch(`${relay.url}/updates/${id}/latest-linux.yml`, { headers: { authorization: `Bearer ${tokens.get(id)}` } });
      return res.status === 200 ? /^version: (.+)$/m.exec(await res.text())![1] : res.status;
    };

    // 1.0.0: copied into RELAY_UPDATES_DIR by hand, then published. 1.1.0: signed on the
    // build machine with a key made there by the CLI, then uploaded by the CLI.
    await writeRelease(path.join(dir, 'updates'), '1.0.0');
    const pub = await fleet(['release', 'publish', '1.0.0'], env);
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toMatch(/published 1.0.0 from 1.0.0: latest-linux.yml, latest.yml; 7 files/);
    await writeRelease(path.join(dir, 'build-output'), '1.1.0', { dir: '.', signWith: null });
    const unsigned = await fleet(['release', 'upload', path.join(dir, 'build-output', '.')], env);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(/has no cabpay-release\.sig/);
    const keyDir = tempDir('cabpay-build-machine-');
    const keygen = await fleet(['release', 'keygen', '--out', keyDir, '--app-key', path.join(keyDir, 'release-public-key.ts')], {});
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(keygen.stdout).toMatch(/private key: .*cabpay-release-key\.pem \(owner-only/);
    expect(statSync(path.join(keyDir, 'cabpay-release-key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(keyDir, 'release-public-key.ts'), 'utf8')).toContain(
      readFileSync(path.join(keyDir, 'cabpay-release-key.pub.pem'), 'utf8').split('\n')[1],
    );
    const sign = await fleet(['release', 'sign', path.join(dir, 'build-output', '.'), '--key', path.join(keyDir, 'cabpay-release-key.pem')], {});
    expect(sign.code, sign.stderr).toBe(0);
    expect(sign.stdout).toMatch(/signed 1\.1\.0: 6 files in .*cabpay-release\.sig/);
    const up = await fleet(['release', 'upload', path.join(dir, 'build-output', '.')], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/uploaded 7 files and published 1.1.0/);

    expect((await fleet(['release', 'promote', '1.0.0'], env)).code).toBe(0);
    const roll = await fleet(['release', 'rollout', '1.1.0', '--percent', '20'], env);
    expect(roll.stdout).toMatch(/rollout: 1.1.0 to 20%; others on 1.0.0/);
    expect(await feed(inside)).toBe('1.1.0');
    expect(await feed(outside)).toBe('1.0.0');

    expect((await fleet(['release', 'pause'], env)).stdout).toMatch(/PAUSED 1.1.0/);
    expect(await feed(inside)).toBe('1.0.0');
    expect((await fleet(['release', 'resume'], env)).code).toBe(0);
    expect((await fleet(['release', 'pin', outside, '1.1.0'], env)).stdout).toMatch(`cab ${outside} pinned to 1.1.0`);
    expect(await feed(outside)).toBe('1.1.0');

    const list = await fleet(['list'], env);
    expect(list.stdout).toMatch(new RegExp(`${outside}\\t.*\\ttarget=1.1.0`));
    const human = await fleet(['release', 'status'], env);
    expect(human.stdout).toMatch(/cabs: 2, up to date: 0\nrunning: unknown: 2\noffered: 1.1.0: 2/);
    const status = await fleet(['release', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      rollout: { targetVersion: '1.1.0', percent: 20, paused: false },
      pins: [{ cabId: outside, version: '1.1.0' }],
    });

    const down = await fleet(['release', 'promote', '1.0.0'], env);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/409: 1.0.0 is older than the current target 1.1.0.*To roll back/);
    const bad = await fleet(['release', 'rollout', '1.1.0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--percent is required/);
  }, 120_000); // fourteen CLI processes, each starting tsx

  it('refuses to start with a RELAY_UPDATES_DIR it cannot create, naming the variable (exit 2)', async () => {
    const file = path.join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'backend-relay/main.ts')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        RELAY_PORT: '0',
        RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
        RELAY_DB: path.join(dir, 'x.db'),
        HIPS_PUBLIC_KEY_FILE: path.join(dir, 'hips-public.pem'),
        RELAY_UPDATES_DIR: path.join(file, 'updates'),
      },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    expect(await exited(child)).toBe(2);
    expect(out).toMatch(/RELAY_UPDATES_DIR cannot be created .*writable folder/);
  });
});
