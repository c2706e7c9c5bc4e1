/** The release admin API and the feed over HTTP, against an in-process relay. */
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRelayApp } from '../../backend-relay/app.js';
import { createLogger } from '../../backend-relay/logger.js';
import { rolloutBucket } from '../../backend-relay/updates/rollout.js';
import { SOCKET_EVENTS } from '../../protocol/relay-protocol.js';
import { admin, connectTablet, until, waitForConnect } from '../relay/helpers.js';
import { addCabs, startRelayWithUpdates, writeRelease } from './fixtures.js';

type Relay = Awaited<ReturnType<typeof startRelayWithUpdates>>;
const relays: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.close();
});
async function relay(): Promise<Relay> {
  const r = await startRelayWithUpdates();
  relays.push(r.app);
  return r;
}

async function feedVersion(url: string, cabId: string, token: string): Promise<string | number> {
  const res = await fetch(`${url}/updates/${cabId}/latest-linux.yml`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) return res.status;
  return /^version: (.+)$/m.exec(await res.text())![1]!;
}

const ids = Array.from({ length: 300 }, (_, i) => `cab-${i}`);
const insideAt = (p: number) => ids.find((id) => rolloutBucket(id) < p)!;
const outsideAt = (p: number) => ids.find((id) => rolloutBucket(id) >= p)!;

describe('publishing releases', () => {
  it('publishes a checked folder once, and explains every refusal', async () => {
    const r = await relay();
    await writeRelease(r.updatesDir, '1.0.0');
    const ok = await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ version: '1.0.0', dir: '1.0.0', channels: ['latest-linux.yml', 'latest.yml'] });
    expect(ok.body.files.map((f: { name: string }) => f.name)).toContain('cabpay-1.0.0-x64.exe.blockmap');

    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' })).body.error.code).toBe('already_published');
    const missing = await admin(r.url, 'POST', '/admin/releases', { version: '2.0.0' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toMatch(/copy the electron-builder output/);

    // A damaged copy: the installer no longer matches the checksum in the feed.
    await writeRelease(r.updatesDir, '1.1.0');
    appendFileSync(path.join(r.updatesDir, '1.1.0', 'cabpay-1.1.0-x64.exe'), 'x');
    const damaged = await admin(r.url, 'POST', '/admin/releases', { version: '1.1.0' });
    expect(damaged.status).toBe(422);
    expect(damaged.body.error.message).toMatch(/cabpay-1.1.0-x64.exe is \d+ bytes but latest.yml says/);

    // electron-updater's own staging would stack a random gate on top of ours.
    await writeRelease(r.updatesDir, '1.2.0', { yamlExtra: 'stagingPercentage: 10\n' });
    const staged = await admin(r.url, 'POST', '/admin/releases', { version: '1.2.0' });
    expect(staged.body.error.message).toMatch(/remove stagingPercentage/);

    await writeRelease(r.updatesDir, '1.3.0', { dir: 'build-77' });
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.4.0', dir: 'build-77' })).body.error.message).toMatch(/for version 1.3.0, not 1.4.0/);
    expect((await admin(r.url, 'POST', '/admin/releases', { dir: 'build-77' })).body).toMatchObject({ version: '1.3.0', dir: 'build-77' });

    // Unsigned, or signed over other bytes: never published.
    await writeRelease(r.updatesDir, '1.5.0', { signWith: null });
    const unsigned = await admin(r.url, 'POST', '/admin/releases', { version: '1.5.0' });
    expect(unsigned.status).toBe(422);
    expect(unsigned.body.error.message).toMatch(
      /has no cabpay-release\.sig: releases must be signed with the fleet release key; sign the build where it is made: npm run fleet -- release sign/,
    );
    await writeRelease(r.updatesDir, '1.6.0');
    // The same size, other bytes, and named by no feed: only the signature notices.
    writeFileSync(path.join(r.updatesDir, '1.6.0', 'cabpay-1.6.0-x64.exe.blockmap'), randomBytes(900));
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.6.0' })).body.error.message).toMatch(/blockmap is not the file that was signed/);
    await writeRelease(r.updatesDir, '1.7.0');
    copyFileSync(path.join(r.updatesDir, '1.0.0', 'cabpay-release.sig'), path.join(r.updatesDir, '1.7.0', 'cabpay-release.sig'));
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.7.0' })).body.error.message).toMatch(/signs version 1\.0\.0 but the feeds say 1\.7\.0/);

    expect((await admin(r.url, 'POST', '/admin/releases', { dir: '../etc' })).status).toBe(400);
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.0' })).status).toBe(400);
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' }, 'wrong-token-0123456789')).status).toBe(401);

    const list = await admin(r.url, 'GET', '/admin/releases');
    expect(list.body.releases.map((x: { version: string }) => x.version)).toEqual(['1.0.0', '1.3.0']);
  });

  it('takes uploaded files into a version folder, refusing once it is published', async () => {
    const r = await relay();
    const src = await writeRelease(path.join(r.dir, 'release'), '2.0.0');
    for (const [name, data] of [
      ...src.files,
      ...['latest-linux.yml', 'latest.yml', 'cabpay-release.sig'].map((n) => [n, readFileSync(path.join(r.dir, 'release', '2.0.0', n))] as const),
    ]) {
      const res = await fetch(`${r.url}/admin/releases/2.0.0/files/${name}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/octet-stream' },
        body: data,
      });
      expect(res.status, name).toBe(201);
    }
    expect((await admin(r.url, 'POST', '/admin/releases', { version: '2.0.0' })).status).toBe(201);
    const late = await fetch(`${r.url}/admin/releases/2.0.0/files/extra.bin`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/octet-stream' },
      body: Buffer.from('late'),
    });
    expect(late.status).toBe(409);
    const sneaky = await fetch(`${r.url}/admin/releases/2.0.1/files/..%2Fx`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/octet-stream' },
      body: Buffer.from('x'),
    });
    expect(sneaky.status).toBe(400);
  });
});

describe('rollout over HTTP', () => {
  it('30% gets the new version, the rest the old; pause, resume, pin, promote, and no downgrade', async () => {
    const r = await relay();
    const a = insideAt(30);
    const b = outsideAt(30);
    const tokens = await addCabs(r.url, [a, b]);
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
      await writeRelease(r.updatesDir, v);
      expect((await admin(r.url, 'POST', '/admin/releases', { version: v })).status).toBe(201);
    }
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe(404); // nothing rolled out yet
    expect((await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 })).status).toBe(200);
    expect((await admin(r.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 30 })).status).toBe(200);
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.1.0');
    expect(await feedVersion(r.url, b, tokens.get(b)!)).toBe('1.0.0');

    await admin(r.url, 'POST', '/admin/rollout/pause');
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.0.0');
    await admin(r.url, 'POST', '/admin/rollout/resume');
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.1.0');

    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 30, cabs: [b] });
    expect(await feedVersion(r.url, b, tokens.get(b)!)).toBe('1.1.0');

    expect((await admin(r.url, 'PUT', `/admin/cabs/${a}/pin`, { version: '1.0.0' })).status).toBe(200);
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.0.0');
    expect((await admin(r.url, 'PUT', `/admin/cabs/${a}/pin`, { version: '9.9.9' })).status).toBe(404);
    expect((await admin(r.url, 'PUT', `/admin/cabs/nope/pin`, { version: '1.0.0' })).body.error.code).toBe('unknown_cab');
    expect((await admin(r.url, 'DELETE', `/admin/cabs/${a}/pin`)).status).toBe(200);
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.1.0');

    const down = await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    expect(down.status).toBe(409);
    expect(down.body.error.code).toBe('downgrade_refused');

    // Roll back by promoting a newer build: everyone moves to 1.2.0.
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.2.0', percent: 100 });
    expect(await feedVersion(r.url, a, tokens.get(a)!)).toBe('1.2.0');
    expect(await feedVersion(r.url, b, tokens.get(b)!)).toBe('1.2.0');

    const status = await admin(r.url, 'GET', '/admin/rollout');
    expect(status.body.log.map((l: { action: string }) => l.action).slice(0, 4)).toEqual(['rollout', 'unpin', 'pin', 'rollout']);
    expect((await admin(r.url, 'PUT', '/admin/rollout', { version: '1.2.0', percent: 101 })).status).toBe(400);
    expect((await admin(r.url, 'PUT', '/admin/rollout', { version: '7.0.0', percent: 5 })).status).toBe(404);
  });

  it('GET /admin/cabs shows the running version (tablet:status) next to the target', async () => {
    const r = await relay();
    const a = insideAt(50);
    const b = outsideAt(50);
    const tokens = await addCabs(r.url, [a, b]);
    for (const v of ['1.0.0', '1.1.0']) {
      await writeRelease(r.updatesDir, v);
      await admin(r.url, 'POST', '/admin/releases', { version: v });
    }
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.1.0', percent: 50 });
    const tablet = connectTablet(r.url, a, tokens.get(a)!);
    await waitForConnect(tablet);
    // The relay registers its tablet handlers after the connection's setup writes; a status sent
    // before that is dropped (reported), so send again until it is acked.
    await until(async () => {
      try {
        await tablet.socket.timeout(300).emitWithAck(SOCKET_EVENTS.tabletStatus, { appVersion: '1.0.0', rideState: 'idle', outboxDepth: 0 });
        return true;
      } catch {
        return false;
      }
    }, 'the status ack');
    await feedVersion(r.url, a, tokens.get(a)!);
    await until(async () => (await admin(r.url, 'GET', '/admin/cabs')).body.cabs.some((c: any) => c.appVersion === '1.0.0'), 'the status');
    const cabs = (await admin(r.url, 'GET', '/admin/cabs')).body.cabs as any[];
    const byId = new Map(cabs.map((c) => [c.cabId, c]));
    expect(byId.get(a)).toMatchObject({ appVersion: '1.0.0', targetVersion: '1.1.0', targetReason: 'in_percent', bucket: rolloutBucket(a) });
    expect(byId.get(a).lastUpdateCheckAt).toEqual(expect.any(String));
    expect(byId.get(b)).toMatchObject({ appVersion: null, targetVersion: '1.0.0', targetReason: 'outside_percent', lastUpdateCheckAt: null });
    const { fleet } = (await admin(r.url, 'GET', '/admin/rollout')).body;
    expect(fleet).toEqual({ cabs: 2, running: { '1.0.0': 1, unknown: 1 }, offered: { '1.0.0': 1, '1.1.0': 1 }, upToDate: 0 });
    tablet.close();
  });

  it('keeps releases, rollout and pins across a relay restart', async () => {
    const r = await startRelayWithUpdates();
    const a = insideAt(100);
    const tokens = await addCabs(r.url, [a]);
    await writeRelease(r.updatesDir, '3.0.0');
    await admin(r.url, 'POST', '/admin/releases', { version: '3.0.0' });
    await admin(r.url, 'PUT', '/admin/rollout', { version: '3.0.0', percent: 100 });
    await admin(r.url, 'PUT', `/admin/cabs/${a}/pin`, { version: '3.0.0' });
    await r.app.close();

    const again = await buildRelayApp(r.config, { logger: createLogger('silent') });
    relays.push(again);
    const url = await again.listen();
    expect(await feedVersion(url, a, tokens.get(a)!)).toBe('3.0.0');
    expect((await admin(url, 'GET', '/admin/rollout')).body).toMatchObject({
      rollout: { targetVersion: '3.0.0', percent: 100 },
      pins: [{ cabId: a, version: '3.0.0' }],
    });
    // A removed cab takes its pin with it.
    expect((await admin(url, 'DELETE', `/admin/cabs/${a}`)).status).toBe(200);
    expect((await admin(url, 'GET', '/admin/rollout')).body.pins).toEqual([]);
  });
});

describe('the feed', () => {
  it('serves byte ranges, single and multipart, as electron-updater’s differential download asks', async () => {
    const r = await relay();
    const a = insideAt(100);
    const token = (await addCabs(r.url, [a])).get(a)!;
    const rel = await writeRelease(r.updatesDir, '1.0.0');
    await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' });
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    const name = 'cabpay-1.0.0-x64.exe';
    const data = rel.files.get(name)!;
    const get = (range?: string) => fetch(`${r.url}/updates/${a}/${name}`, { headers: { authorization: `Bearer ${token}`, ...(range ? { range } : {}) } });

    const whole = await get();
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);

    const one = await get('bytes=10-19');
    expect(one.status).toBe(206);
    expect(one.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`);
    expect(Buffer.from(await one.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);

    const many = await get('bytes=0-3, 100-199, 5000-5001');
    expect(many.status).toBe(206);
    const boundary = /boundary=(\S+)/.exec(many.headers.get('content-type') ?? '')![1]!;
    const body = Buffer.from(await many.arrayBuffer()).toString('latin1');
    const parts = body
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((p) => p.replace(/^\r\n/, '').replace(/\r\n$/, ''));
    expect(parts).toHaveLength(3);
    const expected = [
      [0, 4],
      [100, 200],
      [5000, 5002],
    ] as const;
    parts.forEach((p, i) => {
      const [head, content] = [p.slice(0, p.indexOf('\r\n\r\n')), p.slice(p.indexOf('\r\n\r\n') + 4)];
      expect(head).toContain(`Content-Range: bytes ${expected[i]![0]}-${expected[i]![1] - 1}/${data.length}`);
      expect(Buffer.from(content, 'latin1').equals(data.subarray(...expected[i]!))).toBe(true);
    });
    expect(Number(many.headers.get('content-length'))).toBe(Buffer.byteLength(body, 'latin1'));

    expect((await get(`bytes=${data.length + 5}-`)).status).toBe(416);
  });

  it('sends a file at most once however many overlapping ranges are asked for', async () => {
    const r = await relay();
    const a = insideAt(100);
    const token = (await addCabs(r.url, [a])).get(a)!;
    const rel = await writeRelease(r.updatesDir, '1.0.0');
    await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' });
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    const name = 'cabpay-1.0.0-x64.exe';
    const data = rel.files.get(name)!;
    const get = (range: string) => fetch(`${r.url}/updates/${a}/${name}`, { headers: { authorization: `Bearer ${token}`, range } });

    // A thousand copies of the whole file, in a request of a few KB: the file once, as one range.
    const amplified = await get(`bytes=${Array.from({ length: 1000 }, () => '0-').join(',')}`);
    expect(amplified.status).toBe(206);
    expect(amplified.headers.get('content-range')).toBe(`bytes 0-${data.length - 1}/${data.length}`);
    expect(Buffer.from(await amplified.arrayBuffer()).equals(data)).toBe(true);

    // Overlapping and out of order: merged into ascending disjoint parts.
    const merged = await get('bytes=100-199, 0-9, 150-299, 5-20');
    const boundary = /boundary=(\S+)/.exec(merged.headers.get('content-type') ?? '')![1]!;
    const body = Buffer.from(await merged.arrayBuffer());
    expect(body.length).toBeLessThan(300 + 2 * 200);
    const heads = body
      .toString('latin1')
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((p) => /Content-Range: ([^\r]+)/.exec(p)![1]);
    expect(heads).toEqual([`bytes 0-20/${data.length}`, `bytes 100-299/${data.length}`]);
  });

  it('serves only published files, refuses paths and changed folders, and says when updates are off', async () => {
    const r = await relay();
    const a = insideAt(100);
    const token = (await addCabs(r.url, [a])).get(a)!;
    await writeRelease(r.updatesDir, '1.0.0');
    writeFileSync(path.join(r.updatesDir, '1.0.0', 'builder-effective-config.yaml'), 'not for tablets');
    await admin(r.url, 'POST', '/admin/releases', { version: '1.0.0' });
    await admin(r.url, 'PUT', '/admin/rollout', { version: '1.0.0', percent: 100 });
    const get = (file: string) => fetch(`${r.url}/updates/${a}/${file}`, { headers: { authorization: `Bearer ${token}` } });
    writeFileSync(path.join(r.updatesDir, '1.0.0', 'added-later.bin'), 'x');
    expect((await get('added-later.bin')).status).toBe(404);
    expect((await get('builder-effective-config.yaml')).status).toBe(404);
    expect((await get('..%2Frelay.db')).status).toBe(400);
    expect((await get('.hidden')).status).toBe(400);
    appendFileSync(path.join(r.updatesDir, '1.0.0', 'cabpay-1.0.0-amd64.deb'), 'tampered');
    const changed = await get('cabpay-1.0.0-amd64.deb');
    expect(changed.status).toBe(503);
    expect(((await changed.json()) as any).error.code).toBe('release_changed');

    const off = await buildRelayApp({ ...r.config, updatesDir: undefined, dbPath: path.join(r.dir, 'other.db') }, { logger: createLogger('silent') });
    relays.push(off);
    const offUrl = await off.listen();
    const offToken = (await addCabs(offUrl, [a])).get(a)!;
    const res = await fetch(`${offUrl}/updates/${a}/latest-linux.yml`, { headers: { authorization: `Bearer ${offToken}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toMatch(/set RELAY_UPDATES_DIR/);
  });
});
