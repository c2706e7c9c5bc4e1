/** `npm run fleet` against a spawned relay, as an operator would use it. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, REPO_ROOT, connectTablet, exited, makeSigner, spawnRelay, tempDir, waitForConnect } from './helpers.js';

function fleet(args: string[], env: Record<string, string> = {}) {
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

describe('fleet CLI', () => {
  let relay: Awaited<ReturnType<typeof spawnRelay>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    env = { RELAY_URL: relay.url, RELAY_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(async () => {
    relay.child.kill('SIGTERM');
    await exited(relay.child);
  });

  it('adds, lists, rotates and removes cabs, with --json output', async () => {
    const add = await fleet(['add', 'cab-7', '--qr', 'QR-7a', '--qr', 'QR-7b', '--plate', 'XYZ 789', '--label', 'Seven', '--json'], env);
    expect(add.code, add.stderr).toBe(0);
    const added = JSON.parse(add.stdout) as { cabId: string; deviceToken: string };
    expect(added.cabId).toBe('cab-7');
    const tablet = connectTablet(relay.url, 'cab-7', added.deviceToken);
    await waitForConnect(tablet);

    const human = await fleet(['list', '--relay', relay.url, '--token', ADMIN_TOKEN]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/cab-7\tonline\tXYZ 789\tSeven\thips\tqr=QR-7a,QR-7b/);
    const listed = JSON.parse((await fleet(['list', '--json'], env)).stdout) as { cabs: { cabId: string; online: boolean }[] };
    expect(listed.cabs).toMatchObject([{ cabId: 'cab-7', online: true }]);

    const update = await fleet(['add', 'cab-7', '--qr', 'QR-7a', '--qr', 'QR-7b', '--plate', 'XYZ 789', '--label', 'Seven', '--keep-token'], env);
    expect(update.stdout).toContain('token is unchanged');
    // This relay has no Hips merchant key: the CLI passes on what the fleet must do with the QR.
    expect(update.stdout).toContain('note: The relay cannot set up Hips QR codes');
    expect(tablet.socket.connected).toBe(true);

    const gone = new Promise<void>((r) => tablet.socket.once('disconnect', () => r()));
    const rotate = await fleet(['rotate-token', 'cab-7', '--json'], env);
    const rotated = JSON.parse(rotate.stdout) as { deviceToken: string };
    expect(rotated.deviceToken).not.toBe(added.deviceToken);
    await gone;

    const conflict = await fleet(['add', 'cab-8', '--qr', 'QR-7a', '--plate', 'P', '--label', 'L'], env);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('409');
    expect(conflict.stderr).toContain('cab-7');

    const remove = await fleet(['remove', 'cab-7'], env);
    expect(remove.stdout).toContain('cab-7 removed');
    expect((await fleet(['list'], env)).stdout).toContain('no cabs registered');
    tablet.close();
  });

  it('explains bad flags, a wrong token and an unreachable relay', async () => {
    const noQr = await fleet(['add', 'cab-9', '--plate', 'P', '--label', 'L'], env);
    expect(noQr.code).toBe(2);
    expect(noQr.stderr).toContain('--qr');
    const unknown = await fleet(['fly'], env);
    expect(unknown.stderr).toContain('unknown command "fly"');
    const badToken = await fleet(['list', '--token', 'wrong-token-wrong-token'], { RELAY_URL: relay.url });
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toContain('401');
    const noRelay = await fleet(['list'], { RELAY_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(noRelay.stderr).toContain('RELAY_URL');
    const jsonErr = await fleet(['rotate-token', 'nobody', '--json'], env);
    expect(jsonErr.code).toBe(2);
    expect(JSON.parse(jsonErr.stderr).error.message).toContain('404');
    const down = await fleet(['list', '--relay', 'http://127.0.0.1:9'], { RELAY_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('cannot reach the relay');
  });
});
