/** `npm run fleet` against a spawned relay, as an operator would use it. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

// Every call starts the CLI as its own `node --import tsx` process: seconds each on a loaded machine.
const SPAWNS_TIMEOUT = { timeout: 120_000 };

describe('fleet CLI', SPAWNS_TIMEOUT, () => {
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

  it('--currency sets what the cab charges in; a code its PSP does not take is refused by the relay', async () => {
    const add = await fleet(['add', 'cab-cur', '--qr', 'QR-cur', '--plate', 'CUR 1', '--label', 'Cur', '--currency', 'nok'], env);
    expect(add.code, add.stderr).toBe(0);
    expect((await fleet(['list'], env)).stdout).toMatch(/cab-cur\t.*\tqr=QR-cur\tcurrency=NOK/);
    const wrong = await fleet(['add', 'cab-cur', '--qr', 'QR-cur', '--plate', 'CUR 1', '--label', 'Cur', '--currency', 'SGD', '--keep-token'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('currency:');
    expect(wrong.stderr).toContain('hips takes SEK, NOK, DKK, EUR, not SGD');
    const malformed = await fleet(['add', 'cab-cur', '--qr', 'QR-cur', '--plate', 'CUR 1', '--label', 'Cur', '--currency', 'kronor'], env);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('--currency takes an ISO 4217 code');
    expect((await fleet(['remove', 'cab-cur'], env)).code).toBe(0);
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

/**
 * What a tablet, a PSP or an operator put in the relay (an app version, a plate, a QR content, a
 * version a tablet runs) must never reach the operator's terminal as control sequences: title
 * changes, screen clears, hyperlinks, C1 controls, bidi overrides, forged table rows.
 */
describe('fleet CLI against a relay that answers hostile text', SPAWNS_TIMEOUT, () => {
  const TITLE = '\x1b]0;pwned\x07';
  const CLEAR = '\x1b[2J\x1b[H';
  const LINK = '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\';
  const C1 = '\u009b2J\u009d0;t\u009c';
  const BIDI = '\u202eevil\u202c\u2066x\u2069';
  const FORGED_ROW = 'AB 1\tonline\nfake-cab\tonline';
  /** Every character a terminal acts on, but the tabs and newlines the CLI itself prints. */
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  const hostile = `${TITLE}${CLEAR}${LINK}${C1}${BIDI}`;
  const cabs = {
    cabs: [
      {
        cabId: 'cab-h',
        online: true,
        plate: FORGED_ROW,
        label: hostile,
        psp: 'vipps',
        qrCodes: [TITLE],
        qrContent: LINK,
        lastSeenAt: '2026-11-21T10:00:00.000Z',
        appVersion: `1.0.0${hostile}`,
        rideState: 'idle',
        outboxDepth: 0,
        backlog: 0,
        targetVersion: C1,
        enabled: true,
      },
    ],
  };
  const rollout = {
    targetVersion: `2.0.0${TITLE}`,
    percent: 50,
    namedCabs: [BIDI],
    stableVersion: CLEAR,
    updatedAt: '2026-11-21T10:00:00.000Z',
    paused: false,
  };
  const answers: Record<string, { status: number; body: unknown }> = {
    'GET /admin/cabs': { status: 200, body: cabs },
    'GET /admin/releases': { status: 200, body: { releases: [{ version: `2.0.0${C1}`, dir: LINK, channels: [TITLE], publishedAt: BIDI }], rollout } },
    'GET /admin/rollout': {
      status: 200,
      body: {
        releases: [],
        rollout,
        pins: [{ cabId: 'cab-h', version: TITLE }],
        fleet: { cabs: 1, upToDate: 0, running: { [`1.0.0${hostile}`]: 1 }, offered: { [BIDI]: 1 } },
        log: [{ at: '2026-11-21T10:00:00.000Z', action: CLEAR, detail: { version: C1 } }],
      },
    },
    'DELETE /admin/cabs/cab-h': { status: 409, body: { error: { code: 'conflict', message: `cab ${FORGED_ROW} ${hostile}` } } },
  };
  let server: Server;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const answer = answers[`${req.method} ${req.url}`] ?? { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { RELAY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, RELAY_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('list shows every control character as a visible escape, one line per cab', async () => {
    const { code, stdout } = await fleet(['list'], env);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(stdout).toContain('AB 1\\x09online\\x0afake-cab');
    expect(stdout).toContain('app=1.0.0\\x1b]0;pwned\\x07\\x1b[2J');
    expect(stdout).toContain('\\x9b2J');
    expect(stdout).toContain('\\u202eevil\\u202c');
  });

  it('--json prints the same data, parseable, with nothing raw', async () => {
    const { code, stdout } = await fleet(['list', '--json'], env);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW);
    expect(JSON.parse(stdout)).toEqual(cabs);
  });

  it('release list and status escape the versions tablets report and the rollout log', async () => {
    for (const args of [
      ['release', 'list'],
      ['release', 'status'],
      ['release', 'status', '--json'],
    ]) {
      const { code, stdout, stderr } = await fleet(args, env);
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
      expect(stdout, args.join(' ')).not.toMatch(RAW);
    }
    const status = await fleet(['release', 'status'], env);
    expect(status.stdout).toContain('running: 1.0.0\\x1b]0;pwned\\x07');
    expect(JSON.parse((await fleet(['release', 'status', '--json'], env)).stdout)).toEqual(answers['GET /admin/rollout']!.body);
  });

  it('an error message from the relay is escaped too', async () => {
    const { code, stderr } = await fleet(['remove', 'cab-h'], env);
    expect(code).toBe(2);
    expect(stderr).toContain('409');
    expect(stderr).not.toMatch(RAW);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    const json = await fleet(['remove', 'cab-h', '--json'], env);
    expect(json.stderr).not.toMatch(RAW);
    expect(JSON.parse(json.stderr).error.message).toContain('409');
  });
});
