/** `npm run fleet -- operator …` against a spawned relay: the printed one-time password logs in, reset and disable take effect. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, REPO_ROOT, exited, makeSigner, spawnRelay, tempDir } from '../relay/helpers.js';
import { ConsoleClient } from './helpers.js';

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

// Every call is its own `node --import tsx` process: seconds each on a loaded machine.
describe('fleet CLI: console operators', { timeout: 180_000 }, () => {
  let relay: Awaited<ReturnType<typeof spawnRelay>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    const dir = tempDir();
    const signer = await makeSigner(dir);
    relay = await spawnRelay({ RELAY_DB: path.join(dir, 'relay.db'), HIPS_PUBLIC_KEY_FILE: signer.pemFile });
    env = { RELAY_URL: relay.url, RELAY_ADMIN_TOKEN: ADMIN_TOKEN };
  }, 120_000);
  afterAll(async () => {
    relay.child.kill('SIGTERM');
    await exited(relay.child);
  });

  it('adds an operator whose printed one-time password logs in, lists, resets and disables', async () => {
    const added = await fleet(['operator', 'add', 'nina', '--role', 'operator'], env);
    expect(added.code, added.stderr).toBe(0);
    const oneTime = /one-time password[^:]*: (\S+)/.exec(added.stdout)?.[1];
    expect(oneTime).toBeDefined();
    expect(added.stdout).toContain(`log in at ${relay.url}/console/`);
    const client = new ConsoleClient(relay.url);
    expect((await client.login('nina', oneTime!)).body.operator).toMatchObject({ name: 'nina', mustChangePassword: true });

    const listed = await fleet(['operator', 'list'], env);
    expect(listed.stdout).toMatch(/^nina\toperator\tactive\tone-time password not changed yet\tlast login 20/m);

    const reset = await fleet(['operator', 'reset-password', 'nina', '--json'], env);
    const fresh = JSON.parse(reset.stdout) as { name: string; oneTimePassword: string };
    expect(fresh.name).toBe('nina');
    expect((await client.call('GET', '/console/api/session')).status).toBe(401);
    expect((await client.login('nina', oneTime!)).status).toBe(401);

    const disabled = await fleet(['operator', 'disable', 'nina'], env);
    expect(disabled.stdout).toContain('operator nina disabled');
    expect((await client.login('nina', fresh.oneTimePassword)).status).toBe(401);
  });

  it('says what is wrong with a command before it calls the relay', async () => {
    const badRole = await fleet(['operator', 'add', 'olga', '--role', 'root'], env);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role: role must be admin, operator or viewer');
    const taken = await fleet(['operator', 'add', 'nina', '--role', 'viewer'], env);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/409: operator nina exists; use reset-password/);
  });
});
