/** The shipped systemd unit: restarts the relay whatever its exit, hardened, and in step with the bundle and the config. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_BUNDLES } from '../../build/node-bundle.js';
import { REPO_ROOT } from './helpers.js';

const UNIT = path.join(REPO_ROOT, 'deploy/systemd/cabpay-relay.service');

/** `key=value` lines by section; repeated keys keep every value. */
function parseUnit(text: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    const key = `${section}.${line.slice(0, eq)}`;
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1)]);
  }
  return values;
}

describe('deploy/systemd/cabpay-relay.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const one = (key: string) => unit.get(key)?.at(-1);
  const environment = new Map((unit.get('Service.Environment') ?? []).map((kv) => kv.split('=', 2) as [string, string]));

  it('restarts the relay after any exit, for good, and stops it with SIGTERM (graceful)', () => {
    expect(one('Service.Restart')).toBe('always');
    expect(one('Unit.StartLimitIntervalSec')).toBe('0');
    expect(one('Service.KillSignal')).toBe('SIGTERM');
  });

  it('is hardened: no new privileges, a read-only system, a private /tmp, writes only to its data folder', () => {
    expect(one('Service.NoNewPrivileges')).toBe('yes');
    expect(one('Service.ProtectSystem')).toBe('strict');
    expect(one('Service.PrivateTmp')).toBe('yes');
    expect(one('Service.CapabilityBoundingSet')).toBe('');
    const writable = unit.get('Service.ReadWritePaths') ?? [];
    expect(writable).toEqual(['/var/lib/cabpay-relay']);
    for (const variable of ['RELAY_DB', 'RELAY_UPDATES_DIR']) {
      expect(environment.get(variable)?.startsWith('/var/lib/cabpay-relay/'), variable).toBe(true);
    }
  });

  it('runs the relay bundle in production mode, with secrets from an EnvironmentFile', () => {
    expect(one('Service.ExecStart')).toBe(`/usr/bin/node ${path.posix.join(one('Service.WorkingDirectory')!, NODE_BUNDLES.relay.outfile)}`);
    expect(environment.get('NODE_ENV')).toBe('production'); // refuses RELAY_DEBUG_WRITER_EXIT_ON
    expect(one('Service.EnvironmentFile')).toBe('/etc/cabpay/relay.env');
  });

  it.runIf(existsSync('/usr/bin/systemd-analyze'))('passes systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });
});
